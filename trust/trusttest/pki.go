package trusttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/sztp/sztp/trust"
)

// Validity of every certificate New issues: long enough that committed test
// data never expires. Expiry tests move Options.Now instead.
const Validity = 100 * 365 * 24 * time.Hour

// KeyType selects the key algorithm of an issued certificate.
type KeyType string

// Key types.
const (
	P256    KeyType = "p256"
	P384    KeyType = "p384"
	RSA2048 KeyType = "rsa2048"
)

// Issued is a certificate with its private key.
type Issued struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PKI is an in-memory test PKI: the manufacturer (MASA) that signs vouchers,
// the owner that signs conveyed information, the device CA that issues
// IDevIDs, and the CA of the bootstrap servers' TLS certificates.
type PKI struct {
	// ManufacturerCA is the voucher trust anchor; VoucherSigner, issued by
	// it, signs vouchers (and travels in the voucher CMS).
	ManufacturerCA, VoucherSigner Issued
	// OwnerCA is the pinned-domain-cert; Owner, issued by it, is the owner
	// certificate whose key signs conveyed information.
	OwnerCA, Owner Issued
	// DeviceCA issues IDevIDs; ServerCA issues TLS server certificates.
	DeviceCA, ServerCA Issued
	// NotBefore and NotAfter bound every certificate issued.
	NotBefore, NotAfter time.Time
}

// New makes a fresh PKI with ECDSA P-256 keys.
func New() (*PKI, error) {
	p := &PKI{NotBefore: time.Now().Add(-time.Hour).UTC().Truncate(time.Second)}
	p.NotAfter = p.NotBefore.Add(Validity)
	var err error
	if p.ManufacturerCA, err = p.Issue(Template("Example Manufacturer Voucher CA", true), P256, nil); err != nil {
		return nil, err
	}
	if p.VoucherSigner, err = p.Issue(Template("Example MASA Voucher Signer", false), P256, &p.ManufacturerCA); err != nil {
		return nil, err
	}
	if p.OwnerCA, err = p.Issue(Template("Example Owner CA", true), P256, nil); err != nil {
		return nil, err
	}
	if p.Owner, err = p.Issue(Template("Example Owner Signing Certificate", false), P256, &p.OwnerCA); err != nil {
		return nil, err
	}
	if p.DeviceCA, err = p.Issue(Template("Example Device CA", true), P256, nil); err != nil {
		return nil, err
	}
	if p.ServerCA, err = p.Issue(Template("Example Bootstrap Server CA", true), P256, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// Template returns a certificate template with the given common name; a CA
// template when ca is true, else a digitalSignature end-entity template.
func Template(cn string, ca bool) *x509.Certificate {
	t := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"sztp test"}}}
	if ca {
		t.IsCA = true
		t.BasicConstraintsValid = true
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		t.BasicConstraintsValid = true
		t.KeyUsage = x509.KeyUsageDigitalSignature
	}
	return t
}

// NewKey generates a key of the given type.
func NewKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case P256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("trusttest: unknown key type %q", kt)
}

// Issue signs tmpl with a fresh key of type kt by parent (self-signed when
// parent is nil). Zero validity dates default to the PKI's; the serial
// number and subject key identifier are filled in.
func (p *PKI) Issue(tmpl *x509.Certificate, kt KeyType, parent *Issued) (Issued, error) {
	key, err := NewKey(kt)
	if err != nil {
		return Issued{}, err
	}
	return p.IssueKey(tmpl, key, parent)
}

// IssueKey is Issue with a given key.
func (p *PKI) IssueKey(tmpl *x509.Certificate, key crypto.Signer, parent *Issued) (Issued, error) {
	t := *tmpl
	if t.SerialNumber == nil {
		sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
		if err != nil {
			return Issued{}, err
		}
		t.SerialNumber = sn.Add(sn, big.NewInt(1))
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = p.NotBefore
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = p.NotAfter
	}
	if t.SubjectKeyId == nil {
		pub, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			return Issued{}, err
		}
		sum := sha1.Sum(pub)
		t.SubjectKeyId = sum[:]
	}
	parentCert, parentKey := &t, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parentCert, key.Public(), parentKey)
	if err != nil {
		return Issued{}, fmt.Errorf("trusttest: issuing %q: %w", t.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Cert: c, Key: key}, nil
}

