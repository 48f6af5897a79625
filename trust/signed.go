package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/sha256" // digest algorithms CMS signers use
	_ "crypto/sha512"
)

// signedData is RFC 5652 SignedData (PKCS#7 version 1 is accepted too).
type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer       asn1.RawValue
	SerialNumber *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

var (
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// signed is a parsed SignedData.
type signed struct {
	contentType asn1.ObjectIdentifier
	content     []byte // the eContent octets; nil when absent
	certs       []*x509.Certificate
	crls        []*x509.RevocationList
	signers     []signerInfo
}

// parseSignedData parses the DER content of a ContentInfo of type
// id-signedData.
func parseSignedData(der []byte) (*signed, error) {
	var sd signedData
	rest, err := asn1.Unmarshal(der, &sd)
	if err != nil {
		return nil, fmt.Errorf("SignedData: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("SignedData: trailing data")
	}
	if sd.Version < 1 || sd.Version > 5 {
		return nil, fmt.Errorf("SignedData: version %d is not 1 to 5", sd.Version)
	}
	if len(sd.SignerInfos) > maxSetElements {
		return nil, fmt.Errorf("SignedData has %d signers, more than %d", len(sd.SignerInfos), maxSetElements)
	}
	s := &signed{contentType: sd.EncapContentInfo.EContentType, signers: sd.SignerInfos}
	if len(sd.EncapContentInfo.EContent.FullBytes) != 0 {
		if _, err := asn1.Unmarshal(sd.EncapContentInfo.EContent.Bytes, &s.content); err != nil {
			return nil, fmt.Errorf("SignedData eContent is not an OCTET STRING: %w", err)
		}
		if s.content == nil {
			s.content = []byte{}
		}
	}
	if s.certs, err = parseCertificateSet(sd.Certificates.Bytes); err != nil {
		return nil, err
	}
	if s.crls, err = parseCRLSet(sd.CRLs.Bytes); err != nil {
		return nil, err
	}
	return s, nil
}

// maxSetElements bounds the certificates, CRLs and signers of one
// SignedData: chain building is quadratic in the number of certificates.
const maxSetElements = 64

// parseCertificateSet parses the elements of a CertificateSet, keeping
// their order; attribute and other certificate formats are skipped.
func parseCertificateSet(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil, fmt.Errorf("SignedData certificates: %w", err)
		}
		b = rest
		if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence {
			continue
		}
		if len(certs) == maxSetElements {
			return nil, fmt.Errorf("SignedData holds more than %d certificates", maxSetElements)
		}
		c, err := x509.ParseCertificate(v.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("SignedData certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// parseCRLSet parses RevocationInfoChoices; other revocation formats
// (OCSP responses) are skipped.
func parseCRLSet(b []byte) ([]*x509.RevocationList, error) {
	var crls []*x509.RevocationList
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil, fmt.Errorf("SignedData crls: %w", err)
		}
		b = rest
		if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence {
			continue
		}
		if len(crls) == maxSetElements {
			return nil, fmt.Errorf("SignedData holds more than %d CRLs", maxSetElements)
		}
		crl, err := x509.ParseRevocationList(v.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("SignedData CRL %d: %w", len(crls)+1, err)
		}
		crls = append(crls, crl)
	}
	return crls, nil
}

// matches reports whether a SignerIdentifier or RecipientIdentifier names
// the certificate: IssuerAndSerialNumber, or [0] SubjectKeyIdentifier.
func sidMatches(sid asn1.RawValue, c *x509.Certificate) bool {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
			return false
		}
		return bytes.Equal(ias.Issuer.FullBytes, c.RawIssuer) && ias.SerialNumber.Cmp(c.SerialNumber) == 0
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		return len(c.SubjectKeyId) > 0 && bytes.Equal(sid.Bytes, c.SubjectKeyId)
	}
	return false
}

// describeSID renders a signer or recipient identifier for error messages.
func describeSID(sid asn1.RawValue) string {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err == nil {
			var name pkix.RDNSequence
			if _, err := asn1.Unmarshal(ias.Issuer.FullBytes, &name); err == nil {
				return fmt.Sprintf("issuer %q serial %s", name.String(), ias.SerialNumber)
			}
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
		return fmt.Sprintf("subject key identifier %x", sid.Bytes)
	}
	return "an unreadable identifier"
}

