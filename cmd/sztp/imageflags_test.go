package main

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// TestHardening10_4_RunMaxImageSize: `sztp run` bounds image downloads,
// and the bound is a device setting like any other run flag: here
// sztp.max-image-size= on the kernel command line makes a 14-byte image too
// large, the download-uri fails and the image step reports
// boot-image-error. Before the fix run had no size limit at all.
func TestHardening10_4_RunMaxImageSize(t *testing.T) {
	d := newTestDevice(t, "MX-1")
	dir, p, files, s := d.dir, d.pki, d.files, d.server
	fs, err := sztptest.NewFileServer(p.Server.TLS())
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	image := []byte("NewOS 2 image\n")
	sum := sha256.Sum256(image)
	s.SetResponse("MX-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{OSName: "NewOS", OSVersion: "2", DownloadURIs: []string{fs.Add("img", image)},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: sum[:]}}},
	}}})
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("ro quiet sztp.max-image-size=10\n"), 0o600)
	img := filepath.Join(dir, "disk.img")
	_, errOut, code := runSztp(t, "run", "--once", "--bootstrap-url", s.URL, "--server-trust-anchor", files["ca.pem"],
		"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"], "--state-dir", filepath.Join(dir, "state"),
		"--image-hook", "file:"+img, "--dry-run", "--os-name", "NewOS", "--os-version", "1",
		"--config", "", "--cmdline-file", cmdline)
	if code != 1 || !strings.Contains(errOut, "image larger than the size limit") {
		t.Fatalf("exit %d, want 1 with the size limit named; stderr:\n%s", code, errOut)
	}
	if !slices.Contains(s.ProgressTypes(), conveyed.BootImageError) {
		t.Errorf("reports %v, want boot-image-error", s.ProgressTypes())
	}
	if _, err := os.Stat(img); err == nil {
		t.Error("the image was installed")
	}
}

// TestImageFlagsValidate: negative bounds are usage errors; 0 turns a
// bound off.
func TestImageFlagsValidate(t *testing.T) {
	data := []byte(strings.Repeat("x", 100))
	sum := sha256.Sum256(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer srv.Close()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"negative size", []string{"--max-image-size", "-1"}, 2},
		{"negative rate", []string{"--image-min-rate", "-1"}, 2},
		{"size below the image", []string{"--max-image-size", "10"}, 1},
		{"old flag name", []string{"--max-size", "10"}, 1},
		{"size above the image", []string{"--max-image-size", "100"}, 0},
		{"no limit, no floor", []string{"--max-image-size", "0", "--image-min-rate", "0"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"image", "fetch", "--progress", "none", "--output", filepath.Join(dir, tc.name),
				"--hash", fmt.Sprintf("%x", sum)}, tc.args...)
			args = append(args, srv.URL+"/img")
			if code := run(args); code != tc.want {
				t.Fatalf("exit %d, want %d", code, tc.want)
			}
		})
	}
}
