package trusttest_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// Example shows what a test bootstrap server does: sign onboarding
// information for one device, encrypt it to the device's IDevID, and what
// the device then does with trust.Open.
func Example() {
	p, err := trusttest.New()
	if err != nil {
		panic(err)
	}
	idevid, key, err := p.IssueIDevID("SN-1")
	if err != nil {
		panic(err)
	}
	nonce := []byte("0123456789abcdef")
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON,
		trusttest.VoucherOptions{Serial: "SN-1", Nonce: nonce, IDevIDIssuer: idevid.AuthorityKeyId})
	if err != nil {
		panic(err)
	}
	a, err = trusttest.EncryptArtifacts(a, idevid, trusttest.EncryptOptions{})
	if err != nil {
		panic(err)
	}

	// The device side.
	ecdhKey, err := key.(*ecdsa.PrivateKey).ECDH()
	if err != nil {
		panic(err)
	}
	res, err := trust.Open(a, trust.Options{
		VoucherAnchors: []*x509.Certificate{p.ManufacturerCA.Cert},
		SerialNumber:   "SN-1",
		IDevID:         idevid,
		Nonce:          nonce,
		ECDH:           trust.NewECDHKey(ecdhKey),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Signed, res.Encrypted, res.OwnerCertificate.Subject.CommonName)
	// Output: true true Example Owner Signing Certificate
}
