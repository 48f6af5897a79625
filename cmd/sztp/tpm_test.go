package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/testenv"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// sztp runs the CLI in-process and returns stdout and the error (nil, or
// the error run() would map to an exit code).
func sztp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--log-level", "error"))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// Issue 5 acceptance: swtpm provisioned by tpm2-tools alone (ECC P-256 key
// at 0x81020000, DER certificate in NV 0x01C90000); `sztp tpm info --json`
// reports that certificate's subject and serial number.
func TestTPMInfoJSONAcceptance(t *testing.T) {
	sw := swtpmtest.Start(t)
	p := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=DPU-SN-7781/CN=dpu-7781/O=Example DPU Vendor"})
	out, err := sztp(t, "tpm", "info", "--tpm", sw.Path, "--json")
	if err != nil {
		t.Fatalf("sztp tpm info: %v\n%s", err, out)
	}
	var info tpm.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	c := info.Certificate
	if c == nil {
		t.Fatalf("no certificate in %s", out)
	}
	if c.Subject != p.Cert.Subject.String() || c.SerialNumber != "DPU-SN-7781" || c.Source != "nv:0x01c90000" {
		t.Errorf("certificate = %+v, want subject %q serialNumber DPU-SN-7781 from nv:0x01c90000", c, p.Cert.Subject)
	}
	if c.CertificateSerial != p.Cert.SerialNumber.Text(16) || !c.MatchesKey {
		t.Errorf("certificate serial %s (want %s), matchesKey %v", c.CertificateSerial, p.Cert.SerialNumber.Text(16), c.MatchesKey)
	}
	if info.IDevID == nil || info.IDevID.Handle != "0x81020000" || info.IDevID.Type != "ECC P-256" || info.IDevID.Scheme != "NULL" {
		t.Errorf("idevid = %+v", info.IDevID)
	}
	if info.Manufacturer != "IBM" || info.FirmwareVersion == "" {
		t.Errorf("manufacturer %q firmware %q; swtpm reports IBM", info.Manufacturer, info.FirmwareVersion)
	}
	// The text form carries the same facts.
	text, err := sztp(t, "tpm", "info", "--tpm", sw.Path)
	if err != nil || !strings.Contains(text, "DPU-SN-7781") || !strings.Contains(text, "nv:0x01c90000") {
		t.Errorf("text info (%v):\n%s", err, text)
	}
}

// An empty TPM: info shows the TPM and exits 1 naming what is missing.
func TestTPMInfoEmpty(t *testing.T) {
	sw := swtpmtest.Start(t)
	out, err := sztp(t, "tpm", "info", "--tpm", sw.Path)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != exitFailure {
		t.Fatalf("err = %v, want exit 1", err)
	}
	if !strings.Contains(out, "IBM") || !strings.Contains(err.Error(), "0x81020000") {
		t.Errorf("output %q / error %q should show the TPM and the missing key", out, err)
	}
}

