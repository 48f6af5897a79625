package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/internal/atomicfile"
	"github.com/sztp/sztp/tpm"
)

// Files in the state directory.
const (
	FileCSR    = "ldevid.csr"  // the last CSR (PEM), SZTP_LDEVID_CSR
	FileCert   = "ldevid.pem"  // the issued certificate (PEM)
	FileKey    = "ldevid.key"  // software key (PKCS#8 PEM, 0600)
	FileRecord = "ldevid.json" // where the key and certificate are
)

// Record says where the LDevID is; it is written with the certificate.
type Record struct {
	KeyHandle string `json:"key-handle,omitempty"` // TPM: persistent handle
	KeyFile   string `json:"key-file,omitempty"`   // software: PEM file
	CertIndex string `json:"cert-index,omitempty"` // TPM: NV index
	CertFile  string `json:"cert-file"`
}

// Options configure an Enroller.
type Options struct {
	// IDevID is the device's certificate: its subject is mirrored in CSRs
	// without cert-req-info; IDevIDSigner signs CSRs without key-generation.
	IDevID       *x509.Certificate
	IDevIDSigner crypto.Signer
	StateDir     string // required
	// Device, when set, makes keys in the TPM at Handle with the
	// certificate at CertIndex; otherwise keys are made in software.
	Device    *tpm.Device
	Handle    uint32 // 0: tpm.DefaultLDevIDHandle
	CertIndex uint32 // 0: tpm.DefaultLDevIDCertIndex
	Logger    *slog.Logger
}

// Enroller implements client.Enroller.
type Enroller struct {
	o    Options
	algs [][]byte
	log  *slog.Logger

	mu     sync.Mutex
	signer crypto.Signer // the key of the last CSR
	newKey bool          // it was generated (not the IDevID key)
}

var _ client.Enroller = (*Enroller)(nil)

// New returns an Enroller; with a TPM it asks which algorithms it has.
func New(o Options) (*Enroller, error) {
	if o.StateDir == "" {
		return nil, errors.New("enroll: a state directory is required")
	}
	if o.IDevID == nil {
		return nil, errors.New("enroll: the idevid certificate is required")
	}
	if o.Handle == 0 {
		o.Handle = tpm.DefaultLDevIDHandle
	}
	if o.CertIndex == 0 {
		o.CertIndex = tpm.DefaultLDevIDCertIndex
	}
	e := &Enroller{o: o, log: o.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if o.Device != nil {
		algs, err := tpm.LDevIDAlgorithms(o.Device)
		if err != nil {
			return nil, err
		}
		for _, a := range algs {
			e.algs = append(e.algs, algorithmID(a))
		}
	} else {
		e.algs = [][]byte{client.AlgECCP256, client.AlgECCP384}
	}
	return e, nil
}

// Env is what exec hooks and scripts learn about the LDevID key:
// SZTP_LDEVID_KEY_HANDLE (TPM) or SZTP_LDEVID_KEY (software), and
// SZTP_LDEVID_CSR, the file with the last CSR.
func (e *Enroller) Env() []string {
	env := []string{"SZTP_LDEVID_CSR=" + filepath.Join(e.o.StateDir, FileCSR)}
	if e.o.Device != nil {
		return append(env, fmt.Sprintf("SZTP_LDEVID_KEY_HANDLE=0x%08x", e.o.Handle))
	}
	return append(env, "SZTP_LDEVID_KEY="+filepath.Join(e.o.StateDir, FileKey))
}

func algorithmID(a tpm.KeyAlgorithm) []byte {
	switch a {
	case tpm.ECCP384:
		return client.AlgECCP384
	case tpm.RSA2048:
		return client.AlgRSA
	}
	return client.AlgECCP256
}

// KeyAlgorithms implements client.Enroller.
func (e *Enroller) KeyAlgorithms() [][]byte { return e.algs }

// Key implements client.Enroller.
func (e *Enroller) Key() crypto.PublicKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.signer == nil {
		return nil
	}
	return e.signer.Public()
}

