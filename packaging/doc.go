// Package packaging holds what installs sztp on an edge server: the systemd
// unit (systemd/sztp.service.in) and the Debian package's parts (deb/). It
// has no Go code; its test builds the .deb with scripts/build-deb, checks it
// with lintian and runs `sztp version` from the extracted package.
package packaging