// `sztp tpm provision` then `tpm info`, refusal without --force, and CSRs
// from the IDevID and a new LDevID, verified by openssl.
func TestTPMProvisionAndCSR(t *testing.T) {
	testenv.NeedCommands(t, "openssl")
	sw := swtpmtest.Start(t)
	ca := sw.CA(t)
	prov := []string{"tpm", "provision", "--tpm", sw.Path, "--ca-cert", ca.CertFile, "--ca-key", ca.KeyFile, "--serial-number", "LAB-0001"}
	certOut := filepath.Join(t.TempDir(), "idevid.pem")
	if out, err := sztp(t, append(prov, "--out", certOut)...); err != nil || !strings.Contains(out, "LAB-0001") {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	if b, err := exec.Command("openssl", "verify", "-CAfile", ca.CertFile, certOut).CombinedOutput(); err != nil {
		t.Fatalf("openssl verify of the provisioned certificate: %v\n%s", err, b)
	}
	_, err := sztp(t, prov...)
	var ee exitError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second provision err = %v, want a refusal mentioning --force", err)
	}
	if _, err := sztp(t, append(prov, "--force", "--key-type", "rsa-2048", "--fixed-scheme")...); err != nil {
		t.Fatalf("provision --force: %v", err)
	}
	out, err := sztp(t, "tpm", "info", "--tpm", sw.Path, "--json")
	if err != nil || !strings.Contains(out, `"serial-number": "LAB-0001"`) || !strings.Contains(out, `"scheme": "RSASSA-SHA256"`) {
		t.Fatalf("info after provision (%v):\n%s", err, out)
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		alg  x509.PublicKeyAlgorithm
	}{
		{"idevid", nil, x509.RSA},
		{"ldevid", []string{"--new-key", "--ldevid-handle", "0x81020002", "--common-name", "ldevid"}, x509.ECDSA},
	} {
		file := filepath.Join(dir, tc.name+".csr")
		if _, err := sztp(t, append([]string{"tpm", "csr", "--tpm", sw.Path, "--out", file}, tc.args...)...); err != nil {
			t.Fatalf("csr %s: %v", tc.name, err)
		}
		b, err := exec.Command("openssl", "req", "-in", file, "-verify", "-noout", "-subject").CombinedOutput()
		if err != nil || !strings.Contains(string(b), "LAB-0001") {
			t.Fatalf("openssl req -verify %s: %v\n%s", tc.name, err, b)
		}
		data, _ := os.ReadFile(file)
		blk, _ := pem.Decode(data)
		csr, err := x509.ParseCertificateRequest(blk.Bytes)
		if err != nil || csr.PublicKeyAlgorithm != tc.alg {
			t.Fatalf("%s CSR: %v, key %v want %v", tc.name, err, csr.PublicKeyAlgorithm, tc.alg)
		}
	}
	// The LDevID exists now; a second --new-key needs --force.
	if _, err := sztp(t, "tpm", "csr", "--tpm", sw.Path, "--new-key"); err == nil {
		t.Fatal("csr --new-key over an existing LDevID succeeded without --force")
	}
}

// The text layout of `sztp tpm info` (golden file; -update rewrites it).
func TestPrintInfoGolden(t *testing.T) {
	info := &tpm.Info{
		TPM: "/dev/tpmrm0", Manufacturer: "IBM", VendorString: "SW TPM", FirmwareVersion: "8217.4131.22.13878",
		FirmwareRaw: "0x20191023 0x00163636", SpecRevision: "1.64",
		IDevID: &tpm.KeyDescription{Handle: "0x81020000", Type: "ECC P-256", Scheme: "ECDSA-SHA256", Attributes: []string{"fixedTPM", "sign"}},
		Certificate: &tpm.CertInfo{Source: "nv:0x01c90000", Subject: "SERIALNUMBER=DPU-SN-0042,CN=dpu-0042", Issuer: "CN=Test IDevID CA",
			SerialNumber: "DPU-SN-0042", CertificateSerial: "1f", NotBefore: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), MatchesKey: true},
		DecryptionKey: &tpm.KeyDescription{Handle: "0x81010010", Type: "RSA 2048", Scheme: "NULL"},
	}
	var buf bytes.Buffer
	printInfo(&buf, info)
	golden := filepath.Join("testdata", "tpm-info.golden")
	if *updateTPMGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("printInfo:\n%s\nwant (%s):\n%s", buf.String(), golden, want)
	}
}

var updateTPMGolden = flag.Bool("update-tpm-golden", false, "rewrite testdata/tpm-info.golden")

// An empty --idevid-cert-index (an operator clearing the list) provisions
// at the default index instead of crashing.
func TestTPMProvisionEmptyCertIndex(t *testing.T) {
	sw := swtpmtest.Start(t)
	ca := sw.CA(t)
	out, err := sztp(t, "tpm", "provision", "--tpm", sw.Path, "--ca-cert", ca.CertFile, "--ca-key", ca.KeyFile,
		"--serial-number", "LAB-0002", "--idevid-cert-index=")
	if err != nil || !strings.Contains(out, "certificate in NV 0x01c90000") {
		t.Fatalf("provision with an empty --idevid-cert-index: %v\n%s", err, out)
	}
}
