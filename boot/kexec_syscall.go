//go:build linux && (amd64 || arm64 || riscv64 || arm || loong64 || s390x || ppc64 || ppc64le)

package boot

import "golang.org/x/sys/unix"

// sysKexecFileLoad is kexec_file_load(2); tests replace it.
var sysKexecFileLoad = unix.KexecFileLoad
