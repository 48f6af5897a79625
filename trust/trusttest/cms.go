package trusttest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/sztp/sztp/trust"
)

var (
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidRSAEncryption     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSAWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
)

// SignOptions changes how Sign builds a SignedData, mostly to make broken
// artifacts for tests. The zero value makes a correct one.
type SignOptions struct {
	// Certificates are put in the SignedData certificates field, in order.
	Certificates []*x509.Certificate
	// CRLs (DER) are put in the crls field.
	CRLs [][]byte
	// NoSignedAttributes signs the content directly (allowed for id-data).
	NoSignedAttributes bool
	// AttributeContentType overrides the signed content-type attribute.
	AttributeContentType asn1.ObjectIdentifier
	// SHA1 uses SHA-1 as the digest (rejected by trust).
	SHA1 bool
	// SubjectKeyID identifies the signer by subject key identifier instead of
	// issuer and serial number.
	SubjectKeyID bool
	// Tamper flips a byte of the content after signing.
	Tamper bool
}

type issuerAndSerial struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

type algorithmIdentifier = pkix.AlgorithmIdentifier

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional"`
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional"`
	CRLs             asn1.RawValue `asn1:"optional"`
	SignerInfos      asn1.RawValue
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

// ContentInfo wraps DER content (a SEQUENCE, or an OCTET STRING) in a
// ContentInfo of the given type.
func ContentInfo(typ asn1.ObjectIdentifier, content []byte) ([]byte, error) {
	return asn1.Marshal(contentInfo{ContentType: typ, Content: explicit0(content)})
}

func explicit0(b []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: b}
}

// derSet encodes elements as a DER SET OF (sorted), with the given tag
// byte (0x31 for SET, 0xa0/0xa1 for implicit context tags).
func derSet(tag byte, elems [][]byte) []byte {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	body := bytes.Join(sorted, nil)
	return append(encodeHeader(tag, len(body)), body...)
}

// rawList encodes elements in the given order (not sorted), as BER allows
// for SET OF: used for certificate bags whose order matters to the reader.
func rawList(tag byte, elems [][]byte) []byte {
	body := bytes.Join(elems, nil)
	return append(encodeHeader(tag, len(body)), body...)
}

func encodeHeader(tag byte, n int) []byte {
	if n < 0x80 {
		return []byte{tag, byte(n)}
	}
	var l []byte
	for v := n; v > 0; v >>= 8 {
		l = append([]byte{byte(v)}, l...)
	}
	return append([]byte{tag, 0x80 | byte(len(l))}, l...)
}

func fullRaw(b []byte) asn1.RawValue { return asn1.RawValue{FullBytes: b} }

// Sign makes a CMS SignedData ContentInfo over content with eContentType
// contentType, signed by cert/key.
func Sign(content []byte, contentType asn1.ObjectIdentifier, cert *x509.Certificate, key crypto.Signer, opt SignOptions) ([]byte, error) {
	h, digestOID := crypto.SHA256, oidSHA256
	if pub, ok := key.Public().(*ecdsa.PublicKey); ok && pub.Curve == elliptic.P384() {
		h, digestOID = crypto.SHA384, oidSHA384
	}
	if opt.SHA1 {
		h, digestOID = crypto.SHA1, oidSHA1
	}
	var sigAlg asn1.ObjectIdentifier
	switch key.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = oidRSAEncryption
	case *ecdsa.PublicKey:
		sigAlg = oidECDSAWithSHA256
		if h == crypto.SHA384 {
			sigAlg = oidECDSAWithSHA384
		}
	default:
		return nil, fmt.Errorf("trusttest: unsupported signer key %T", key.Public())
	}
	d := h.New()
	d.Write(content)
	md := d.Sum(nil)

	var sid asn1.RawValue
	if opt.SubjectKeyID {
		if len(cert.SubjectKeyId) == 0 {
			return nil, errors.New("trusttest: signer certificate has no subject key identifier")
		}
		sid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: cert.SubjectKeyId}
	} else {
		b, err := asn1.Marshal(issuerAndSerial{Issuer: fullRaw(cert.RawIssuer), SerialNumber: cert.SerialNumber})
		if err != nil {
			return nil, err
		}
		sid = fullRaw(b)
	}
	si := signerInfo{
		Version:            1,
		SID:                sid,
		DigestAlgorithm:    algorithmIdentifier{Algorithm: digestOID},
		SignatureAlgorithm: algorithmIdentifier{Algorithm: sigAlg},
	}
	if opt.SubjectKeyID {
		si.Version = 3
	}
	toSign := content
	if !opt.NoSignedAttributes {
		ct := contentType
		if opt.AttributeContentType != nil {
			ct = opt.AttributeContentType
		}
		attrs, err := attributes(ct, md)
		if err != nil {
			return nil, err
		}
		toSign = derSet(0x31, attrs)
		si.SignedAttrs = fullRaw(derSet(0xa0, attrs))
	}
	d = h.New()
	d.Write(toSign)
	var err error
	if si.Signature, err = key.Sign(rand.Reader, d.Sum(nil), h); err != nil {
		return nil, err
	}
	siDER, err := asn1.Marshal(si)
	if err != nil {
		return nil, err
	}
	algDER, err := asn1.Marshal(algorithmIdentifier{Algorithm: digestOID})
	if err != nil {
		return nil, err
	}
	signedContent := content
	if opt.Tamper {
		signedContent = slices.Clone(content)
		signedContent[len(signedContent)/2] ^= 0x01
	}
	return buildSignedData(signedContent, contentType, [][]byte{algDER}, [][]byte{siDER}, opt.Certificates, opt.CRLs)
}

func attributes(ct asn1.ObjectIdentifier, md []byte) ([][]byte, error) {
	type attr struct {
		Type   asn1.ObjectIdentifier
		Values []any `asn1:"set"`
	}
	var out [][]byte
	for _, a := range []attr{
		{oidAttrContentType, []any{ct}},
		{oidAttrSigningTime, []any{time.Now().UTC()}},
		{oidAttrMessageDigest, []any{md}},
	} {
		b, err := asn1.Marshal(a)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func buildSignedData(content []byte, contentType asn1.ObjectIdentifier, algs, signers [][]byte, certs []*x509.Certificate, crls [][]byte) ([]byte, error) {
	version := 1
	if !contentType.Equal(trust.OIDData) {
		version = 3
	}
	sd := signedData{
		Version:          version,
		DigestAlgorithms: fullRaw(derSet(0x31, algs)),
		EncapContentInfo: encapContentInfo{EContentType: contentType},
		SignerInfos:      fullRaw(derSet(0x31, signers)),
	}
	if content != nil {
		oct, err := asn1.Marshal(content)
		if err != nil {
			return nil, err
		}
		sd.EncapContentInfo.EContent = explicit0(oct)
	}
	if len(certs) > 0 {
		var raw [][]byte
		for _, c := range certs {
			raw = append(raw, c.Raw)
		}
		sd.Certificates = fullRaw(rawList(0xa0, raw))
	}
	if len(crls) > 0 {
		sd.CRLs = fullRaw(rawList(0xa1, crls))
	}
	b, err := asn1.Marshal(sd)
	if err != nil {
		return nil, err
	}
	return ContentInfo(trust.OIDSignedData, b)
}

// CertsOnly makes a degenerate (certs-only) SignedData holding certs in the
// given order and the DER CRLs.
func CertsOnly(certs []*x509.Certificate, crls ...[]byte) ([]byte, error) {
	return buildSignedData(nil, trust.OIDData, nil, nil, certs, crls)
}
