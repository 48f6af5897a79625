package trust

import (
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Content types of RFC 8572 artifacts (digest 1.4).
var (
	OIDData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDEnvelopedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	OIDAuthEnvelopedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	OIDAnimaJSONVoucher     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 40}
	OIDSZTPConveyedInfoXML  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 42}
	OIDSZTPConveyedInfoJSON = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 43}
)

// ECDHKey is a private key agreement key that may live outside the process
// (in a TPM): it returns the shared secret Z for a peer's ephemeral key.
type ECDHKey interface {
	Public() *ecdh.PublicKey
	ECDH(peer *ecdh.PublicKey) ([]byte, error)
}

// Artifacts are the raw DER (or BER) bytes of the three artifacts.
// OwnerCertificate and OwnershipVoucher are nil for unsigned data.
type Artifacts struct {
	ConveyedInformation []byte
	OwnerCertificate    []byte
	OwnershipVoucher    []byte
}

// Options are the device's trust inputs for one validation.
type Options struct {
	// VoucherAnchors are the pre-configured voucher (manufacturer) trust anchors.
	VoucherAnchors []*x509.Certificate
	// SerialNumber is the device serial number (from its IDevID).
	SerialNumber string
	// IDevID is the device certificate, used for idevid-issuer (may be nil).
	IDevID *x509.Certificate
	// Nonce is the nonce sent in this request (nil when none was sent).
	Nonce []byte
	// Decrypter and ECDH decrypt EnvelopedData (either may be nil).
	Decrypter crypto.Decrypter
	ECDH      ECDHKey
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// ClockUntrusted skips created-on/expires-on and certificate validity
	// checks (RFC 8572 9.1), and says so in the log and the Result.
	ClockUntrusted bool
	// Assertions accepted; nil means verified, logged and proximity.
	Assertions []string
	Logger     *slog.Logger
}

// Result is what Open found.
type Result struct {
	Encrypted bool
	Signed    bool
	// ContentType is the content type of the conveyed information document:
	// OIDSZTPConveyedInfoJSON, OIDSZTPConveyedInfoXML or OIDData.
	ContentType asn1.ObjectIdentifier
	// Content is the conveyed-information document (JSON or XML).
	Content []byte
	// OwnerCertificate is the validated owner certificate (signed data only).
	OwnerCertificate *x509.Certificate
	// ClockSkipped is true when clock-sensitive checks were skipped.
	ClockSkipped bool
}

// Step names a step of the digest 2.4 validation order.
type Step string

// StepError is a failure at one validation step; errors.As finds it.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Steps of the digest 2.4 validation order, plus parsing and decryption.
const (
	StepParse   Step = "parse"
	StepDecrypt Step = "decrypt"
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// Open decrypts, parses and (for signed data) validates the artifacts and
// returns the conveyed-information document.
func Open(a Artifacts, opts Options) (*Result, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(a.ConveyedInformation, &ci)
	if err != nil {
		return nil, &StepError{StepParse, fmt.Errorf("conveyed-information: %w", err)}
	}
	if len(rest) != 0 {
		return nil, &StepError{StepParse, errors.New("conveyed-information: trailing data after ContentInfo")}
	}
	switch {
	case ci.ContentType.Equal(OIDSZTPConveyedInfoJSON), ci.ContentType.Equal(OIDSZTPConveyedInfoXML), ci.ContentType.Equal(OIDData):
		var content []byte
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &content); err != nil {
			return nil, &StepError{StepParse, fmt.Errorf("conveyed-information content: %w", err)}
		}
		return &Result{ContentType: ci.ContentType, Content: content}, nil
	}
	return nil, &StepError{StepParse, fmt.Errorf("conveyed-information: content type %v not supported yet", ci.ContentType)}
}

// WrapUnsigned wraps a conveyed-information document in an unsigned
// ContentInfo of the given content type (for servers and tests).
func WrapUnsigned(contentType asn1.ObjectIdentifier, doc []byte) ([]byte, error) {
	inner, err := asn1.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: contentType, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

// ParseCertsOnly returns the certificates of a degenerate (certs-only) CMS
// SignedData, in order. Used for redirect trust anchors and owner certificates.
func ParseCertsOnly(der []byte) ([]*x509.Certificate, error) {
	return nil, errors.New("trust: certs-only CMS not implemented yet")
}
