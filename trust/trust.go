package trust

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Content types of RFC 8572 artifacts (RFC 8572 3).
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
// (in a TPM): it returns the shared secret Z (the raw x-coordinate) for a
// peer's ephemeral key. NewECDHKey adapts an in-memory key.
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
	// IDevID is the device certificate, used for idevid-issuer (may be nil;
	// then a voucher carrying idevid-issuer is rejected).
	IDevID *x509.Certificate
	// Nonce is the nonce sent in this request (nil when none was sent).
	Nonce []byte
	// Decrypter and ECDH decrypt EnvelopedData (either may be nil).
	// Decrypter must hold an RSA key (key transport, PKCS#1 v1.5 or OAEP),
	// and honour rsa.PKCS1v15DecryptOptions.SessionKeyLen (a random key,
	// not an error, on a bad padding: *rsa.PrivateKey and tpm.Decrypter do),
	// so that decryption errors are no padding oracle.
	Decrypter crypto.Decrypter
	ECDH      ECDHKey
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// ClockUntrusted skips created-on/expires-on, certificate validity and
	// CRL freshness checks (RFC 8572 9.1), and says so in the log and the
	// Result. See ClockTrustworthy for how a device decides.
	ClockUntrusted bool
	// Context bounds decryption (nil: none): it is checked before every
	// key operation, which may be a slow TPM command.
	Context context.Context
	// Assertions accepted; nil means verified, logged and proximity.
	Assertions []string
	Logger     *slog.Logger
}

// DefaultAssertions are the voucher assertions accepted when
// Options.Assertions is nil.
var DefaultAssertions = []string{"verified", "logged", "proximity"}

// Result is what Open found.
type Result struct {
	Encrypted bool
	Signed    bool
	// ContentType is the content type of the conveyed information document:
	// OIDSZTPConveyedInfoJSON, OIDSZTPConveyedInfoXML or OIDData (then the
	// encoding is sniffed, see conveyed.Sniff).
	ContentType asn1.ObjectIdentifier
	// Content is the conveyed-information document (JSON or XML).
	Content []byte
	// OwnerCertificate is the validated owner certificate (signed data only).
	OwnerCertificate *x509.Certificate
	// Voucher is the validated ownership voucher (signed data only).
	Voucher *Voucher
	// ClockSkipped is true when clock-sensitive checks were skipped.
	ClockSkipped bool
}

// Step names a step of the RFC 8572 5.4 validation order.
type Step string

// StepError is a failure at one validation step; errors.As finds it.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Steps of the RFC 8572 5.4 validation order, in order, plus
// parsing and decryption which come before them.
const (
	StepParse                        Step = "parse"
	StepDecrypt                      Step = "decrypt"
	StepVoucherSignature             Step = "voucher-signature"              // 2.4.1
	StepVoucherDates                 Step = "voucher-dates"                  // 2.4.2
	StepAssertion                    Step = "assertion"                      // 2.4.3
	StepSerialNumber                 Step = "serial-number"                  // 2.4.4
	StepIDevIDIssuer                 Step = "idevid-issuer"                  // 2.4.5
	StepNonce                        Step = "nonce"                          // 2.4.6
	StepPinnedDomainCert             Step = "pinned-domain-cert"             // 2.4.7
	StepOwnerCertificate             Step = "owner-certificate"              // 2.4.8
	StepRevocation                   Step = "revocation"                     // 2.4.9
	StepConveyedInformationSignature Step = "conveyed-information-signature" // 2.4.10
)

// Steps lists the validation steps in the order Open performs them.
var Steps = []Step{StepParse, StepDecrypt, StepVoucherSignature, StepVoucherDates, StepAssertion,
	StepSerialNumber, StepIDevIDIssuer, StepNonce, StepPinnedDomainCert, StepOwnerCertificate,
	StepRevocation, StepConveyedInformationSignature}

func stepErr(s Step, format string, a ...any) error {
	return &StepError{Step: s, Err: fmt.Errorf(format, a...)}
}

// StepOf returns the step named by err, or "" when err is not a StepError.
func StepOf(err error) Step {
	var se *StepError
	if errors.As(err, &se) {
		return se.Step
	}
	return ""
}

// isConveyedType reports whether oid is a legal conveyed-information
// document type (RFC 8572 3.1).
func isConveyedType(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(OIDSZTPConveyedInfoJSON) || oid.Equal(OIDSZTPConveyedInfoXML) || oid.Equal(OIDData)
}

const conveyedTypes = "id-ct-sztpConveyedInfoJSON, id-ct-sztpConveyedInfoXML or id-data"

