package trust_test

import (
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestRevokedOnAnyFreshCRL: when several fresh CRLs of the issuer are
// stapled, a certificate listed on any of them is revoked, whatever the
// order (C34, C35): an older CRL that predates the revocation must not
// hide a newer one that lists it.
func TestRevokedOnAnyFreshCRL(t *testing.T) {
	p, d := fixture(t)
	before, err := p.CRL(p.OwnerCA)
	if err != nil {
		t.Fatal(err)
	}
	after, err := p.CRL(p.OwnerCA, p.Owner.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	for _, tc := range []struct {
		name string
		crls [][]byte
	}{
		{"revoking CRL first", [][]byte{after, before}},
		{"revoking CRL last", [][]byte{before, after}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial, RevocationChecks: &yes})
			if err != nil {
				t.Fatal(err)
			}
			if a.OwnerCertificate, err = p.OwnerCertificateCMS(tc.crls...); err != nil {
				t.Fatal(err)
			}
			c := trusttest.Case{}
			if _, err := trust.Open(a, c.Options(p, d)); trust.StepOf(err) != trust.StepRevocation {
				t.Fatalf("Open: %v, want a revocation step error", err)
			}
		})
	}
}
