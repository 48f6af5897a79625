package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sztp/sztp/internal/testenv"
)

// Issue 14 item 4: git describe output becomes a valid Debian version that
// sorts as releases do.
func TestDebVersion(t *testing.T) {
	testenv.NeedCommands(t, "dpkg")
	for _, tc := range []struct{ describe, want string }{
		{"v1.2.3", "1.2.3"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.abc1234"},
		{"v0.1-3-gabc1234-dirty", "0.1+git3.abc1234+dirty"},
		{"fb0647e", "0~git20261206.fb0647e"},
		{"5de88a3-dirty", "0~git20261206.5de88a3+dirty"}, // a hash that starts with a digit
		{"dev", "0~dev"},
	} {
		out, err := exec.Command("../scripts/deb-version", tc.describe, "20261206").Output()
		got := strings.TrimSpace(string(out))
		if err != nil || got != tc.want {
			t.Errorf("deb-version %s = %q (%v), want %q", tc.describe, got, err, tc.want)
		}
		if out, err := exec.Command("dpkg", "--validate-version", got).CombinedOutput(); err != nil {
			t.Errorf("%q is not a Debian version: %s", got, out)
		}
	}
	for _, pair := range [][2]string{{"0~git20261206.fb0647e", "0.1"}, {"0.1", "0.1+git3.abc1234"}, {"0.1+git3.abc1234", "0.2"}} {
		if err := exec.Command("dpkg", "--compare-versions", pair[0], "lt", pair[1]).Run(); err != nil {
			t.Errorf("%s does not sort before %s", pair[0], pair[1])
		}
	}
}

// make deb's package for this machine's architecture: the files an edge
// server needs, /etc/sztp/config.yaml a conffile, no lintian error, and the
// extracted binary runs.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent and a .deb")
	}
	testenv.NeedCommands(t, "dpkg-deb", "dpkg", "gzip", "md5sum", "lintian")
	tmp := t.TempDir()
	version := "0~test.1"
	bin := filepath.Join(tmp, "sztp")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -X main.version="+version, "-o", bin, "./cmd/sztp")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mk := exec.Command("scripts/build-deb", runtime.GOARCH, version, bin, filepath.Join(tmp, "out"))
	mk.Dir = ".."
	out, err := mk.CombinedOutput()
	if err != nil {
		t.Fatalf("build-deb: %v\n%s", err, out)
	}
	deb := filepath.Join(tmp, "out", "sztp_"+version+"_"+runtime.GOARCH+".deb")
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("build-deb printed %q: %v", out, err)
	}

	root := filepath.Join(tmp, "root")
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	for _, f := range []string{
		"usr/bin/sztp", "lib/systemd/system/sztp.service", "etc/sztp/config.yaml",
		"usr/share/man/man1/sztp.1.gz", "usr/share/man/man1/sztp-run.1.gz", "usr/share/man/man1/sztp-tpm-info.1.gz",
		"usr/share/bash-completion/completions/sztp", "usr/share/doc/sztp/copyright", "usr/share/doc/sztp/changelog.gz",
	} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("package lacks /%s", f)
		}
	}
	if unit, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/sztp.service")); !bytes.Contains(unit, []byte("ExecStart=/usr/bin/sztp run")) {
		t.Errorf("sztp.service does not start /usr/bin/sztp:\n%s", unit)
	}
	got, err := exec.Command(filepath.Join(root, "usr/bin/sztp"), "version").Output()
	if err != nil || !strings.HasPrefix(string(got), "sztp "+version+" ") {
		t.Errorf("sztp version from the package: %q, %v", got, err)
	}
	conffiles, err := exec.Command("dpkg-deb", "--ctrl-tarfile", deb).Output()
	if err != nil || !bytes.Contains(conffiles, []byte("/etc/sztp/config.yaml\n")) {
		t.Errorf("conffiles does not name /etc/sztp/config.yaml (%v)", err)
	}
	for field, want := range map[string]string{"Package": "sztp", "Version": version, "Architecture": runtime.GOARCH} {
		if v, _ := exec.Command("dpkg-deb", "-f", deb, field).Output(); strings.TrimSpace(string(v)) != want {
			t.Errorf("control %s = %q, want %q", field, v, want)
		}
	}

	lint := exec.Command("lintian", deb)
	lo, err := lint.CombinedOutput()
	for _, l := range strings.Split(string(lo), "\n") {
		if strings.HasPrefix(l, "E: ") {
			t.Errorf("lintian: %s", l)
		}
	}
	if err != nil && !bytes.Contains(lo, []byte("E: ")) {
		t.Errorf("lintian failed: %v\n%s", err, lo)
	}
	t.Logf("lintian:\n%s", lo)
}