// Open decrypts, parses and (for signed data) validates the artifacts and
// returns the conveyed-information document. Unsigned conveyed information
// is returned as is: the caller decides whether the source may give it
// (RFC 8572 5.3). Signed conveyed information is validated in the order of
// RFC 8572 5.4; the first failing step ends validation with a *StepError.
//
// On error the Result, when not nil, only says what was found (Signed,
// Encrypted, ClockSkipped): it never has Content or an OwnerCertificate.
func Open(a Artifacts, opts Options) (*Result, error) {
	o := &opts
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Assertions == nil {
		o.Assertions = DefaultAssertions
	}
	ci, err := openArtifact("conveyed-information", a.ConveyedInformation, o)
	if err != nil {
		if StepOf(err) == StepDecrypt {
			return &Result{Encrypted: true}, err
		}
		return nil, err
	}
	res := &Result{Encrypted: ci.encrypted}
	switch {
	case isConveyedType(ci.typ):
		res.ContentType, res.Content = ci.typ, ci.doc
		if a.OwnershipVoucher != nil || a.OwnerCertificate != nil {
			o.Logger.Debug("unsigned conveyed information: ignoring the voucher and owner certificate")
		}
		return res, nil
	case ci.typ.Equal(OIDSignedData):
	default:
		return nil, stepErr(StepParse, "conveyed-information: found content type %s, expected %s, id-signedData or id-envelopedData", oidName(ci.typ), conveyedTypes)
	}
	res.Signed = true
	sd, err := parseSignedData(ci.der)
	if err != nil {
		return res, stepErr(StepParse, "conveyed-information: %w", err)
	}
	if !isConveyedType(sd.contentType) {
		return res, stepErr(StepParse, "conveyed-information: signed eContentType is %s, expected %s", oidName(sd.contentType), conveyedTypes)
	}
	if len(sd.signers) == 0 {
		return res, stepErr(StepParse, "conveyed-information: SignedData has no signer")
	}
	if sd.content == nil {
		return res, stepErr(StepParse, "conveyed-information: SignedData has no content")
	}
	if a.OwnershipVoucher == nil || a.OwnerCertificate == nil {
		return res, stepErr(StepParse, "signed conveyed information needs both an ownership voucher and an owner certificate (RFC 8572 5.4)")
	}
	v, err := openVoucherArtifact(a.OwnershipVoucher, o)
	if err != nil {
		res.Encrypted = res.Encrypted || StepOf(err) == StepDecrypt
		return res, err
	}
	oc, err := openOwnerArtifact(a.OwnerCertificate, o)
	if err != nil {
		res.Encrypted = res.Encrypted || StepOf(err) == StepDecrypt
		return res, err
	}
	res.Encrypted = res.Encrypted || v.encrypted || oc.encrypted
	val := &validation{opts: o, res: res, voucher: v, owner: oc, conveyed: sd}
	if err := val.run(); err != nil {
		res.OwnerCertificate, res.Voucher = nil, nil
		return res, err
	}
	res.ContentType, res.Content = sd.contentType, sd.content
	return res, nil
}

// artifact is one artifact after decryption and ContentInfo parsing.
type artifact struct {
	encrypted bool
	typ       asn1.ObjectIdentifier
	der       []byte // DER content, for id-signedData
	doc       []byte // the document octets, for the data types
}

// openArtifact parses a ContentInfo, decrypting one layer of
// (Auth)EnvelopedData.
func openArtifact(name string, b []byte, o *Options) (*artifact, error) {
	if len(b) == 0 {
		return nil, stepErr(StepParse, "%s: empty", name)
	}
	typ, content, err := parseContentInfo(b)
	if err != nil {
		return nil, stepErr(StepParse, "%s: %w", name, err)
	}
	a := &artifact{typ: typ}
	if typ.Equal(OIDEnvelopedData) || typ.Equal(OIDAuthEnvelopedData) {
		var inner asn1.RawValue
		if _, err := asn1.Unmarshal(content, &inner); err != nil || len(content) == 0 {
			return nil, stepErr(StepParse, "%s: %s has no content", name, oidName(typ))
		}
		innerType, plain, err := decryptEnvelope(typ, inner.Bytes, o)
		if err != nil {
			return nil, stepErr(StepDecrypt, "%s: %w", name, err)
		}
		a.encrypted = true
		return a, a.fromPlaintext(name, innerType, plain)
	}
	if len(content) == 0 {
		return nil, stepErr(StepParse, "%s: ContentInfo of type %s has no content", name, oidName(typ))
	}
	var wrapped asn1.RawValue
	if _, err := asn1.Unmarshal(content, &wrapped); err != nil {
		return nil, stepErr(StepParse, "%s: %w", name, err)
	}
	switch {
	case typ.Equal(OIDSignedData):
		a.der = wrapped.Bytes
	case isConveyedType(typ) || typ.Equal(OIDAnimaJSONVoucher):
		if _, err := asn1.Unmarshal(wrapped.Bytes, &a.doc); err != nil {
			return nil, stepErr(StepParse, "%s: %s content is not an OCTET STRING: %w", name, oidName(typ), err)
		}
	}
	return a, nil
}

