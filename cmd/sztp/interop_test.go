package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/testenv"
)

// interopPKI writes a PKI whose server certificate comes from an
// intermediate CA, so that --server-trust-anchor must be a bundle.
func interopPKI(t *testing.T, dir string) map[string]string {
	t.Helper()
	p, err := sztptest.NewPKI("INTEROP-0042")
	if err != nil {
		t.Fatal(err)
	}
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := sztptest.NewCA("interop server intermediate", p.ServerCA)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sztptest.NewServerCert(inter, "localhost", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files[name] = path
	}
	write("bundle.pem", append(p.ServerCA.CertPEM(), inter.CertPEM()...)) // root plus intermediate
	cms, err := sztptest.CertsOnly(p.ServerCA.Cert, inter.Cert)
	if err != nil {
		t.Fatal(err)
	}
	write("bundle.p7b", cms) // the same as a certs-only CMS (DER)
	write("interop-server.pem", srv.CertPEM())
	write("interop-server.key", srv.KeyPEM())
	write("password", []byte("interop-secret\n"))
	write("image.bin", []byte("InteropOS 9.9 image bytes\n"))
	return files
}

// startInterop runs the independent Python bootstrap server and returns
// its port and report log.
func startInterop(t *testing.T, dir string, files map[string]string) (string, string) {
	t.Helper()
	testenv.NeedCommands(t, "python3")
	portFile := filepath.Join(dir, "port")
	reportLog := filepath.Join(dir, "reports.jsonl")
	cmd := exec.Command("python3", "testdata/interop/sztp_server.py",
		"--cert", files["interop-server.pem"], "--key", files["interop-server.key"],
		"--client-ca", files["device-ca.pem"], "--password-file", files["password"],
		"--image", files["image.bin"], "--port-file", portFile, "--report-log", reportLog)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		testenv.Unavailable(t, "python3 to run the interop server: "+err.Error())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, err := os.ReadFile(portFile)
		if err == nil && len(data) > 0 {
			return strings.TrimSpace(string(data)), reportLog
		}
		if time.Now().After(deadline) {
			t.Fatal("interop server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Issue 2 acceptance: `sztp run --once` with exactly the documented flags
// bootstraps against an RFC 8572 server this project did not write; the
// server trust anchor is a PEM bundle (root plus intermediate) or the same
// chain as a certs-only CMS.
func TestInteropPythonServer(t *testing.T) {
	dir := t.TempDir()
	files := interopPKI(t, dir)
	port, reportLog := startInterop(t, dir, files)
	for _, anchor := range []string{"bundle.pem", "bundle.p7b"} {
		t.Run(anchor, func(t *testing.T) {
			os.Remove(reportLog)
			interopRun(t, files, port, reportLog, files[anchor])
		})
	}
}

func interopRun(t *testing.T, files map[string]string, port, reportLog, anchor string) {
	dir := t.TempDir()
	img, cfg, stateDir := filepath.Join(dir, "IMG"), filepath.Join(dir, "CFG"), filepath.Join(dir, "D")
	out, errOut, code := runSztp(t, "run", "--once",
		"--bootstrap-url", "https://127.0.0.1:"+port,
		"--server-trust-anchor", anchor,
		"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"],
		"--password-file", files["password"], "--state-dir", stateDir,
		"--image-hook", "file:"+img, "--config-hook", "file:"+cfg,
		// Test isolation only: no host config file or kernel command line.
		"--config", "", "--cmdline-file", "", "--os-release", "")
	if code != 0 {
		t.Fatalf("sztp run exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if got, _ := os.ReadFile(img); string(got) != "InteropOS 9.9 image bytes\n" {
		t.Errorf("image hook wrote %q", got)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "hostname interop-device\n" {
		t.Errorf("config hook wrote %q", got)
	}
	f, err := os.Open(reportLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var types []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Serial string `json:"serial"`
			Type   string `json:"progress-type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Serial != "INTEROP-0042" {
			t.Errorf("report from serial %q", r.Serial)
		}
		types = append(types, r.Type)
	}
	if len(types) < 2 || types[0] != "bootstrap-initiated" || types[len(types)-1] != "bootstrap-complete" {
		t.Errorf("reports %v, want bootstrap-initiated ... bootstrap-complete", types)
	}
	for _, want := range []string{"boot-image-complete", "pre-script-complete", "config-complete", "post-script-complete"} {
		if !slices.Contains(types, want) {
			t.Errorf("verbose report %s missing from %v", want, types)
		}
	}
	// Run-once: a second run exits 0 without contacting the server.
	n := len(types)
	if _, _, code := runSztp(t, "run", "--once", "--bootstrap-url", "https://127.0.0.1:"+port,
		"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"], "--state-dir", stateDir,
		"--config", "", "--cmdline-file", ""); code != 0 {
		t.Errorf("second run exited %d", code)
	}
	data, _ := os.ReadFile(reportLog)
	if c := strings.Count(string(data), "\n"); c != n {
		t.Errorf("second run sent %d more reports", c-n)
	}
}