// CSR implements client.Enroller: a new key replaces the previous one (in
// the TPM the persistent handle is reused, so one key remains, C101).
func (e *Enroller) CSR(ctx context.Context, alg, certReqInfo []byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	signer, err := e.key(ctx, alg)
	if err != nil {
		return nil, err
	}
	var der []byte
	if certReqInfo != nil {
		der, err = SignCertReqInfo(certReqInfo, signer)
	} else {
		req := &x509.CertificateRequest{RawSubject: e.o.IDevID.RawSubject, SignatureAlgorithm: sigAlg(signer)}
		der, err = x509.CreateCertificateRequest(rand.Reader, req, signer)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the csr: %w", err)
	}
	e.signer, e.newKey = signer, alg != nil
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	if err := atomicfile.WriteFile(filepath.Join(e.o.StateDir, FileCSR), p, 0o644); err != nil {
		return nil, err
	}
	return der, nil
}

func (e *Enroller) key(ctx context.Context, alg []byte) (crypto.Signer, error) {
	if alg == nil {
		if e.o.IDevIDSigner == nil {
			return nil, errors.New("no idevid key to sign the csr")
		}
		return e.o.IDevIDSigner, nil
	}
	var ka tpm.KeyAlgorithm
	switch {
	case client.SameAlgorithm(alg, client.AlgECCP256):
		ka = tpm.ECCP256
	case client.SameAlgorithm(alg, client.AlgECCP384):
		ka = tpm.ECCP384
	case client.SameAlgorithm(alg, client.AlgRSA) && e.o.Device != nil:
		ka = tpm.RSA2048
	default:
		return nil, fmt.Errorf("cannot make a %s key", client.AlgorithmName(alg))
	}
	if e.o.Device != nil {
		return tpm.CreateLDevID(ctx, e.o.Device, ka, e.o.Handle, e.log)
	}
	curve := elliptic.P256()
	if ka == tpm.ECCP384 {
		curve = elliptic.P384()
	}
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	// The software key replaces the previous one (C101).
	if err := atomicfile.WriteFile(filepath.Join(e.o.StateDir, FileKey), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	e.log.Info("created LDevID key in software", "file", filepath.Join(e.o.StateDir, FileKey), "algorithm", ka)
	return k, nil
}

// Install implements client.Enroller: the certificate goes to the state
// directory, and with a TPM to its NV index.
func (e *Enroller) Install(_ context.Context, cert *x509.Certificate) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := Record{CertFile: filepath.Join(e.o.StateDir, FileCert)}
	if e.o.Device != nil {
		if err := tpm.StoreLDevIDCertificate(e.o.Device, e.o.CertIndex, cert.Raw); err != nil {
			return err
		}
		rec.CertIndex = fmt.Sprintf("0x%08x", e.o.CertIndex)
		if e.newKey {
			rec.KeyHandle = fmt.Sprintf("0x%08x", e.o.Handle)
		} else if s, ok := e.signer.(*tpm.Signer); ok {
			rec.KeyHandle = fmt.Sprintf("0x%08x", s.Handle())
		}
	} else if e.newKey {
		rec.KeyFile = filepath.Join(e.o.StateDir, FileKey)
	}
	if err := atomicfile.WriteFile(rec.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(rec, "", "  ")
	return atomicfile.WriteFile(filepath.Join(e.o.StateDir, FileRecord), append(data, '\n'), 0o644)
}

// ReadRecord reads the LDevID record of a state directory.
func ReadRecord(stateDir string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, FileRecord))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", FileRecord, err)
	}
	return &r, nil
}

