package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether integration tests must run.
func Required() bool { return os.Getenv("SZTP_REQUIRE_INTEGRATION") == "1" }

// Unavailable skips or fails t because what is missing.
func Unavailable(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("integration test needs %s, and SZTP_REQUIRE_INTEGRATION=1 forbids skipping", what)
	}
	t.Skipf("skipping: needs %s (set SZTP_REQUIRE_INTEGRATION=1 to make this a failure)", what)
}

// NeedCommands skips or fails t unless every command is on PATH.
func NeedCommands(t testing.TB, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			Unavailable(t, "the command "+c)
		}
	}
}

// NeedRoot skips or fails t unless it runs as root. In -short mode it
// skips t: a test that needs root makes network namespaces, loop devices
// or mounts, and -short (make unit, and make test-arm64, whose emulated
// processes must fork as little as possible) leaves those out.
func NeedRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short mode: needs root (network namespaces, loop devices, mounts)")
	}
	if os.Geteuid() != 0 {
		Unavailable(t, "root")
	}
}