// IssueIDevID issues a P-256 IDevID for serial: subject serialNumber
// attribute, authority key identifier set, digitalSignature and
// keyAgreement (so it can also receive ECDH-encrypted artifacts).
func (p *PKI) IssueIDevID(serial string) (*x509.Certificate, crypto.Signer, error) {
	id, err := p.IssueDevice(serial, P256)
	return id.Cert, id.Key, err
}

// IssueDevice issues a device certificate for serial with a key of type kt;
// RSA keys get keyEncipherment, EC keys keyAgreement, for encrypted
// artifacts.
func (p *PKI) IssueDevice(serial string, kt KeyType) (Issued, error) {
	t := Template("sztp test device "+serial, false)
	t.Subject.SerialNumber = serial
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if kt == RSA2048 {
		t.KeyUsage |= x509.KeyUsageKeyEncipherment
	} else {
		t.KeyUsage |= x509.KeyUsageKeyAgreement
	}
	return p.Issue(t, kt, &p.DeviceCA)
}

// IssueServer issues a TLS server certificate for the given IP addresses
// and DNS names, by ServerCA.
func (p *PKI) IssueServer(hosts ...string) (*x509.Certificate, crypto.Signer, error) {
	t := Template("sztp test bootstrap server", false)
	t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	t.KeyUsage |= x509.KeyUsageKeyEncipherment
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	s, err := p.Issue(t, P256, &p.ServerCA)
	return s.Cert, s.Key, err
}

// ServerTrustAnchor is the certs-only CMS for a redirect-information
// trust-anchor leaf that authenticates servers from IssueServer.
func (p *PKI) ServerTrustAnchor() ([]byte, error) {
	return CertsOnly([]*x509.Certificate{p.ServerCA.Cert})
}

// VoucherOptions describe an ownership voucher. Zero fields get sensible
// values: assertion "verified", created-on an hour before the PKI's
// NotBefore, pinned-domain-cert the owner CA.
type VoucherOptions struct {
	Serial    string
	Nonce     []byte
	Assertion string
	CreatedOn time.Time
	ExpiresOn time.Time
	// IDevIDIssuer is the idevid-issuer leaf (use the IDevID's
	// AuthorityKeyId).
	IDevIDIssuer []byte
	// PinnedDomainCert defaults to OwnerCA.
	PinnedDomainCert *x509.Certificate
	// RevocationChecks sets domain-cert-revocation-checks; nil omits it.
	RevocationChecks *bool
	// ContentType is the eContentType (default id-ct-animaJSONVoucher).
	ContentType asn1.ObjectIdentifier
	// Signer overrides the voucher signer (default VoucherSigner);
	// Certificates overrides the certificates put in the CMS (default the
	// signer and the manufacturer CA).
	Signer       *Issued
	Certificates []*x509.Certificate
	// CRLs are stapled into the voucher CMS.
	CRLs [][]byte
	// JSON replaces the whole voucher document.
	JSON []byte
	// Sign tweaks the SignedData.
	Sign SignOptions
}

// VoucherJSON renders the voucher document for o.
func (p *PKI) VoucherJSON(o VoucherOptions) ([]byte, error) {
	if o.JSON != nil {
		return o.JSON, nil
	}
	v := map[string]any{}
	created := o.CreatedOn
	if created.IsZero() {
		created = p.NotBefore
	}
	v["created-on"] = created.Format(time.RFC3339)
	if !o.ExpiresOn.IsZero() {
		v["expires-on"] = o.ExpiresOn.Format(time.RFC3339)
	}
	v["assertion"] = o.Assertion
	if o.Assertion == "" {
		v["assertion"] = "verified"
	}
	v["serial-number"] = o.Serial
	if o.IDevIDIssuer != nil {
		v["idevid-issuer"] = base64.StdEncoding.EncodeToString(o.IDevIDIssuer)
	}
	pinned := o.PinnedDomainCert
	if pinned == nil {
		pinned = p.OwnerCA.Cert
	}
	v["pinned-domain-cert"] = base64.StdEncoding.EncodeToString(pinned.Raw)
	if o.RevocationChecks != nil {
		v["domain-cert-revocation-checks"] = *o.RevocationChecks
	}
	if o.Nonce != nil {
		v["nonce"] = base64.StdEncoding.EncodeToString(o.Nonce)
	}
	return json.Marshal(map[string]any{"ietf-voucher:voucher": v})
}