// findSigner returns the certificate among certs that si names.
func findSigner(si signerInfo, certs []*x509.Certificate) *x509.Certificate {
	for _, c := range certs {
		if sidMatches(si.SID, c) {
			return c
		}
	}
	return nil
}

func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	case oid.Equal(oidSHA224):
		return crypto.SHA224, nil
	case oid.Equal(oidSHA1):
		return 0, errors.New("digest algorithm SHA-1 is too weak for signatures")
	}
	return 0, fmt.Errorf("unsupported digest algorithm %v", oid)
}

// verifySigner checks that si is a valid signature by cert over the
// content of s: the signed attributes (when present) must hold the content
// type and the message digest, and the signature must verify.
func verifySigner(s *signed, si signerInfo, cert *x509.Certificate) error {
	if s.content == nil {
		return errors.New("detached signatures are not supported: the SignedData has no content")
	}
	h, err := hashForOID(si.DigestAlgorithm.Algorithm)
	if err != nil {
		return err
	}
	digest := h.New()
	digest.Write(s.content)
	md := digest.Sum(nil)
	msg := s.content
	if len(si.SignedAttrs.FullBytes) != 0 {
		if err := checkSignedAttrs(si.SignedAttrs.Bytes, s.contentType, md); err != nil {
			return err
		}
		// The signature covers the DER of the attributes as a SET OF.
		msg = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	} else if !s.contentType.Equal(OIDData) {
		return fmt.Errorf("signer has no signed attributes, which RFC 5652 requires for content type %s", oidName(s.contentType))
	}
	return verifySignature(cert.PublicKey, si.SignatureAlgorithm, h, msg, si.Signature)
}

func checkSignedAttrs(b []byte, contentType asn1.ObjectIdentifier, md []byte) error {
	var gotType, gotDigest bool
	for len(b) > 0 {
		var a attribute
		rest, err := asn1.Unmarshal(b, &a)
		if err != nil {
			return fmt.Errorf("signed attributes: %w", err)
		}
		b = rest
		switch {
		case a.Type.Equal(oidAttrContentType):
			var oid asn1.ObjectIdentifier
			if rest, err := asn1.Unmarshal(a.Values.Bytes, &oid); err != nil || len(rest) != 0 {
				return errors.New("signed attributes: content-type attribute is not one OID")
			}
			if !oid.Equal(contentType) {
				return fmt.Errorf("signed content-type attribute %s does not match eContentType %s", oidName(oid), oidName(contentType))
			}
			gotType = true
		case a.Type.Equal(oidAttrMessageDigest):
			var v []byte
			if rest, err := asn1.Unmarshal(a.Values.Bytes, &v); err != nil || len(rest) != 0 {
				return errors.New("signed attributes: message-digest attribute is not one OCTET STRING")
			}
			if !bytes.Equal(v, md) {
				return errors.New("message digest does not match the content (content altered)")
			}
			gotDigest = true
		}
	}
	if !gotType || !gotDigest {
		return errors.New("signed attributes lack content-type or message-digest")
	}
	return nil
}

type pssParams struct {
	Hash         pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MGF          pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
	SaltLength   int                      `asn1:"explicit,optional,default:20,tag:2"`
	TrailerField int                      `asn1:"explicit,optional,default:1,tag:3"`
}

func verifySignature(pub crypto.PublicKey, alg pkix.AlgorithmIdentifier, h crypto.Hash, msg, sig []byte) error {
	d := h.New()
	d.Write(msg)
	sum := d.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg.Algorithm.Equal(oidRSAPSS) {
			var p pssParams
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
				return fmt.Errorf("RSASSA-PSS parameters: %w", err)
			}
			ph, err := hashForOID(p.Hash.Algorithm)
			if len(p.Hash.Algorithm) == 0 || err != nil || ph != h {
				return errors.New("RSASSA-PSS hash does not match the digest algorithm")
			}
			if err := rsa.VerifyPSS(k, h, sum, sig, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: h}); err != nil {
				return fmt.Errorf("RSA-PSS signature does not verify: %w", err)
			}
			return nil
		}
		if err := rsa.VerifyPKCS1v15(k, h, sum, sig); err != nil {
			return fmt.Errorf("RSA signature does not verify: %w", err)
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, sum, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if !alg.Algorithm.Equal(oidEd25519) {
			return fmt.Errorf("signature algorithm %v does not fit an Ed25519 key", alg.Algorithm)
		}
		if !ed25519.Verify(k, msg, sig) {
			return errors.New("Ed25519 signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unsupported signer key type %T", pub)
}
