package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// makeCert issues a certificate named subject by issuer (nil: self-signed
// with its own key), or, when issuerName is set, one that claims that
// issuer name while signed by its own key.
func makeCert(t *testing.T, subject string, issuer *x509.Certificate, issuerKey *ecdsa.PrivateKey, issuerName string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer, issuerKey
	} else if issuerName != "" {
		parent = &x509.Certificate{Subject: pkix.Name{CommonName: issuerName}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// Finding the bottom of a certs-only bag checks a signature only where
// names match, and at most maxIssuerChecks of them: a crafted bag of 64
// certificates that all carry one name cost 64*63 signature checks before
// (an RSA verification each, with keys up to 16384 bits), and is refused
// now. An honest chain costs one check per link and yields its lowest
// certificate whatever the order of the bag.
func TestIssuedNoneBoundsSignatureChecks(t *testing.T) {
	root, rootKey := makeCert(t, "root", nil, nil, "")
	mid, midKey := makeCert(t, "mid", root, rootKey, "")
	leaf, _ := makeCert(t, "leaf", mid, midKey, "")
	var same []*x509.Certificate
	for range maxSetElements {
		c, _ := makeCert(t, "same", nil, nil, "same")
		same = append(same, c)
	}
	for _, tc := range []struct {
		name       string
		certs      []*x509.Certificate
		want       *x509.Certificate
		maxChecks  int
		wantErrSub string
	}{
		{"chain in order", []*x509.Certificate{leaf, mid, root}, leaf, 2, ""},
		{"chain reversed", []*x509.Certificate{root, mid, leaf}, leaf, 2, ""},
		{"chain shuffled", []*x509.Certificate{mid, root, leaf}, leaf, 2, ""},
		{"64 certificates with one name", same, nil, maxIssuerChecks, "candidate issuer pairs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := 0
			got, err := issuedNone(tc.certs, func(d, c *x509.Certificate) error {
				checks++
				return d.CheckSignatureFrom(c)
			})
			if checks > tc.maxChecks {
				t.Errorf("%d signature checks, want at most %d", checks, tc.maxChecks)
			}
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("bottom %v, want only %s", got, tc.want.Subject)
			}
		})
	}
	// The same bag through the callers: a redirect's trust anchor and the
	// owner certificate are refused with that reason.
	if _, err := lowestOfChain(same); err == nil || !strings.Contains(err.Error(), "names repeat") {
		t.Errorf("lowestOfChain: %v, want the bag refused", err)
	}
	if _, err := leafOf(same); err == nil || !strings.Contains(err.Error(), "names repeat") {
		t.Errorf("leafOf: %v, want the bag refused", err)
	}
}