// Voucher makes a signed ownership voucher (CMS SignedData).
func (p *PKI) Voucher(o VoucherOptions) ([]byte, error) {
	doc, err := p.VoucherJSON(o)
	if err != nil {
		return nil, err
	}
	signer := p.VoucherSigner
	if o.Signer != nil {
		signer = *o.Signer
	}
	so := o.Sign
	so.Certificates = o.Certificates
	if so.Certificates == nil {
		so.Certificates = []*x509.Certificate{signer.Cert, p.ManufacturerCA.Cert}
	}
	so.CRLs = o.CRLs
	ct := o.ContentType
	if ct == nil {
		ct = trust.OIDAnimaJSONVoucher
	}
	return Sign(doc, ct, signer.Cert, signer.Key, so)
}

// OwnerCertificateCMS is the owner-certificate artifact: a certs-only CMS
// with the owner certificate (the pinned owner CA is not included).
func (p *PKI) OwnerCertificateCMS(crls ...[]byte) ([]byte, error) {
	return CertsOnly([]*x509.Certificate{p.Owner.Cert}, crls...)
}

// SignConveyed signs a conveyed-information document with the owner key.
func (p *PKI) SignConveyed(doc []byte, contentType asn1.ObjectIdentifier) ([]byte, error) {
	return Sign(doc, contentType, p.Owner.Cert, p.Owner.Key, SignOptions{})
}

// CRL issues a CRL by issuer revoking the given serial numbers, valid from
// an hour ago for the PKI's lifetime (nextUpdate far ahead).
func (p *PKI) CRL(issuer Issued, revoked ...*big.Int) ([]byte, error) {
	now := time.Now().UTC()
	return p.CRLAt(issuer, now.Add(-time.Hour), p.NotAfter, revoked...)
}

// CRLAt is CRL with explicit thisUpdate and nextUpdate.
func (p *PKI) CRLAt(issuer Issued, thisUpdate, nextUpdate time.Time, revoked ...*big.Int) ([]byte, error) {
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	for _, sn := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: sn, RevocationTime: thisUpdate})
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, issuer.Cert, issuer.Key)
}

// Artifacts returns a complete, valid signed artifact set for doc: the
// conveyed information signed by the owner key with eContentType ct, the
// owner-certificate CMS, and a voucher made with vo (vo.Serial must be the
// device serial number).
func (p *PKI) Artifacts(doc []byte, ct asn1.ObjectIdentifier, vo VoucherOptions) (trust.Artifacts, error) {
	ci, err := p.SignConveyed(doc, ct)
	if err != nil {
		return trust.Artifacts{}, err
	}
	oc, err := p.OwnerCertificateCMS()
	if err != nil {
		return trust.Artifacts{}, err
	}
	ov, err := p.Voucher(vo)
	if err != nil {
		return trust.Artifacts{}, err
	}
	return trust.Artifacts{ConveyedInformation: ci, OwnerCertificate: oc, OwnershipVoucher: ov}, nil
}

// EncryptArtifacts encrypts every present artifact of a to recipient
// (RFC 8572 3.4: sign first, then encrypt).
func EncryptArtifacts(a trust.Artifacts, recipient *x509.Certificate, o EncryptOptions) (trust.Artifacts, error) {
	var out trust.Artifacts
	for _, f := range []struct{ in, out *[]byte }{
		{&a.ConveyedInformation, &out.ConveyedInformation},
		{&a.OwnerCertificate, &out.OwnerCertificate},
		{&a.OwnershipVoucher, &out.OwnershipVoucher},
	} {
		if *f.in == nil {
			continue
		}
		b, err := EncryptArtifact(recipient, *f.in, o)
		if err != nil {
			return trust.Artifacts{}, err
		}
		*f.out = b
	}
	return out, nil
}

// CertsOnly is the package function CertsOnly, as a method for callers
// that hold a *PKI.
func (p *PKI) CertsOnly(certs ...*x509.Certificate) ([]byte, error) {
	return CertsOnly(certs)
}

// EncryptFor is the package function EncryptFor, as a method.
func (p *PKI) EncryptFor(recipient *x509.Certificate, content []byte, innerType asn1.ObjectIdentifier) ([]byte, error) {
	return EncryptFor(recipient, content, innerType)
}
