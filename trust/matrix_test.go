package trust_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

var (
	fixtureOnce sync.Once
	fixturePKI  *trusttest.PKI
	fixtureDev  *trusttest.Device
	fixtureErr  error
)

// fixture is one in-memory PKI and device shared by the tests.
func fixture(t testing.TB) (*trusttest.PKI, *trusttest.Device) {
	t.Helper()
	fixtureOnce.Do(func() {
		if fixturePKI, fixtureErr = trusttest.New(); fixtureErr != nil {
			return
		}
		fixtureDev, fixtureErr = fixturePKI.NewDevice(trusttest.Serial)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixturePKI, fixtureDev
}

// TestMatrix runs every case of the generated matrix: each single fault of
// RFC 8572 5.4 fails at its own step (C23-C38), every legal shape opens
// (C39, C43, C14).
func TestMatrix(t *testing.T) {
	p, d := fixture(t)
	cases, err := p.Matrix(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := trust.Open(c.Artifacts, c.Options(p, d))
			checkOutcome(t, c, res, err)
		})
	}
}

func checkOutcome(t *testing.T, c trusttest.Case, res *trust.Result, err error) {
	t.Helper()
	if c.WantStep == "" {
		if err != nil {
			t.Fatalf("Open: %v, want valid", err)
		}
		if len(res.Content) == 0 {
			t.Fatal("valid result has no content")
		}
		if first := bytes.TrimSpace(res.Content)[0]; first != '{' && first != '<' {
			t.Errorf("content starts with %q, want a JSON or XML document", first)
		}
		if signed := c.Artifacts.OwnershipVoucher != nil; res.Signed != signed {
			t.Errorf("Signed = %v, want %v", res.Signed, signed)
		}
		if wantEnc := c.Key != ""; res.Encrypted != wantEnc {
			t.Errorf("Encrypted = %v, want %v", res.Encrypted, wantEnc)
		}
		if res.ClockSkipped != c.ClockUntrusted {
			t.Errorf("ClockSkipped = %v, want %v", res.ClockSkipped, c.ClockUntrusted)
		}
		if res.Signed && res.OwnerCertificate == nil {
			t.Error("signed result without the owner certificate")
		}
		return
	}
	if err == nil {
		t.Fatalf("Open succeeded, want failure at step %q", c.WantStep)
	}
	var se *trust.StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *trust.StepError", err)
	}
	if se.Step != c.WantStep {
		t.Fatalf("failed at step %q (%v), want step %q", se.Step, err, c.WantStep)
	}
	t.Logf("%v", err)
}

// TestCommittedMatrix opens the artifact sets committed under
// testdata/artifacts (written by go generate ./testdata) with the committed
// PKI, so that a change in the parser is checked against bytes made by an
// earlier build.
func TestCommittedMatrix(t *testing.T) {
	root := filepath.Join("..", "testdata")
	p, err := trusttest.ReadPKI(filepath.Join(root, "pki"))
	if err != nil {
		t.Fatalf("reading the committed PKI (run go generate ./testdata): %v", err)
	}
	d, err := trusttest.ReadDevice(filepath.Join(root, "device"), trusttest.Serial)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := trusttest.ReadMatrix(filepath.Join(root, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 50 {
		t.Fatalf("only %d committed cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := trust.Open(c.Artifacts, c.Options(p, d))
			checkOutcome(t, c, res, err)
		})
	}
}
