package tpm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// idevidNotAfter is the "no well-defined expiration" time of IEEE 802.1AR
// (GeneralizedTime 99991231235959Z).
var idevidNotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ProvisionOptions describe a lab IDevID.
type ProvisionOptions struct {
	Handle      uint32       // 0: DefaultIDevIDHandle
	CertIndex   uint32       // 0: DefaultCertIndex
	Algorithm   KeyAlgorithm // "": ECCP256
	FixedScheme bool         // fix ECDSA/RSASSA with SHA-256 (P-384: SHA-384), as TCG IDevID templates do
	CACert      *x509.Certificate
	CAKey       crypto.Signer
	// Subject of the IDevID certificate: serialNumber and CN (default: the
	// serial number).
	SerialNumber string
	CommonName   string
	NotAfter     time.Time // zero: 9999-12-31T23:59:59Z (802.1AR)
	Force        bool      // replace an existing key and certificate
	Logger       *slog.Logger
}

// Provisioned is the result of Provision.
type Provisioned struct {
	Certificate *x509.Certificate
	Handle      uint32
	CertIndex   uint32
	Hierarchy   string // NV hierarchy used: "platform" or "owner"
}

// Provision creates an IDevID key in the endorsement hierarchy, persists it,
// has opts.CAKey certify it and writes the DER certificate to NV. It refuses
// when a key or certificate is already there unless opts.Force.
func Provision(ctx context.Context, dev *Device, opts ProvisionOptions) (*Provisioned, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.CACert == nil || opts.CAKey == nil {
		return nil, errors.New("provision needs a CA certificate and key")
	}
	if opts.SerialNumber == "" {
		return nil, errors.New("provision needs a serial number")
	}
	if opts.Handle == 0 {
		opts.Handle = DefaultIDevIDHandle
	}
	if opts.CertIndex == 0 {
		opts.CertIndex = DefaultCertIndex
	}
	if opts.Algorithm == "" {
		opts.Algorithm = ECCP256
	}
	keyThere, err := persistentExists(dev, opts.Handle)
	if err != nil {
		return nil, err
	}
	_, _, nvErr := nvPublic(dev, opts.CertIndex)
	nvThere := nvErr == nil
	if nvErr != nil && !errors.Is(nvErr, ErrNoNVIndex) {
		return nil, nvErr
	}
	if (keyThere || nvThere) && !opts.Force {
		return nil, fmt.Errorf("an idevid is already provisioned (key at 0x%08x: %v, certificate at nv 0x%08x: %v): %w",
			opts.Handle, keyThere, opts.CertIndex, nvThere, ErrExists)
	}
	if nvThere {
		if err := UndefineNV(dev, opts.CertIndex); err != nil {
			return nil, err
		}
	}
	spec := KeySpec{Algorithm: opts.Algorithm, Usage: UsageSign, Hierarchy: Endorsement, Handle: opts.Handle, Force: true}
	if opts.FixedScheme {
		spec.FixedScheme = tpm2.TPMAlgECDSA
		if opts.Algorithm == RSA2048 {
			spec.FixedScheme = tpm2.TPMAlgRSASSA
		}
	}
	if err := CreateKey(ctx, dev, spec, log); err != nil {
		return nil, err
	}
	k, err := readKey(dev, opts.Handle)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	cn := opts.CommonName
	if cn == "" {
		cn = opts.SerialNumber
	}
	notAfter := opts.NotAfter
	if notAfter.IsZero() {
		notAfter = idevidNotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject:      pkix.Name{SerialNumber: opts.SerialNumber, CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour).UTC(),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, opts.CACert, k.pub, opts.CAKey)
	if err != nil {
		return nil, fmt.Errorf("certifying the idevid key: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	out := &Provisioned{Certificate: cert, Handle: opts.Handle, CertIndex: opts.CertIndex, Hierarchy: "platform"}
	if err := WriteNV(dev, opts.CertIndex, der, true); err != nil {
		log.Warn("writing the certificate with platform authorization failed; trying owner", "err", err)
		_ = UndefineNV(dev, opts.CertIndex)
		if err2 := WriteNV(dev, opts.CertIndex, der, false); err2 != nil {
			return nil, fmt.Errorf("writing the idevid certificate: %w", errors.Join(err, err2))
		}
		out.Hierarchy = "owner"
	}
	log.Info("IDevID provisioned", "handle", fmt.Sprintf("0x%08x", opts.Handle),
		"nv", fmt.Sprintf("0x%08x", opts.CertIndex), "subject", cert.Subject.String())
	return out, nil
}

// CreateCSR makes a PKCS#10 request for subject signed by signer (a TPM
// *Signer picks a signature algorithm its key can make).
func CreateCSR(signer crypto.Signer, subject pkix.Name) ([]byte, error) {
	req := &x509.CertificateRequest{Subject: subject}
	if s, ok := signer.(*Signer); ok {
		req.SignatureAlgorithm = s.X509SignatureAlgorithm()
		if req.SignatureAlgorithm == x509.UnknownSignatureAlgorithm {
			return nil, fmt.Errorf("key 0x%08x has no signature scheme usable for a CSR", s.Handle())
		}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, req, signer)
	if err != nil {
		return nil, fmt.Errorf("creating csr: %w", err)
	}
	return der, nil
}
