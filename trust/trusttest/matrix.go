package trusttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/sztp/sztp/trust"
)

// Serial is the device serial number of the matrix.
const Serial = "SZTP-TEST-0001"

// Documents used by the matrix.
var (
	OnboardingJSON = []byte(`{"ietf-sztp-conveyed-info:onboarding-information":{"boot-image":{"os-name":"TestOS","os-version":"1.0","download-uri":["https://images.example.com/testos-1.0.img"],"image-verification":[{"hash-algorithm":"ietf-sztp-conveyed-info:sha-256","hash-value":"ba:ec:cf:a5:67:82:b4:10:77:c6:67:a6:22:ab:7d:50:04:a7:8b:8f:0e:db:02:8b:f4:75:55:fb:c1:13:b2:33"}]},"configuration-handling":"merge","configuration":"aG9zdG5hbWUgZGV2aWNlMQo="}}`)
	RedirectJSON   = []byte(`{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"sztp.example.com","port":8443}]}}`)
	OnboardingXML  = []byte(`<onboarding-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"><configuration-handling>merge</configuration-handling><configuration>aG9zdG5hbWUgZGV2aWNlMQo=</configuration></onboarding-information>`)
)

// Device is the device side of the matrix: its IDevID (P-256, also the
// ECDH recipient) and an RSA decryption certificate.
type Device struct {
	Serial string
	IDevID Issued
	RSA    Issued
	P384   Issued
}

// Case is one artifact set with the trust inputs to open it and the
// expected outcome.
type Case struct {
	Name      string
	Artifacts trust.Artifacts
	// Nonce is the nonce the device sent (nil: none).
	Nonce []byte
	// Serial overrides the device serial number (empty: Device.Serial).
	Serial string
	// NoIDevID leaves Options.IDevID nil.
	NoIDevID bool
	// Now is the device clock (zero: the real clock).
	Now time.Time
	// ClockUntrusted marks the device clock as untrusted.
	ClockUntrusted bool
	// Assertions overrides the accepted assertions.
	Assertions []string
	// Key names the decryption key: "" (none), "ec" (the IDevID),
	// "rsa", "p384".
	Key string
	// WantStep is the step that must fail; "" means valid.
	WantStep trust.Step
}

// NewDevice issues the matrix device's certificates.
func (p *PKI) NewDevice(serial string) (*Device, error) {
	d := &Device{Serial: serial}
	var err error
	if d.IDevID, err = p.IssueDevice(serial, P256); err != nil {
		return nil, err
	}
	if d.RSA, err = p.IssueDevice(serial, RSA2048); err != nil {
		return nil, err
	}
	if d.P384, err = p.IssueDevice(serial, P384); err != nil {
		return nil, err
	}
	return d, nil
}

// Options returns the trust options for c.
func (c *Case) Options(p *PKI, d *Device) trust.Options {
	o := trust.Options{
		VoucherAnchors: []*x509.Certificate{p.ManufacturerCA.Cert},
		SerialNumber:   d.Serial,
		IDevID:         d.IDevID.Cert,
		Nonce:          c.Nonce,
		ClockUntrusted: c.ClockUntrusted,
		Assertions:     c.Assertions,
	}
	if c.Serial != "" {
		o.SerialNumber = c.Serial
	}
	if c.NoIDevID {
		o.IDevID = nil
	}
	if !c.Now.IsZero() {
		now := c.Now
		o.Now = func() time.Time { return now }
	}
	switch c.Key {
	case "ec":
		o.ECDH = ecdhOf(d.IDevID)
	case "p384":
		o.ECDH = ecdhOf(d.P384)
	case "rsa":
		o.Decrypter = d.RSA.Key.(crypto.Decrypter)
	}
	return o
}

func ecdhOf(i Issued) trust.ECDHKey {
	k, err := i.Key.(*ecdsa.PrivateKey).ECDH()
	if err != nil {
		panic(err)
	}
	return trust.NewECDHKey(k)
}

func boolPtr(b bool) *bool { return &b }

