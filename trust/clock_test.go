package trust_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestClockUntrustedChainTimes: with an untrusted clock (RFC 8572 9.1,
// C104) validity periods are not enforced, so a chain whose certificates
// were all valid together at some time must verify even when no
// certificate's own notBefore other than the issuing CA's is such a time,
// and when the owner-certificate CMS also carries an unrelated
// certificate from later.
func TestClockUntrustedChainTimes(t *testing.T) {
	p, d := fixture(t)
	at := func(cn string, ca bool, from, to time.Duration) *x509.Certificate {
		tmpl := trusttest.Template(cn, ca)
		tmpl.NotBefore, tmpl.NotAfter = p.NotBefore.Add(from), p.NotBefore.Add(to)
		return tmpl
	}
	// The intermediate was (re)issued after the owner certificate, which
	// expired before the unrelated certificate was made.
	inter, err := p.Issue(at("Late Owner Intermediate", true, 2*time.Hour, 100*time.Hour), trusttest.P256, &p.OwnerCA)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := p.Issue(at("Short-lived Owner", false, 0, 3*time.Hour), trusttest.P256, &inter)
	if err != nil {
		t.Fatal(err)
	}
	unrelated, err := p.Issue(at("Unrelated Later CA", true, 4*time.Hour, 100*time.Hour), trusttest.P256, nil)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := trusttest.Sign(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, owner.Cert, owner.Key, trusttest.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oc, err := trusttest.CertsOnly([]*x509.Certificate{owner.Cert, inter.Cert, unrelated.Cert})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := p.Voucher(trusttest.VoucherOptions{Serial: d.Serial, PinnedDomainCert: p.OwnerCA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	a := trust.Artifacts{ConveyedInformation: ci, OwnerCertificate: oc, OwnershipVoucher: ov}
	c := trusttest.Case{ClockUntrusted: true, Now: p.NotBefore.Add(50 * time.Hour)}
	if _, err := trust.Open(a, c.Options(p, d)); err != nil {
		t.Fatalf("untrusted clock: %v, want valid", err)
	}
	c.ClockUntrusted = false
	if _, err := trust.Open(a, c.Options(p, d)); trust.StepOf(err) != trust.StepOwnerCertificate {
		t.Fatalf("trusted clock: %v, want the expired owner certificate rejected", err)
	}
}
