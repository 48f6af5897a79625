package boot

import (
	"errors"
	"os"
	"testing"
)

// TestMain makes sure no test can reboot or kexec the machine running it:
// the system calls fail unless a test swaps in its own fake.
func TestMain(m *testing.M) {
	sysReboot = func(int) error { return errors.New("test: reboot(2) blocked") }
	sysKexecFileLoad = func(int, int, string, int) error { return errors.New("test: kexec_file_load blocked") }
	os.Exit(m.Run())
}