// fromPlaintext interprets decrypted content. RFC 8572 puts the inner type
// in encryptedContentInfo.contentType; the openssl command line uses id-data
// around a whole DER ContentInfo. Both are accepted.
func (a *artifact) fromPlaintext(name string, typ asn1.ObjectIdentifier, plain []byte) error {
	if typ.Equal(OIDData) && len(plain) > 0 && plain[0] == 0x30 {
		if innerType, content, err := parseContentInfo(plain); err == nil {
			if innerType.Equal(OIDEnvelopedData) || innerType.Equal(OIDAuthEnvelopedData) {
				return stepErr(StepParse, "%s: encrypted content is encrypted again; only one layer is allowed", name)
			}
			var wrapped asn1.RawValue
			if _, err := asn1.Unmarshal(content, &wrapped); err != nil {
				return stepErr(StepParse, "%s: decrypted ContentInfo: %w", name, err)
			}
			a.typ = innerType
			if innerType.Equal(OIDSignedData) {
				a.der = wrapped.Bytes
				return nil
			}
			if _, err := asn1.Unmarshal(wrapped.Bytes, &a.doc); err != nil {
				return stepErr(StepParse, "%s: decrypted %s content is not an OCTET STRING", name, oidName(innerType))
			}
			return nil
		}
	}
	a.typ = typ
	switch {
	case typ.Equal(OIDSignedData):
		der, err := normalize(plain)
		if err != nil {
			return stepErr(StepParse, "%s: decrypted SignedData: %w", name, err)
		}
		a.der = der
	case typ.Equal(OIDEnvelopedData), typ.Equal(OIDAuthEnvelopedData):
		return stepErr(StepParse, "%s: encrypted content is encrypted again; only one layer is allowed", name)
	default:
		a.doc = plain
	}
	return nil
}

// voucherArtifact is a parsed (not yet validated) ownership voucher CMS.
type voucherArtifact struct {
	encrypted bool
	sd        *signed
}

func openVoucherArtifact(b []byte, o *Options) (*voucherArtifact, error) {
	a, err := openArtifact("ownership-voucher", b, o)
	if err != nil {
		return nil, err
	}
	if !a.typ.Equal(OIDSignedData) {
		return nil, stepErr(StepParse, "ownership-voucher: found content type %s, expected id-signedData (or id-envelopedData around it)", oidName(a.typ))
	}
	sd, err := parseSignedData(a.der)
	if err != nil {
		return nil, stepErr(StepParse, "ownership-voucher: %w", err)
	}
	if !sd.contentType.Equal(OIDAnimaJSONVoucher) && !sd.contentType.Equal(OIDData) {
		return nil, stepErr(StepParse, "ownership-voucher: signed eContentType is %s, expected id-ct-animaJSONVoucher or id-data", oidName(sd.contentType))
	}
	if sd.content == nil {
		return nil, stepErr(StepParse, "ownership-voucher: SignedData has no content")
	}
	return &voucherArtifact{encrypted: a.encrypted, sd: sd}, nil
}

// ownerArtifact is a parsed owner-certificate CMS (certs-only).
type ownerArtifact struct {
	encrypted bool
	certs     []*x509.Certificate
	crls      []*x509.RevocationList
}

func openOwnerArtifact(b []byte, o *Options) (*ownerArtifact, error) {
	a, err := openArtifact("owner-certificate", b, o)
	if err != nil {
		return nil, err
	}
	if !a.typ.Equal(OIDSignedData) {
		return nil, stepErr(StepParse, "owner-certificate: found content type %s, expected a certs-only id-signedData (or id-envelopedData around it)", oidName(a.typ))
	}
	sd, err := parseSignedData(a.der)
	if err != nil {
		return nil, stepErr(StepParse, "owner-certificate: %w", err)
	}
	if len(sd.signers) != 0 {
		return nil, stepErr(StepParse, "owner-certificate: SignedData has %d signers, expected a degenerate certs-only SignedData", len(sd.signers))
	}
	if len(sd.certs) == 0 {
		return nil, stepErr(StepParse, "owner-certificate: the certs-only SignedData holds no certificate")
	}
	return &ownerArtifact{encrypted: a.encrypted, certs: sd.certs, crls: sd.crls}, nil
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

// unwrapSigned takes the [0] content of a ContentInfo of type id-signedData.
func (a *artifact) unwrapSigned(content []byte) error {
	if len(content) == 0 {
		return fmt.Errorf("id-signedData ContentInfo has no content")
	}
	var wrapped asn1.RawValue
	if _, err := asn1.Unmarshal(content, &wrapped); err != nil {
		return err
	}
	a.der = wrapped.Bytes
	return nil
}
