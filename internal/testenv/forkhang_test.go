package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/arm64-fork-hangs picks, from a real `go test` log, the packages
// that failed only because qemu-user deadlocked a forked child (make
// test-arm64 runs those once more), and nothing else: an assertion, a
// build failure or a timeout anywhere but in syscall.forkExec fails the
// run. The logs under testdata/arm64-fork-hangs are go test's own output
// (the fork deadlock caught under qemu-aarch64); NAME.want lists the
// packages expected, one per line.
func TestArm64ForkHangs(t *testing.T) {
	NeedCommands(t, "bash", "awk")
	logs, err := filepath.Glob("testdata/arm64-fork-hangs/*.log")
	if err != nil || len(logs) < 3 {
		t.Fatalf("want at least 3 logs in testdata/arm64-fork-hangs, got %d (%v)", len(logs), err)
	}
	sawHang := false
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".log")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("bash", "../../scripts/arm64-fork-hangs", log).CombinedOutput()
			if err != nil {
				t.Fatalf("arm64-fork-hangs: %v: %s", err, out)
			}
			if string(out) != string(want) {
				t.Errorf("packages:\n%s\nwant:\n%s", out, want)
			}
			if len(want) > 0 {
				sawHang = true
			}
		})
	}
	if !sawHang {
		t.Error("no log in testdata/arm64-fork-hangs has a fork deadlock to find")
	}
}
