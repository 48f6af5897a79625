package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/httpx"
)

// RFC 9646: a trusted bootstrap server may ask for a certificate signing
// request, and the device gets a locally significant identity (LDevID).
// The agent offers csr-support to trusted servers only (C98), answers a
// 400 csr-request with a p10-csr in a second get-bootstrapping-data (C99,
// C100), replaces the key of an earlier request (C101), and accepts the
// issued certificate from the configuration's ietf-keystore only when it
// certifies the new key with the selected algorithm (C102).

// Enroller makes the keys and CSRs for RFC 9646 and installs the issued
// certificate. The tpm-backed and software enrollers are in client/enroll.
type Enroller interface {
	// KeyAlgorithms lists the DER AlgorithmIdentifiers of the keys the
	// device can generate; empty: it cannot (key-generation is not offered).
	KeyAlgorithms() [][]byte
	// CSR returns a DER PKCS#10 request. With alg set it is signed by a new
	// key of that algorithm, which replaces any key made for an earlier
	// request (C101); without, by the IDevID key. certReqInfo, when set, is
	// the server's CertificationRequestInfo, used as given (C100).
	CSR(ctx context.Context, alg, certReqInfo []byte) ([]byte, error)
	// Key is the public key of the last CSR (nil before the first).
	Key() crypto.PublicKey
	// Install keeps the issued certificate for Key (C102 checks are done).
	Install(ctx context.Context, cert *x509.Certificate) error
}

// maxCSRRounds bounds the csr-requests one server may make in a row.
const maxCSRRounds = 4

// csrState is what one attempt remembers of RFC 9646.
type csrState struct {
	sent    bool     // csr-support was sent
	offered [][]byte // the algorithms sent in csr-support
	made    bool     // a CSR was sent
	alg     []byte   // its selected-algorithm (nil: the IDevID key)
}

// csrSupport adds csr-support to the input of a trusted server only (C98):
// the 400 reply that carries a csr-request cannot be signed.
func (at *attempt) csrSupport(conn *Conn, in *conveyed.GetBootstrappingDataInput) {
	e := at.a.cfg.Enroller
	if e == nil || !conn.Trusted() {
		return
	}
	at.csr.sent, at.csr.offered = true, e.KeyAlgorithms()
	in.CSRSupport = &conveyed.CSRSupport{KeyGenerationAlgorithms: at.csr.offered, CSRFormats: []string{conveyed.FormatP10CSR}}
}

// csrExchange answers csr-requests: while the server's reply is a 400 with
// ietf-sztp-csr:csr-request, make the CSR and POST again with p10-csr and
// without csr-support (C99). It returns the last output and the input that
// produced it (whose nonce the output must carry).
func (at *attempt) csrExchange(ctx context.Context, conn *Conn, in *conveyed.GetBootstrappingDataInput, out *conveyed.GetBootstrappingDataOutput, err error) (*conveyed.GetBootstrappingDataOutput, *conveyed.GetBootstrappingDataInput, error) {
	e := at.a.cfg.Enroller
	for round := 0; err != nil; round++ {
		req := csrRequestOf(err)
		if req == nil || e == nil || !at.csr.sent {
			return out, in, err
		}
		if !conn.Trusted() {
			return nil, in, fmt.Errorf("csr-request from a server that is not trusted ignored: %w", err)
		}
		if round >= maxCSRRounds {
			return nil, in, fmt.Errorf("the server asked for a CSR %d times in a row", round+1)
		}
		if req.Format != conveyed.FormatP10CSR {
			return nil, in, fmt.Errorf("csr-request selects format %s; only %s was offered", req.Format, conveyed.FormatP10CSR)
		}
		if req.KeyGenerationAlgorithm != nil && !offered(at.csr.offered, req.KeyGenerationAlgorithm) {
			return nil, in, fmt.Errorf("csr-request selects key algorithm %s, which was not offered", algName(req.KeyGenerationAlgorithm))
		}
		if round > 0 {
			at.a.log.Info("the server asked for another CSR; the key made for the previous one is replaced (C101)")
		}
		csr, cerr := e.CSR(ctx, req.KeyGenerationAlgorithm, req.CertReqInfo)
		if cerr != nil {
			return nil, in, fmt.Errorf("making the CSR the server asked for: %w", cerr)
		}
		at.csr.made, at.csr.alg = true, req.KeyGenerationAlgorithm
		at.a.log.Info("sending a CSR (RFC 9646)", "server", conn.Base().Host, "key", algName(req.KeyGenerationAlgorithm), "cert-req-info", req.CertReqInfo != nil)
		next, ierr := at.input(conn)
		if ierr != nil {
			return nil, in, ierr
		}
		next.CSRSupport, next.P10CSR = nil, csr
		in = next
		out, err = conn.GetBootstrappingData(ctx, in)
	}
	return out, in, nil
}

