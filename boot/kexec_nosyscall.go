//go:build linux && !(amd64 || arm64 || riscv64 || arm || loong64 || s390x || ppc64 || ppc64le)

package boot

import "errors"

// sysKexecFileLoad: this architecture has no kexec_file_load(2).
var sysKexecFileLoad = func(kernelFd, initrdFd int, cmdline string, flags int) error {
	return errors.New("kexec_file_load is not available on this architecture")
}
