package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeInstall installs the binary and the systemd unit with `make
// install PREFIX=... DESTDIR=...` and checks the unit: started after the
// network is online, restarted on failure with a delay, running `sztp run`
// from the installed binary; systemd-analyze verifies it when present.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("needs make")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix")
	destdir := filepath.Join(dir, "dest")
	bin := filepath.Join(dir, "sztp")
	for _, tc := range []struct{ name, destdir string }{{"DESTDIR", destdir}, {"PREFIX only", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			runCmd(t, ctx, repoRoot(t), "make", "install", "BIN="+bin, "PREFIX="+prefix, "DESTDIR="+tc.destdir)
			root := tc.destdir + prefix
			if fi, err := os.Stat(filepath.Join(root, "bin", "sztp")); err != nil || fi.Mode().Perm() != 0o755 {
				t.Fatalf("installed binary: %v (mode %v)", err, fi)
			}
			unitPath := filepath.Join(root, "lib", "systemd", "system", "sztp.service")
			data, err := os.ReadFile(unitPath)
			if err != nil {
				t.Fatal(err)
			}
			unit := string(data)
			for _, want := range []string{
				"ExecStart=" + prefix + "/bin/sztp run",
				"Wants=network-online.target", "After=network-online.target",
				"Restart=on-failure", "RestartSec=30s",
				"StateDirectory=sztp", "WantedBy=multi-user.target",
			} {
				if !strings.Contains(unit, "\n"+want) {
					t.Errorf("%s lacks the line %q", unitPath, want)
				}
			}
			if strings.Contains(unit, "@BINDIR@") {
				t.Errorf("%s still has the @BINDIR@ placeholder", unitPath)
			}
			if tc.destdir != "" {
				return
			}
			// Without DESTDIR the ExecStart binary exists, so systemd can
			// check the whole unit.
			if _, err := exec.LookPath("systemd-analyze"); err != nil {
				t.Log("systemd-analyze not found; unit not verified by systemd")
				return
			}
			out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", unitPath).CombinedOutput()
			if err != nil {
				t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
			}
		})
	}
}