// csrRequestOf returns the csr-request of a 400 missing-attribute reply.
func csrRequestOf(err error) *conveyed.CSRRequest {
	var se *StatusError
	if !errors.As(err, &se) || se.Code != httpx.StatusBadRequest || len(se.Raw) == 0 {
		return nil
	}
	enc := conveyed.JSON
	if se.ContentType == conveyed.XML.MediaType() {
		enc = conveyed.XML
	} else if se.ContentType != conveyed.JSON.MediaType() {
		if e, err := conveyed.Sniff(se.Raw); err == nil {
			enc = e
		}
	}
	errs, derr := conveyed.DecodeErrors(se.Raw, enc)
	if derr != nil {
		return nil
	}
	return errs.CSRRequest()
}

func offered(list [][]byte, alg []byte) bool {
	for _, a := range list {
		if sameAlgorithm(a, alg) {
			return true
		}
	}
	return false
}

// sameAlgorithm compares two DER AlgorithmIdentifiers: the same OID and,
// for EC keys, the same curve.
func sameAlgorithm(a, b []byte) bool {
	var x, y pkix.AlgorithmIdentifier
	if rest, err := asn1.Unmarshal(a, &x); err != nil || len(rest) > 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &y); err != nil || len(rest) > 0 {
		return false
	}
	if !x.Algorithm.Equal(y.Algorithm) {
		return false
	}
	if x.Algorithm.Equal(oidECPublicKey) {
		return bytes.Equal(x.Parameters.FullBytes, y.Parameters.FullBytes)
	}
	return true
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
)

// Key algorithms as RFC 9646 algorithm-identifiers.
var (
	AlgECCP256 = mustAlg(oidECPublicKey, oidP256)
	AlgECCP384 = mustAlg(oidECPublicKey, oidP384)
	AlgRSA     = mustAlg(oidRSA, nil)
)

func mustAlg(oid, curve asn1.ObjectIdentifier) []byte {
	ai := pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}
	if curve != nil {
		p, err := asn1.Marshal(curve)
		if err != nil {
			panic(err)
		}
		ai.Parameters = asn1.RawValue{FullBytes: p}
	}
	der, err := asn1.Marshal(ai)
	if err != nil {
		panic(err)
	}
	return der
}

// algName names an algorithm-identifier for logs and errors.
func algName(alg []byte) string {
	switch {
	case alg == nil:
		return "the IDevID key"
	case sameAlgorithm(alg, AlgECCP256):
		return "ECC P-256"
	case sameAlgorithm(alg, AlgECCP384):
		return "ECC P-384"
	case sameAlgorithm(alg, AlgRSA):
		return "RSA"
	}
	var ai pkix.AlgorithmIdentifier
	if _, err := asn1.Unmarshal(alg, &ai); err == nil {
		return ai.Algorithm.String()
	}
	return "an unparsable algorithm"
}

// AlgorithmName names a DER AlgorithmIdentifier ("ECC P-256", "RSA", ...).
func AlgorithmName(alg []byte) string { return algName(alg) }

// SameAlgorithm reports whether two DER AlgorithmIdentifiers name the same
// key algorithm (for EC keys: the same curve).
func SameAlgorithm(a, b []byte) bool { return sameAlgorithm(a, b) }

// installLDevID looks for the certificate of the CSR's key in the
// configuration (ietf-keystore, JSON or XML) before it is committed. A
// certificate there that does not certify the new key, or whose algorithm
// is not the selected one, is an error (C102). Without one the key stays
// for a hook or script to install a certificate delivered another way.
func (at *attempt) installLDevID(ctx context.Context, config []byte) error {
	e := at.a.cfg.Enroller
	if e == nil || !at.csr.made {
		return nil
	}
	certs, err := KeystoreCertificates(config)
	if err != nil {
		return fmt.Errorf("reading the ldevid certificate from the configuration: %w", err)
	}
	if len(certs) == 0 {
		at.a.log.Warn("a CSR was sent but the configuration carries no ietf-keystore certificate; the key stays for a hook or script to install one")
		return nil
	}
	key := e.Key()
	var errs []error
	for _, c := range certs {
		var spki struct {
			Alg asn1.RawValue
			Key asn1.BitString
		}
		if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
			errs = append(errs, fmt.Errorf("certificate %s: %w", c.Subject, err))
			continue
		}
		if at.csr.alg != nil && !sameAlgorithm(spki.Alg.FullBytes, at.csr.alg) {
			errs = append(errs, fmt.Errorf("certificate %s has a %s key, the server selected %s (C102)", c.Subject, algName(spki.Alg.FullBytes), algName(at.csr.alg)))
			continue
		}
		if !publicKeyEqual(c.PublicKey, key) {
			errs = append(errs, fmt.Errorf("certificate %s does not certify the key of the CSR (C102)", c.Subject))
			continue
		}
		if err := e.Install(ctx, c); err != nil {
			return fmt.Errorf("installing the ldevid certificate: %w", err)
		}
		at.a.log.Info("LDevID certificate installed", "subject", c.Subject.String(), "issuer", c.Issuer.String())
		return nil
	}
	return fmt.Errorf("ldevid certificate rejected: %w", errors.Join(errs...))
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && e.Equal(b)
}