// Clear removes the LDevID files from the state directory.
func Clear(stateDir string) error {
	var errs []error
	for _, f := range []string{FileRecord, FileCert, FileKey, FileCSR} {
		if err := os.Remove(filepath.Join(stateDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := atomicfile.SyncDir(stateDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func sigAlg(s crypto.Signer) x509.SignatureAlgorithm {
	if ts, ok := s.(*tpm.Signer); ok {
		return ts.X509SignatureAlgorithm()
	}
	switch p := s.Public().(type) {
	case *ecdsa.PublicKey:
		if p.Curve == elliptic.P384() {
			return x509.ECDSAWithSHA384
		}
		return x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		return x509.SHA256WithRSA
	}
	return x509.UnknownSignatureAlgorithm
}

var (
	oidECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidRSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// SignCertReqInfo makes a CertificationRequest from the server's
// CertificationRequestInfo (RFC 9646 cert-req-info). Its version, subject
// and attributes are kept byte for byte; its subjectPKInfo must be the
// signer's key, or is replaced by it (the server cannot know a key made
// for this request).
func SignCertReqInfo(cri []byte, signer crypto.Signer) ([]byte, error) {
	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(cri, &outer); err != nil || len(rest) > 0 || outer.Tag != asn1.TagSequence {
		return nil, fmt.Errorf("cert-req-info is not a DER SEQUENCE")
	}
	var parts []asn1.RawValue
	for rest := outer.Bytes; len(rest) > 0; {
		var v asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			return nil, fmt.Errorf("cert-req-info: %w", err)
		}
		parts = append(parts, v)
		if len(parts) > 8 {
			return nil, errors.New("cert-req-info: too many fields")
		}
	}
	if len(parts) < 3 {
		return nil, errors.New("cert-req-info: want version, subject, subjectPKInfo and attributes")
	}
	spki, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	tbs := cri
	if string(parts[2].FullBytes) != string(spki) {
		var body []byte
		for i, p := range parts {
			if i == 2 {
				body = append(body, spki...)
				continue
			}
			body = append(body, p.FullBytes...)
		}
		if tbs, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body}); err != nil {
			return nil, err
		}
	}
	var ai pkix.AlgorithmIdentifier
	var h crypto.Hash
	switch p := signer.Public().(type) {
	case *ecdsa.PublicKey:
		ai.Algorithm, h = oidECDSASHA256, crypto.SHA256
		if p.Curve == elliptic.P384() {
			ai.Algorithm, h = oidECDSASHA384, crypto.SHA384
		}
	case *rsa.PublicKey:
		ai, h = pkix.AlgorithmIdentifier{Algorithm: oidRSASHA256, Parameters: asn1.NullRawValue}, crypto.SHA256
	default:
		return nil, fmt.Errorf("unsupported key %T", p)
	}
	var digest []byte
	if h == crypto.SHA384 {
		d := sha512.Sum384(tbs)
		digest = d[:]
	} else {
		d := sha256.Sum256(tbs)
		digest = d[:]
	}
	sig, err := signer.Sign(rand.Reader, digest, h)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, ai, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
}

// Load returns the LDevID kept in a state directory: the certificate (from
// NV when it is in the TPM, else the file) and its key (dev for a key in
// the TPM). The certificate must certify the key. os.ErrNotExist says
// there is none.
func Load(stateDir string, dev *tpm.Device, log *slog.Logger) (*client.LDevID, error) {
	rec, err := ReadRecord(stateDir)
	if err != nil {
		return nil, err
	}
	var cert *x509.Certificate
	var signer crypto.Signer
	switch {
	case rec.KeyHandle != "":
		if dev == nil {
			return nil, fmt.Errorf("the ldevid key is in the TPM (%s) but no TPM is in use", rec.KeyHandle)
		}
		h, err := strconv.ParseUint(rec.KeyHandle, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: key-handle %q: %w", FileRecord, rec.KeyHandle, err)
		}
		s, err := tpm.NewSigner(dev, uint32(h), log)
		if err != nil {
			return nil, fmt.Errorf("ldevid key: %w", err)
		}
		signer = s
		if rec.CertIndex != "" {
			idx, err := strconv.ParseUint(rec.CertIndex, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: cert-index %q: %w", FileRecord, rec.CertIndex, err)
			}
			if cert, _, err = tpm.ReadCertificate(dev, []uint32{uint32(idx)}); err != nil {
				return nil, fmt.Errorf("ldevid certificate: %w", err)
			}
		}
	case rec.KeyFile != "":
		data, err := os.ReadFile(rec.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ldevid key: %w", err)
		}
		b, _ := pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("ldevid key %s: no PEM", rec.KeyFile)
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ldevid key %s: %w", rec.KeyFile, err)
		}
		var ok bool
		if signer, ok = k.(crypto.Signer); !ok {
			return nil, fmt.Errorf("ldevid key %s cannot sign", rec.KeyFile)
		}
	default:
		return nil, fmt.Errorf("%s names no key", FileRecord)
	}
	if cert == nil {
		certs, err := tpm.ReadCertificates(rec.CertFile)
		if err != nil {
			return nil, fmt.Errorf("ldevid certificate: %w", err)
		}
		cert = certs[0]
	}
	if e, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !e.Equal(signer.Public()) {
		return nil, fmt.Errorf("the ldevid certificate %s does not certify the ldevid key", cert.Subject)
	}
	return &client.LDevID{Certificate: cert, Signer: signer}, nil
}
