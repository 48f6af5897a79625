package trust_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// seedArtifacts adds every committed conveyed-information, voucher and
// owner-certificate file as a seed (the corpus in testdata/fuzz holds the
// minimized interesting inputs).
func seedArtifacts(f *testing.F, name string) {
	for _, root := range []string{filepath.Join("..", "testdata", "artifacts"), filepath.Join("..", "testdata", "openssl", "artifacts")} {
		files, _ := filepath.Glob(filepath.Join(root, "*", name))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
}

// FuzzOpen feeds arbitrary conveyed information (with a fixed valid voucher
// and owner certificate) through the whole artifact parser and validation:
// it must never panic, and anything it accepts must have content.
func FuzzOpen(f *testing.F) {
	seedArtifacts(f, trusttest.ConveyedInformationFile)
	p, d := fixture(f)
	good, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.ConveyedInformation)
	c := trusttest.Case{Key: "ec"}
	opts := c.Options(p, d)
	opts.Now = func() time.Time { return p.NotBefore.Add(time.Hour) }
	f.Fuzz(func(t *testing.T, ci []byte) {
		a := good
		a.ConveyedInformation = ci
		res, err := trust.Open(a, opts)
		if err == nil && res.Content == nil {
			t.Fatal("accepted without content")
		}
		if err != nil && trust.StepOf(err) == "" {
			t.Fatalf("error without a step: %v", err)
		}
	})
}

// FuzzOpenVoucher feeds arbitrary voucher CMS with valid other artifacts.
func FuzzOpenVoucher(f *testing.F) {
	seedArtifacts(f, trusttest.OwnershipVoucherFile)
	p, d := fixture(f)
	good, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial})
	if err != nil {
		f.Fatal(err)
	}
	c := trusttest.Case{}
	opts := c.Options(p, d)
	f.Fuzz(func(t *testing.T, ov []byte) {
		a := good
		a.OwnershipVoucher = ov
		if _, err := trust.Open(a, opts); err != nil && trust.StepOf(err) == "" {
			t.Fatalf("error without a step: %v", err)
		}
	})
}

// FuzzParseCertsOnly feeds arbitrary bytes to the certs-only parser and the
// trust-anchor rule.
func FuzzParseCertsOnly(f *testing.F) {
	seedArtifacts(f, trusttest.OwnerCertificateFile)
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "openssl", "trust-anchor.cms")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := trust.ParseCertsOnly(b)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
		if err == nil {
			if _, err := trust.TrustAnchorPool(b); err != nil {
				t.Fatalf("ParseCertsOnly accepted what TrustAnchorPool rejects: %v", err)
			}
		}
	})
}

// FuzzParseVoucher feeds arbitrary JSON to the voucher decoder.
func FuzzParseVoucher(f *testing.F) {
	for _, s := range voucherSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := trust.ParseVoucher(b)
		if err != nil {
			return
		}
		if v.SerialNumber == "" || v.CreatedOn.IsZero() {
			t.Fatalf("accepted a voucher without serial-number or created-on: %+v", v)
		}
		if v.Nonce != nil && (len(v.Nonce) < 8 || len(v.Nonce) > 32) {
			t.Fatalf("accepted a %d-octet nonce", len(v.Nonce))
		}
	})
}
