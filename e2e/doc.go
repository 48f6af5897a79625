// Package e2e holds the end-to-end tests that prove sztp where it runs: a
// u-root initramfs booted by QEMU, getting its bootstrap server from DHCP
// option 143 (dnsmasq on a tap device in a network namespace the test
// creates), authenticating with an IDevID held in swtpm (the guest's vTPM),
// and kexec'ing into the kernel + initrd bundle it is given. The arm64 test
// (arm64_test.go) boots Debian's arm64 kernel on qemu-system-aarch64's virt
// machine (TCG) through the single-boot scenario.
//
// The tests need root, /dev/net/tun, qemu-system-x86_64 and
// qemu-system-aarch64, swtpm, tpm2-tools,
// dnsmasq, openssl and apt (for e2e/fetch-kernel). Without them they skip,
// unless SZTP_REQUIRE_INTEGRATION=1, where they fail. They are skipped with
// -short. `make e2e` runs them verbosely.
//
// Helpers: fetch-kernel (Debian's kernel and e1000 module into e2e/work;
// `fetch-kernel arm64`: the arm64 kernel and its virtio-net modules),
// build-initramfs (the u-root image), cmd/sztp-e2e-server (the host side),
// cmd/e2e-probe (the guest side of the harness self-test).
package e2e