// Matrix builds the good and bad artifact sets over p for device d. Each
// bad case has exactly one fault.
func (p *PKI) Matrix(d *Device) ([]Case, error) {
	b := &builder{p: p, d: d}
	return b.build()
}

type builder struct {
	p   *PKI
	d   *Device
	err error
}

func (b *builder) must(v []byte, err error) []byte {
	if err != nil && b.err == nil {
		b.err = err
	}
	return v
}

func (b *builder) issue(tmpl *x509.Certificate, parent *Issued) Issued {
	i, err := b.p.Issue(tmpl, P256, parent)
	if err != nil && b.err == nil {
		b.err = err
	}
	return i
}

// signed returns good signed artifacts for doc with voucher options vo.
func (b *builder) signed(doc []byte, ct asn1.ObjectIdentifier, vo VoucherOptions) trust.Artifacts {
	if vo.Serial == "" {
		vo.Serial = b.d.Serial
	}
	return trust.Artifacts{
		ConveyedInformation: b.must(b.p.SignConveyed(doc, ct)),
		OwnerCertificate:    b.must(b.p.OwnerCertificateCMS()),
		OwnershipVoucher:    b.must(b.p.Voucher(vo)),
	}
}

func (b *builder) build() ([]Case, error) {
	p, d := b.p, b.d
	good := b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{})
	nonce := []byte("0123456789abcdef")
	past := p.NotBefore.Add(-24 * time.Hour)
	future := p.NotAfter.Add(24 * time.Hour)
	with := func(f func(a *trust.Artifacts)) trust.Artifacts {
		a := good
		f(&a)
		return a
	}
	// Other PKIs' parts.
	otherMASA := b.issue(Template("Other Manufacturer CA", true), nil)
	otherOwnerCA := b.issue(Template("Other Owner CA", true), nil)
	otherOwner := b.issue(Template("Other Owner Signing Certificate", false), &otherOwnerCA)
	rogueOwner := b.issue(Template("Rogue Key Same Owner CA", false), &p.OwnerCA)
	expiredTmpl := Template("Expired Owner Signing Certificate", false)
	expiredTmpl.NotBefore, expiredTmpl.NotAfter = p.NotBefore, p.NotBefore.Add(30*time.Minute)
	expiredOwner := b.issue(expiredTmpl, &p.OwnerCA)
	futureTmpl := Template("Not Yet Valid Voucher Signer", false)
	futureTmpl.NotBefore, futureTmpl.NotAfter = future, future.Add(time.Hour)
	futureSigner := b.issue(futureTmpl, &p.ManufacturerCA)
	kuTmpl := Template("Owner Certificate Without digitalSignature", false)
	kuTmpl.KeyUsage = x509.KeyUsageKeyEncipherment
	kuOwner := b.issue(kuTmpl, &p.OwnerCA)
	selfOwner := b.issue(Template("Self-signed Owner", true), nil)
	interCA := b.issue(Template("Owner Intermediate CA", true), &p.OwnerCA)
	interOwner := b.issue(Template("Owner Via Intermediate", false), &interCA)

	signAs := func(i Issued, doc []byte, so SignOptions) []byte {
		return b.must(Sign(doc, trust.OIDSZTPConveyedInfoJSON, i.Cert, i.Key, so))
	}
	ownerSet := func(owner Issued, extra []*x509.Certificate, pinned *x509.Certificate, crls ...[]byte) trust.Artifacts {
		return trust.Artifacts{
			ConveyedInformation: signAs(owner, OnboardingJSON, SignOptions{}),
			OwnerCertificate:    b.must(CertsOnly(append([]*x509.Certificate{owner.Cert}, extra...), crls...)),
			OwnershipVoucher:    b.must(p.Voucher(VoucherOptions{Serial: d.Serial, PinnedDomainCert: pinned})),
		}
	}
	revoked := func(checks *bool, crls ...[]byte) trust.Artifacts {
		return trust.Artifacts{
			ConveyedInformation: good.ConveyedInformation,
			OwnerCertificate:    b.must(p.OwnerCertificateCMS(crls...)),
			OwnershipVoucher:    b.must(p.Voucher(VoucherOptions{Serial: d.Serial, RevocationChecks: checks})),
		}
	}
	voucherJSON := func(v string) trust.Artifacts {
		return with(func(a *trust.Artifacts) {
			a.OwnershipVoucher = b.must(p.Voucher(VoucherOptions{JSON: []byte(v)}))
		})
	}
	pinnedB64 := func() string {
		return fmt.Sprintf("%q", encodeB64(p.OwnerCA.Cert.Raw))
	}
	enc := func(a trust.Artifacts, to Issued, o EncryptOptions, all bool) trust.Artifacts {
		a.ConveyedInformation = b.must(EncryptArtifact(to.Cert, a.ConveyedInformation, o))
		if all {
			a.OwnerCertificate = b.must(EncryptArtifact(to.Cert, a.OwnerCertificate, o))
			a.OwnershipVoucher = b.must(EncryptArtifact(to.Cert, a.OwnershipVoucher, o))
		}
		return a
	}
	unsigned := func(ct asn1.ObjectIdentifier, doc []byte) trust.Artifacts {
		return trust.Artifacts{ConveyedInformation: b.must(trust.WrapUnsigned(ct, doc))}
	}
	ber := func(a trust.Artifacts) trust.Artifacts {
		a.ConveyedInformation = b.must(ToBER(a.ConveyedInformation, 64))
		a.OwnerCertificate = b.must(ToBER(a.OwnerCertificate, 64))
		a.OwnershipVoucher = b.must(ToBER(a.OwnershipVoucher, 64))
		return a
	}
	crlOK := b.must(p.CRL(p.OwnerCA))
	crlRevoked := b.must(p.CRL(p.OwnerCA, p.Owner.Cert.SerialNumber))
	crlStale := b.must(p.CRLAt(p.OwnerCA, past.Add(-time.Hour), past))
	crlWrongIssuer := b.must(p.CRL(otherOwnerCA))
	akiExt := func() []byte {
		for _, e := range d.IDevID.Cert.Extensions {
			if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 35}) {
				return e.Value
			}
		}
		return nil
	}()
	tooBig := make([]byte, trust.MaxArtifactSize+1)
	copy(tooBig, good.ConveyedInformation)
	digested := b.must(ContentInfo(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 5}, []byte{0x30, 0}))
	truncated := good.ConveyedInformation[:len(good.ConveyedInformation)-7]
	trailing := append(append([]byte{}, good.ConveyedInformation...), 0, 0)
	// SignedData around an EnvelopedData: sign-then-encrypt only (C44).
	envInside := b.must(EncryptArtifact(d.IDevID.Cert, b.must(trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, OnboardingJSON)), EncryptOptions{OpensslStyle: true}))
	signedEnvelope := b.must(Sign(envInside, trust.OIDEnvelopedData, p.Owner.Cert, p.Owner.Key, SignOptions{}))

	cases := []Case{
		// Unsigned shapes (C39).
		{Name: "unsigned-json", Artifacts: unsigned(trust.OIDSZTPConveyedInfoJSON, OnboardingJSON)},
		{Name: "unsigned-xml", Artifacts: unsigned(trust.OIDSZTPConveyedInfoXML, OnboardingXML)},
		{Name: "unsigned-data-json", Artifacts: unsigned(trust.OIDData, RedirectJSON)},
		{Name: "unsigned-data-xml", Artifacts: unsigned(trust.OIDData, OnboardingXML)},
		{Name: "unsigned-json-ber", Artifacts: trust.Artifacts{ConveyedInformation: b.must(ToBER(b.must(trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, OnboardingJSON)), 32))}},
		{Name: "unsigned-json-encrypted-ecdh", Artifacts: enc(unsigned(trust.OIDSZTPConveyedInfoJSON, OnboardingJSON), d.IDevID, EncryptOptions{}, false), Key: "ec"},
		// Signed shapes.
		{Name: "signed-json", Artifacts: good},
		{Name: "signed-xml", Artifacts: b.signed(OnboardingXML, trust.OIDSZTPConveyedInfoXML, VoucherOptions{})},
		{Name: "signed-data-redirect", Artifacts: b.signed(RedirectJSON, trust.OIDData, VoucherOptions{})},
		{Name: "signed-voucher-id-data", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{ContentType: trust.OIDData})},
		{Name: "signed-ber", Artifacts: ber(good)},
		{Name: "signed-signer-by-ski", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = signAs(p.Owner, OnboardingJSON, SignOptions{SubjectKeyID: true})
		})},
		{Name: "signed-owner-self-signed-pinned", Artifacts: ownerSet(selfOwner, nil, selfOwner.Cert)},
		{Name: "signed-owner-via-intermediate", Artifacts: ownerSet(interOwner, []*x509.Certificate{interCA.Cert}, p.OwnerCA.Cert)},
		{Name: "signed-nonce", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Nonce: nonce}), Nonce: nonce},
		{Name: "signed-idevid-issuer-keyid", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{IDevIDIssuer: d.IDevID.Cert.AuthorityKeyId})},
		{Name: "signed-idevid-issuer-extension", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{IDevIDIssuer: akiExt})},
		{Name: "signed-expires-on-future", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{ExpiresOn: future})},
		{Name: "signed-revocation-crl-good", Artifacts: revoked(boolPtr(true), crlOK)},
		{Name: "signed-revocation-checks-false", Artifacts: revoked(boolPtr(false))},
		{Name: "signed-revocation-checks-false-revoked-crl", Artifacts: revoked(boolPtr(false), crlRevoked)},
		{Name: "signed-revocation-checks-absent-stale-crl", Artifacts: revoked(nil, crlStale)},
		{Name: "signed-revocation-checks-string", Artifacts: voucherJSON(fmt.Sprintf(`{"ietf-voucher:voucher":{"created-on":%q,"assertion":"logged","serial-number":%q,"pinned-domain-cert":%s,"domain-cert-revocation-checks":"false"}}`, p.NotBefore.Format(time.RFC3339), d.Serial, pinnedB64()))},
		{Name: "signed-dates-with-offset-fraction", Artifacts: voucherJSON(fmt.Sprintf(`{"ietf-voucher:voucher":{"created-on":%q,"expires-on":%q,"assertion":"proximity","serial-number":%q,"pinned-domain-cert":%s}}`, p.NotBefore.In(time.FixedZone("", -4*3600)).Format("2006-01-02T15:04:05.000-07:00"), future.Format(time.RFC3339Nano), d.Serial, pinnedB64()))},
		{Name: "clock-untrusted-expired-voucher", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{ExpiresOn: past}), ClockUntrusted: true},
		{Name: "clock-untrusted-expired-owner", Artifacts: ownerSet(expiredOwner, nil, p.OwnerCA.Cert), ClockUntrusted: true},
		// Encrypted (C14).
		{Name: "encrypted-ecdh-p256-sha256", Artifacts: enc(good, d.IDevID, EncryptOptions{}, true), Key: "ec"},
		{Name: "encrypted-ecdh-p256-sha1-aes128", Artifacts: enc(good, d.IDevID, EncryptOptions{KDF: crypto.SHA1, AES128: true}, false), Key: "ec"},
		{Name: "encrypted-ecdh-p384-sha384", Artifacts: enc(good, d.P384, EncryptOptions{KDF: crypto.SHA384}, false), Key: "p384"},
		{Name: "encrypted-ecdh-gcm", Artifacts: enc(good, d.IDevID, EncryptOptions{GCM: true}, true), Key: "ec"},
		{Name: "encrypted-ecdh-openssl-style", Artifacts: enc(good, d.IDevID, EncryptOptions{OpensslStyle: true}, true), Key: "ec"},
		{Name: "encrypted-rsa-pkcs1", Artifacts: enc(good, d.RSA, EncryptOptions{}, true), Key: "rsa"},
		{Name: "encrypted-rsa-oaep", Artifacts: enc(good, d.RSA, EncryptOptions{OAEP: true}, false), Key: "rsa"},
		{Name: "encrypted-rsa-gcm-openssl-style", Artifacts: enc(good, d.RSA, EncryptOptions{GCM: true, OpensslStyle: true}, false), Key: "rsa"},

		// Parse failures (C40-C44, C22).
		{Name: "bad-content-type", Artifacts: trust.Artifacts{ConveyedInformation: digested}, WantStep: trust.StepParse},
		{Name: "bad-signed-econtent-type", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = b.must(Sign(OnboardingJSON, trust.OIDAnimaJSONVoucher, p.Owner.Cert, p.Owner.Key, SignOptions{}))
		}), WantStep: trust.StepParse},
		{Name: "bad-signed-around-enveloped", Artifacts: with(func(a *trust.Artifacts) { a.ConveyedInformation = signedEnvelope }), Key: "ec", WantStep: trust.StepParse},
		{Name: "bad-voucher-econtent-type", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{ContentType: trust.OIDSZTPConveyedInfoJSON}), WantStep: trust.StepParse},
		{Name: "bad-owner-certificate-not-certs-only", Artifacts: with(func(a *trust.Artifacts) { a.OwnerCertificate = good.OwnershipVoucher }), WantStep: trust.StepParse},
		{Name: "bad-missing-voucher", Artifacts: with(func(a *trust.Artifacts) { a.OwnershipVoucher = nil }), WantStep: trust.StepParse},
		{Name: "bad-truncated", Artifacts: with(func(a *trust.Artifacts) { a.ConveyedInformation = truncated }), WantStep: trust.StepParse},
		{Name: "bad-trailing-data", Artifacts: with(func(a *trust.Artifacts) { a.ConveyedInformation = trailing }), WantStep: trust.StepParse},
		{Name: "bad-oversized", Artifacts: with(func(a *trust.Artifacts) { a.ConveyedInformation = tooBig }), WantStep: trust.StepParse},
		// Decryption.
		{Name: "bad-encrypted-to-someone-else", Artifacts: enc(good, otherOwner, EncryptOptions{}, false), Key: "ec", WantStep: trust.StepDecrypt},
		{Name: "bad-encrypted-rsa-no-key", Artifacts: enc(good, d.RSA, EncryptOptions{}, false), Key: "ec", WantStep: trust.StepDecrypt},
		// RFC 8572 5.4 step 1: voucher signature and chain (C23).
		{Name: "bad-voucher-wrong-signer", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Signer: &otherMASA}), WantStep: trust.StepVoucherSignature},
		{Name: "bad-voucher-tampered", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Sign: SignOptions{Tamper: true}}), WantStep: trust.StepVoucherSignature},
		{Name: "bad-voucher-signer-not-yet-valid", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Signer: &futureSigner}), WantStep: trust.StepVoucherSignature},
		{Name: "bad-voucher-sha1", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Sign: SignOptions{SHA1: true}}), WantStep: trust.StepVoucherSignature},
		{Name: "bad-voucher-expired-chain", Artifacts: good, Now: future, WantStep: trust.StepVoucherSignature},
		// RFC 8572 5.4 step 2: dates (C24, C25).
		{Name: "bad-voucher-created-in-future", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{CreatedOn: future}), WantStep: trust.StepVoucherDates},
		{Name: "bad-voucher-expired", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{ExpiresOn: past}), WantStep: trust.StepVoucherDates},
		// RFC 8572 5.4 step 3: assertion (C26).
		{Name: "bad-assertion-policy", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Assertion: "logged"}), Assertions: []string{"verified"}, WantStep: trust.StepAssertion},
		{Name: "bad-assertion-unknown", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Assertion: "agent-proximity"}), WantStep: trust.StepAssertion},
		// RFC 8572 5.4 step 4: serial number (C27).
		{Name: "bad-serial-number", Artifacts: good, Serial: "SZTP-TEST-0002", WantStep: trust.StepSerialNumber},
		// RFC 8572 5.4 step 5: idevid-issuer (C28).
		{Name: "bad-idevid-issuer", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{IDevIDIssuer: []byte("not the device CA key id")}), WantStep: trust.StepIDevIDIssuer},
		// RFC 8572 5.4 step 6: nonce (C29, C30).
		{Name: "bad-nonce-mismatch", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Nonce: nonce}), Nonce: []byte("fedcba9876543210"), WantStep: trust.StepNonce},
		{Name: "bad-nonce-not-sent", Artifacts: b.signed(OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, VoucherOptions{Nonce: nonce}), WantStep: trust.StepNonce},
		// RFC 8572 5.4 step 7: pinned-domain-cert.
		{Name: "bad-pinned-domain-cert-missing", Artifacts: voucherJSON(fmt.Sprintf(`{"ietf-voucher:voucher":{"created-on":%q,"assertion":"verified","serial-number":%q}}`, p.NotBefore.Format(time.RFC3339), d.Serial)), WantStep: trust.StepPinnedDomainCert},
		{Name: "bad-pinned-domain-cert-garbage", Artifacts: voucherJSON(fmt.Sprintf(`{"ietf-voucher:voucher":{"created-on":%q,"assertion":"verified","serial-number":%q,"pinned-domain-cert":"bm90IGEgY2VydGlmaWNhdGU="}}`, p.NotBefore.Format(time.RFC3339), d.Serial)), WantStep: trust.StepPinnedDomainCert},
		// RFC 8572 5.4 step 8: owner certificate (C31, C38).
		{Name: "bad-owner-other-ca", Artifacts: ownerSet(otherOwner, nil, p.OwnerCA.Cert), WantStep: trust.StepOwnerCertificate},
		{Name: "bad-owner-missing-intermediate", Artifacts: ownerSet(interOwner, nil, p.OwnerCA.Cert), WantStep: trust.StepOwnerCertificate},
		{Name: "bad-owner-expired", Artifacts: ownerSet(expiredOwner, nil, p.OwnerCA.Cert), WantStep: trust.StepOwnerCertificate},
		{Name: "bad-owner-key-usage", Artifacts: ownerSet(kuOwner, nil, p.OwnerCA.Cert), WantStep: trust.StepOwnerCertificate},
		// RFC 8572 5.4 step 9: revocation (C33-C35).
		{Name: "bad-revoked-owner", Artifacts: revoked(boolPtr(true), crlRevoked), WantStep: trust.StepRevocation},
		{Name: "bad-revoked-owner-checks-absent", Artifacts: revoked(nil, crlRevoked), WantStep: trust.StepRevocation},
		{Name: "bad-revocation-no-crl", Artifacts: revoked(boolPtr(true)), WantStep: trust.StepRevocation},
		{Name: "bad-revocation-stale-crl", Artifacts: revoked(boolPtr(true), crlStale), WantStep: trust.StepRevocation},
		{Name: "bad-revocation-wrong-issuer-crl", Artifacts: revoked(boolPtr(true), crlWrongIssuer), WantStep: trust.StepRevocation},
		// RFC 8572 5.4 step 10: conveyed-information signature (C36).
		{Name: "bad-conveyed-wrong-signer", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = signAs(rogueOwner, OnboardingJSON, SignOptions{})
		}), WantStep: trust.StepConveyedInformationSignature},
		{Name: "bad-conveyed-tampered", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = signAs(p.Owner, OnboardingJSON, SignOptions{Tamper: true})
		}), WantStep: trust.StepConveyedInformationSignature},
		{Name: "bad-conveyed-content-type-attribute", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = signAs(p.Owner, OnboardingJSON, SignOptions{AttributeContentType: trust.OIDData})
		}), WantStep: trust.StepConveyedInformationSignature},
		{Name: "bad-conveyed-no-signed-attributes", Artifacts: with(func(a *trust.Artifacts) {
			a.ConveyedInformation = signAs(p.Owner, OnboardingJSON, SignOptions{NoSignedAttributes: true})
		}), WantStep: trust.StepConveyedInformationSignature},
	}
	if b.err != nil {
		return nil, b.err
	}
	return cases, nil
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
