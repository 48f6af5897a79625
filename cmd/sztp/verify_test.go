package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// execute runs the sztp command line in-process and returns the exit code
// and standard output.
func execute(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return exitCode(err), out.String()
}

type manifestEntry struct {
	Name     string `json:"name"`
	Nonce    string `json:"nonce"`
	Key      string `json:"key"`
	WantStep string `json:"want-step"`
}

// TestVerifyOpensslFixtures is the acceptance test of issue 3: sztp verify
// exits 0 on the artifacts made by the openssl command line alone, and 1
// with the failing step named for each single-fault variant (C23-C38).
func TestVerifyOpensslFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "openssl")
	b, err := os.ReadFile(filepath.Join(dir, "artifacts", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	serial, err := os.ReadFile(filepath.Join(dir, "serial-number"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			set := filepath.Join(dir, "artifacts", e.Name)
			args := []string{"verify", "--json", "--clock", "trusted",
				"--conveyed-information", filepath.Join(set, "conveyed-information.cms"),
				"--voucher-trust-anchor", filepath.Join(dir, "manufacturer-ca.pem"),
				"--idevid-cert", filepath.Join(dir, "idevid.pem"),
				"--serial-number", strings.TrimSpace(string(serial))}
			if _, err := os.Stat(filepath.Join(set, "ownership-voucher.cms")); err == nil {
				args = append(args, "--owner-certificate", filepath.Join(set, "owner-certificate.cms"),
					"--ownership-voucher", filepath.Join(set, "ownership-voucher.cms"))
			}
			if e.Nonce != "" {
				args = append(args, "--nonce", e.Nonce)
			}
			switch e.Key {
			case "rsa":
				args = append(args, "--decryption-key", filepath.Join(dir, "device-rsa.key"))
			case "ec":
				args = append(args, "--decryption-key", filepath.Join(dir, "idevid.key"))
			}
			code, out := execute(t, args...)
			var got struct {
				Valid           bool            `json:"valid"`
				Step            string          `json:"step"`
				Error           string          `json:"error"`
				InformationType string          `json:"information-type"`
				Signed          bool            `json:"signed"`
				Encrypted       bool            `json:"encrypted"`
				Conveyed        json.RawMessage `json:"conveyed-information"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not one JSON object: %v\n%s", err, out)
			}
			if e.WantStep == "" {
				if code != 0 || !got.Valid {
					t.Fatalf("exit %d, valid %v (%s: %s), want exit 0", code, got.Valid, got.Step, got.Error)
				}
				if got.InformationType == "" || len(got.Conveyed) == 0 {
					t.Errorf("valid output lacks information-type or conveyed-information: %s", out)
				}
				if got.Encrypted != (e.Key != "") {
					t.Errorf("encrypted = %v, want %v", got.Encrypted, e.Key != "")
				}
				return
			}
			if code != 1 || got.Valid {
				t.Fatalf("exit %d, valid %v, want exit 1 at step %s", code, got.Valid, e.WantStep)
			}
			if got.Step != e.WantStep || got.Error == "" {
				t.Fatalf("step %q (%s), want %q", got.Step, got.Error, e.WantStep)
			}
		})
	}
}

// TestVerifyUsage checks exit status 2 for bad command lines.
func TestVerifyUsage(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "openssl")
	ci := filepath.Join(dir, "artifacts", "signed-json", "conveyed-information.cms")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no conveyed information", []string{"verify"}},
		{"voucher without owner certificate", []string{"verify", "--conveyed-information", ci, "--ownership-voucher", ci}},
		{"signed without anchors", []string{"verify", "--conveyed-information", ci, "--ownership-voucher", ci, "--owner-certificate", ci, "--serial-number", "x"}},
		{"bad nonce", []string{"verify", "--conveyed-information", ci, "--nonce", "zz"}},
		{"bad clock", []string{"verify", "--conveyed-information", ci, "--clock", "sometimes"}},
		{"missing file", []string{"verify", "--conveyed-information", filepath.Join(dir, "nope.cms")}},
		{"unknown flag", []string{"verify", "--conveyed-information", ci, "--bogus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := execute(t, tc.args...); code != exitUsage {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
		})
	}
}

// TestVerifyClockUntrusted checks that skipping expiry checks is never
// silent (RFC 8572 9.1, C104): an expired voucher verifies, and the output
// says the clock checks were skipped.
func TestVerifyClockUntrusted(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "openssl")
	set := filepath.Join(dir, "artifacts", "bad-voucher-expired")
	args := []string{"verify", "--clock", "untrusted",
		"--conveyed-information", filepath.Join(set, "conveyed-information.cms"),
		"--owner-certificate", filepath.Join(set, "owner-certificate.cms"),
		"--ownership-voucher", filepath.Join(set, "ownership-voucher.cms"),
		"--voucher-trust-anchor", filepath.Join(dir, "manufacturer-ca.pem"),
		"--serial-number", "SN-OPENSSL-0001"}
	code, out := execute(t, args...)
	if code != 0 || !strings.Contains(out, "NOT checked") {
		t.Fatalf("exit %d, want 0 with the skipped checks named:\n%s", code, out)
	}
	code, out = execute(t, append(args, "--json")...)
	if code != 0 || !strings.Contains(out, `"clock-checks-skipped": true`) {
		t.Fatalf("exit %d, want 0 with clock-checks-skipped true:\n%s", code, out)
	}
}

// TestVerifyGoMatrix runs sztp verify over the Go-generated matrix in
// testdata/artifacts (cases that need a moved clock are left to the trust
// package tests).
func TestVerifyGoMatrix(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	b, err := os.ReadFile(filepath.Join(root, "artifacts", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Name       string   `json:"name"`
		Serial     string   `json:"serial"`
		Nonce      string   `json:"nonce"`
		Now        string   `json:"now"`
		Clock      string   `json:"clock"`
		Assertions []string `json:"assertions"`
		Key        string   `json:"key"`
		NoIDevID   bool     `json:"no-idevid"`
		WantStep   string   `json:"want-step"`
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"ec": "idevid.key", "rsa": "device-rsa.key", "p384": "device-p384.key"}
	ran := 0
	for _, e := range entries {
		if e.Now != "" {
			continue
		}
		ran++
		t.Run(e.Name, func(t *testing.T) {
			set := filepath.Join(root, "artifacts", e.Name)
			serial := e.Serial
			if serial == "" {
				serial = "SZTP-TEST-0001"
			}
			args := []string{"verify", "--json", "--clock", e.Clock,
				"--conveyed-information", filepath.Join(set, "conveyed-information.cms"),
				"--voucher-trust-anchor", filepath.Join(root, "pki", "manufacturer-ca.pem"),
				"--serial-number", serial}
			if _, err := os.Stat(filepath.Join(set, "ownership-voucher.cms")); err == nil {
				args = append(args, "--owner-certificate", filepath.Join(set, "owner-certificate.cms"),
					"--ownership-voucher", filepath.Join(set, "ownership-voucher.cms"))
			}
			if !e.NoIDevID {
				args = append(args, "--idevid-cert", filepath.Join(root, "device", "idevid.pem"))
			}
			if e.Nonce != "" {
				args = append(args, "--nonce", e.Nonce)
			}
			for _, a := range e.Assertions {
				args = append(args, "--assertion", a)
			}
			if k := keys[e.Key]; k != "" {
				args = append(args, "--decryption-key", filepath.Join(root, "device", k))
			}
			code, out := execute(t, args...)
			var got struct {
				Valid bool   `json:"valid"`
				Step  string `json:"step"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			wantCode := 0
			if e.WantStep != "" {
				wantCode = 1
			}
			if code != wantCode || got.Step != e.WantStep || got.Valid != (e.WantStep == "") {
				t.Fatalf("exit %d step %q, want exit %d step %q\n%s", code, got.Step, wantCode, e.WantStep, out)
			}
		})
	}
	if ran < 50 {
		t.Fatalf("only %d cases ran", ran)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// TestVerifyGolden pins the exact --json and text output for the openssl
// signed-json set (testdata/golden/verify-*.golden; -update rewrites).
func TestVerifyGolden(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	dir := filepath.Join(root, "openssl")
	set := filepath.Join(dir, "artifacts", "signed-json")
	base := []string{"verify", "--clock", "trusted",
		"--conveyed-information", filepath.Join(set, "conveyed-information.cms"),
		"--owner-certificate", filepath.Join(set, "owner-certificate.cms"),
		"--ownership-voucher", filepath.Join(set, "ownership-voucher.cms"),
		"--voucher-trust-anchor", filepath.Join(dir, "manufacturer-ca.pem"),
		"--serial-number", "SN-OPENSSL-0001"}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"verify-valid.json.golden", append(slices.Clone(base), "--json"), 0},
		{"verify-valid.txt.golden", slices.Clone(base), 0},
		{"verify-serial.json.golden", append(slices.Clone(base[:len(base)-1]), "SN-OTHER", "--json"), 1},
		{"verify-serial.txt.golden", append(slices.Clone(base[:len(base)-1]), "SN-OTHER"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := execute(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out)
			}
			golden := filepath.Join(root, "golden", tc.name)
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s:\n%s\nwant:\n%s", golden, out, want)
			}
		})
	}
}
