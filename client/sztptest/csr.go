package sztptest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/httpx"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// CSRFlow makes the server enrol an LDevID (RFC 9646): it answers
// get-bootstrapping-data carrying csr-support with a 400 csr-request,
// and a p10-csr with onboarding information whose configuration is an
// ietf-keystore document holding the certificate its CA issued.
type CSRFlow struct {
	CA *KeyPair // issues the LDevID (required)
	// Algorithm is the selected-algorithm (DER AlgorithmIdentifier); nil
	// asks for a CSR over the existing (IDevID) key.
	Algorithm   []byte
	CertReqInfo []byte // optional cert-req-info
	// Requests is how many csr-requests are sent before a CSR is
	// certified (0: 1).
	Requests int
	// WrongKey certifies a different key than the CSR's (C102 tests).
	WrongKey bool
	// Onboarding comes with the certificate; its Configuration is
	// replaced by the keystore document. nil: only the configuration.
	Onboarding *conveyed.OnboardingInformation

	mu     sync.Mutex
	asked  int
	csrs   [][]byte
	issued []*x509.Certificate
}

// CSRs returns the CSRs received, in order.
func (f *CSRFlow) CSRs() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.csrs...)
}

// Issued returns the certificates issued, in order.
func (f *CSRFlow) Issued() []*x509.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*x509.Certificate(nil), f.issued...)
}

// KeystoreJSON is an ietf-keystore (RFC 9642) configuration in RFC 7951
// JSON carrying cert (as an end-entity-cert-cms) for the asymmetric key
// keyName.
func KeystoreJSON(keyName string, cert *x509.Certificate) ([]byte, error) {
	cms, err := trusttest.CertsOnly([]*x509.Certificate{cert})
	if err != nil {
		return nil, err
	}
	name, err := json.Marshal(keyName)
	if err != nil {
		return nil, err
	}
	return []byte(`{"ietf-keystore:keystore":{"asymmetric-keys":{"asymmetric-key":[{"name":` + string(name) +
		`,"certificates":{"certificate":[{"name":"ldevid-cert","cert-data":"` + base64.StdEncoding.EncodeToString(cms) + `"}]}}]}}}`), nil
}

// csr handles get-bootstrapping-data for a CSRFlow.
func (s *Server) csr(w httpx.ResponseWriter, enc conveyed.Encoding, f *CSRFlow, in *conveyed.GetBootstrappingDataInput) int {
	f.mu.Lock()
	want := max(f.Requests, 1)
	if in.P10CSR != nil {
		f.csrs = append(f.csrs, in.P10CSR)
	}
	ask := (in.CSRSupport != nil || in.P10CSR != nil) && f.asked < want
	if ask {
		f.asked++
	}
	f.mu.Unlock()
	if ask {
		e := &conveyed.Errors{Error: []conveyed.RESTCONFError{{Type: "application", Tag: conveyed.ErrorTagMissingAttribute,
			Message: "Missing input parameter", CSRRequest: &conveyed.CSRRequest{
				KeyGenerationAlgorithm: f.Algorithm, Format: conveyed.FormatP10CSR, CertReqInfo: f.CertReqInfo}}}}
		data, err := e.Encode(enc)
		if err != nil {
			return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
		}
		w.Header().Set("Content-Type", enc.MediaType())
		w.WriteHeader(httpx.StatusBadRequest)
		w.Write(data)
		return httpx.StatusBadRequest
	}
	oi := conveyed.OnboardingInformation{}
	if f.Onboarding != nil {
		oi = *f.Onboarding
	}
	if in.P10CSR != nil {
		cert, err := f.issue(in.P10CSR)
		if err != nil {
			return restconfError(w, enc, httpx.StatusBadRequest, "invalid-value", err.Error())
		}
		if oi.Configuration, err = KeystoreJSON("ldevid", cert); err != nil {
			return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
		}
		oi.ConfigurationHandling = conveyed.Replace
	}
	doc, err := (&conveyed.ConveyedInformation{Onboarding: &oi}).Encode(enc)
	if err != nil {
		return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
	}
	ct := trust.OIDSZTPConveyedInfoJSON
	if enc == conveyed.XML {
		ct = trust.OIDSZTPConveyedInfoXML
	}
	ci, err := trust.WrapUnsigned(ct, doc)
	if err != nil {
		return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
	}
	data, err := (&conveyed.GetBootstrappingDataOutput{ConveyedInformation: ci}).Encode(enc)
	if err != nil {
		return restconfError(w, enc, httpx.StatusInternalServerError, "operation-failed", err.Error())
	}
	w.Header().Set("Content-Type", enc.MediaType())
	w.WriteHeader(httpx.StatusOK)
	w.Write(data)
	return httpx.StatusOK
}

// issue checks the CSR's signature and certifies its key (or another key
// with WrongKey) for TLS client authentication, with the CSR's subject. The
// CSR is read with encoding/asn1 (RFC 2986: the request info, then an
// ECDSA or RSA PKCS#1 signature over it), which keeps crypto/x509's CSR
// parser out of the agent binary that embeds this server for the demo.
func (f *CSRFlow) issue(der []byte) (*x509.Certificate, error) {
	var req struct {
		Info asn1.RawValue
		Alg  pkix.AlgorithmIdentifier
		Sig  asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &req); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("p10-csr: not a CertificationRequest")
	}
	var info struct {
		Version int
		Subject asn1.RawValue
		SPKI    asn1.RawValue
		Attrs   asn1.RawValue `asn1:"optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(req.Info.FullBytes, &info); err != nil {
		return nil, fmt.Errorf("p10-csr: request info: %w", err)
	}
	pub, err := x509.ParsePKIXPublicKey(info.SPKI.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("p10-csr: public key: %w", err)
	}
	if err := checkCSRSignature(pub, req.Alg.Algorithm, req.Info.FullBytes, req.Sig.Bytes); err != nil {
		return nil, fmt.Errorf("p10-csr signature: %w", err)
	}
	rawSubject := info.Subject.FullBytes
	if f.WrongKey {
		k, err := newKey()
		if err != nil {
			return nil, err
		}
		pub = k.Public()
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNo(), RawSubject: rawSubject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, f.CA.Cert, pub, f.CA.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.issued = append(f.issued, cert)
	f.mu.Unlock()
	return cert, nil
}

// checkCSRSignature verifies an ECDSA-SHA256/384 or RSA PKCS#1 SHA-256
// signature over the request info.
func checkCSRSignature(pub any, alg asn1.ObjectIdentifier, tbs, sig []byte) error {
	var h crypto.Hash
	switch {
	case alg.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}), alg.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}):
		h = crypto.SHA256
	case alg.Equal(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}):
		h = crypto.SHA384
	default:
		return fmt.Errorf("unsupported signature algorithm %v", alg)
	}
	var digest []byte
	if h == crypto.SHA384 {
		d := sha512.Sum384(tbs)
		digest = d[:]
	} else {
		d := sha256.Sum256(tbs)
		digest = d[:]
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, digest, sig)
	}
	return fmt.Errorf("unsupported key %T", pub)
}
