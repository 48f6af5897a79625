package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/state"
)

// Issue 6 items 5 and 6, C75: an image hook that needs a reboot
// ("file:PATH,reboot", with --dry-run so the host stays up) makes the agent
// report boot-image-installed-rebooting and record what must run next; the
// run after the "reboot", now on the new OS, skips the image and completes.
func TestRunRebootAndResume(t *testing.T) {
	d := newTestDevice(t, "RB-1")
	dir, p, files, s := d.dir, d.pki, d.files, d.server
	fs, err := sztptest.NewFileServer(p.Server.TLS())
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	image := []byte("NewOS 2 image\n")
	sum := sha256.Sum256(image)
	s.SetResponse("RB-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{OSName: "NewOS", OSVersion: "2", DownloadURIs: []string{fs.Add("img", image)},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: sum[:]}}},
		ConfigurationHandling: conveyed.Merge, Configuration: []byte("{}"),
	}}})
	img, cfg, st := filepath.Join(dir, "disk.img"), filepath.Join(dir, "config.json"), filepath.Join(dir, "state")
	run := func(osVersion string) (string, int) {
		out, errOut, code := runSztp(t, "run", "--once", "--bootstrap-url", s.URL, "--server-trust-anchor", files["ca.pem"],
			"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"], "--state-dir", st,
			"--image-hook", "file:"+img+",reboot", "--dry-run", "--config-hook", "file:"+cfg,
			"--os-name", "NewOS", "--os-version", osVersion, "--config", "", "--cmdline-file", "")
		if code != 0 {
			t.Logf("stderr: %s", errOut)
		}
		return out, code
	}
	if out, code := run("1"); code != 0 || out != "rebooting\n" {
		t.Fatalf("first run: exit %d, output %q", code, out)
	}
	if got, want := s.ProgressTypes(), []conveyed.ProgressType{conveyed.BootstrapInitiated, conveyed.BootImageInstalledRebooting}; !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if data, _ := os.ReadFile(img); string(data) != string(image) {
		t.Errorf("image not installed: %q", data)
	}
	r := readStatusT(t, st)
	if r.PendingReboot == nil || r.PendingReboot.OSVersion != "2" || r.Bootstrapped {
		t.Errorf("state after install: %+v", r)
	}
	// After the reboot the device runs NewOS 2.
	if out, code := run("2"); code != 0 || out != "success\n" {
		t.Fatalf("second run: exit %d, output %q", code, out)
	}
	got := s.ProgressTypes()
	if got[len(got)-1] != conveyed.BootstrapComplete || slices.Contains(got[2:], conveyed.BootImageInstalledRebooting) {
		t.Errorf("reports %v", got)
	}
	if r := readStatusT(t, st); r.PendingReboot != nil || !r.Bootstrapped {
		t.Errorf("state after completion: %+v", r)
	}
}

func readStatusT(t *testing.T, dir string) *statusReport {
	t.Helper()
	st, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := readStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
