package trust_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/internal/testenv"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// opensslDir holds the committed fixtures of scripts/make-openssl-fixtures.
var opensslDir = filepath.Join("..", "testdata", "openssl")

// runOpensslSet opens every artifact set that make-openssl-fixtures wrote
// to dir and checks the expected outcome: the verifier against CMS made by
// the openssl command line alone.
func runOpensslSet(t *testing.T, dir string) {
	serial, err := os.ReadFile(filepath.Join(dir, "serial-number"))
	if err != nil {
		t.Fatal(err)
	}
	masa, err := trusttest.ReadIssued(dir, "manufacturer-ca")
	if err != nil {
		t.Fatal(err)
	}
	p := &trusttest.PKI{ManufacturerCA: masa}
	d := &trusttest.Device{Serial: string(bytes.TrimSpace(serial))}
	if d.IDevID, err = trusttest.ReadIssued(dir, "idevid"); err != nil {
		t.Fatal(err)
	}
	if d.RSA, err = trusttest.ReadIssued(dir, "device-rsa"); err != nil {
		t.Fatal(err)
	}
	cases, err := trusttest.ReadMatrix(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 25 {
		t.Fatalf("only %d openssl cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := trust.Open(c.Artifacts, c.Options(p, d))
			checkOutcome(t, c, res, err)
		})
	}
	ta, err := os.ReadFile(filepath.Join(dir, "trust-anchor.cms"))
	if err != nil {
		t.Fatal(err)
	}
	issuer, chain, err := trust.TrustAnchor(ta)
	if err != nil {
		t.Fatalf("TrustAnchor: %v", err)
	}
	if len(chain) != 2 || issuer.Subject.CommonName != "openssl Server Issuing CA" {
		t.Errorf("TrustAnchor picked %q from %d certificates, want the issuing CA of 2", issuer.Subject, len(chain))
	}
}

// TestOpensslFixtures checks the committed openssl-made fixtures, so the
// result does not depend on the local openssl version.
func TestOpensslFixtures(t *testing.T) {
	runOpensslSet(t, opensslDir)
}

// TestOpensslFresh runs scripts/make-openssl-fixtures with the local openssl
// and checks what it makes (integration: needs openssl).
func TestOpensslFresh(t *testing.T) {
	testenv.NeedCommands(t, "openssl", "perl", "bash")
	dir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "make-openssl-fixtures"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-openssl-fixtures: %v\n%s", err, out)
	}
	runOpensslSet(t, dir)
}
