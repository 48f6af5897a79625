package trust_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

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

// TestCRLScope: a CRL only counts as revocation status for a certificate
// it covers (RFC 5280 5.2.4, 5.2.5): a CRL partitioned to CA certificates,
// or a delta CRL, says nothing about the owner certificate, and with
// domain-cert-revocation-checks true leaves it without fresh status (C33).
// A full CRL that merely names its distribution point still counts.
func TestCRLScope(t *testing.T) {
	p, d := fixture(t)
	uri := "http://crl.example/owner.crl"
	gn := append([]byte{0x86, byte(len(uri))}, uri...)
	full := append([]byte{0xa0, byte(len(gn))}, gn...)
	dp := append([]byte{0xa0, byte(len(full))}, full...)
	idpName := append([]byte{0x30, byte(len(dp))}, dp...)
	oidIDP := asn1.ObjectIdentifier{2, 5, 29, 28}
	oidDelta := asn1.ObjectIdentifier{2, 5, 29, 27}
	yes := true
	for _, tc := range []struct {
		name    string
		ext     pkix.Extension
		valid   bool
		revoked bool // the scoped CRL lists the owner certificate
	}{
		{"distribution point name only", pkix.Extension{Id: oidIDP, Critical: true, Value: idpName}, true, false},
		{"only CA certificates", pkix.Extension{Id: oidIDP, Critical: true, Value: []byte{0x30, 0x03, 0x82, 0x01, 0xff}}, false, false},
		{"only some reasons", pkix.Extension{Id: oidIDP, Critical: true, Value: []byte{0x30, 0x04, 0x83, 0x02, 0x07, 0x80}}, false, false},
		{"delta CRL", pkix.Extension{Id: oidDelta, Critical: true, Value: []byte{0x02, 0x01, 0x01}}, false, false},
		{"unknown critical extension", pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}, false, false},
		{"delta CRL listing the owner, with a full CRL", pkix.Extension{Id: oidDelta, Critical: true, Value: []byte{0x02, 0x01, 0x01}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			tmpl := &x509.RevocationList{
				Number: big.NewInt(now.UnixNano()), ThisUpdate: now.Add(-time.Hour), NextUpdate: p.NotAfter,
				ExtraExtensions: []pkix.Extension{tc.ext},
			}
			crls := [][]byte{}
			if tc.revoked {
				tmpl.RevokedCertificateEntries = []x509.RevocationListEntry{{SerialNumber: p.Owner.Cert.SerialNumber, RevocationTime: now}}
				base, err := p.CRL(p.OwnerCA)
				if err != nil {
					t.Fatal(err)
				}
				crls = append(crls, base)
			}
			crl, err := x509.CreateRevocationList(rand.Reader, tmpl, p.OwnerCA.Cert, p.OwnerCA.Key)
			if err != nil {
				t.Fatal(err)
			}
			crls = append(crls, crl)
			a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial, RevocationChecks: &yes})
			if err != nil {
				t.Fatal(err)
			}
			if a.OwnerCertificate, err = p.OwnerCertificateCMS(crls...); err != nil {
				t.Fatal(err)
			}
			c := trusttest.Case{}
			_, err = trust.Open(a, c.Options(p, d))
			if tc.valid && err != nil {
				t.Fatalf("Open: %v, want valid", err)
			}
			if !tc.valid && trust.StepOf(err) != trust.StepRevocation {
				t.Fatalf("Open: %v, want a revocation step error", err)
			}
			if tc.revoked && !strings.Contains(err.Error(), "is revoked") {
				t.Fatalf("Open: %v, want the owner certificate revoked", err)
			}
		})
	}
}
