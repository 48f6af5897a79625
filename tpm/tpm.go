package tpm

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// Default handles (TCG provisioning guidance).
const (
	DefaultIDevIDHandle = 0x81020000
	DefaultCertIndex    = 0x01C90000
	AltCertIndex        = 0x01C90200
	DefaultPath         = "/dev/tpmrm0"
)

// DefaultCertIndexes are the NV indexes probed for the IDevID certificate:
// TCG provisioning guidance first, then where swtpm_setup >= 0.11 puts it.
var DefaultCertIndexes = []uint32{DefaultCertIndex, AltCertIndex}

// Config selects the TPM and the IDevID objects in it.
type Config struct {
	Path                string   // /dev/tpmrm0, tcp://HOST:PORT, unix://PATH
	IDevIDHandle        uint32   // persistent key handle (0: DefaultIDevIDHandle)
	CertIndexes         []uint32 // NV indexes tried in order (nil: DefaultCertIndexes)
	CertFile            string   // certificate from a file instead of NV
	ChainFile           string   // PEM intermediates
	DecryptionKeyHandle uint32   // 0: none
	// SaltKeyPin, when set, is the Name the protected sessions' salt key
	// must have (recorded on first use; session.go).
	SaltKeyPin []byte
	Logger     *slog.Logger
	// Device, when set, is used instead of opening Path; Identity.Close then
	// leaves it open.
	Device *Device
}

// ECDHKey is a TPM-held key agreement key (TPM2_ECDH_ZGen).
type ECDHKey interface {
	Public() *ecdh.PublicKey
	ECDH(peer *ecdh.PublicKey) ([]byte, error)
}

// Identity is an IDevID held in a TPM.
type Identity struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Signer      crypto.Signer    // a *Signer
	Decrypter   crypto.Decrypter // nil unless an RSA decryption key is configured
	ECDH        ECDHKey          // nil unless an ECC decryption key is configured
	CertSource  string           // e.g. "nv:0x01c90000" or "file:/path"
	Device      *Device          // the TPM, for measurements and LDevID enrolment
	Close       func() error
}

// OpenIdentity opens the TPM and loads the IDevID: the signing key at
// IDevIDHandle, its certificate (CertFile, or the first readable index of
// CertIndexes), the chain, and the optional decryption key. The certificate
// must match the TPM key.
func OpenIdentity(ctx context.Context, cfg Config) (*Identity, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dev := cfg.Device
	closeFn := func() error { return nil }
	if dev == nil {
		var err error
		if dev, err = Open(cfg.Path); err != nil {
			return nil, err
		}
		closeFn = dev.Close
	}
	if cfg.SaltKeyPin != nil {
		dev.PinSaltKey(cfg.SaltKeyPin)
	}
	id, err := loadIdentity(ctx, dev, cfg, log)
	if err != nil {
		closeFn()
		return nil, err
	}
	id.Close, id.Device = closeFn, dev
	return id, nil
}

func loadIdentity(ctx context.Context, dev *Device, cfg Config, log *slog.Logger) (*Identity, error) {
	handle := cfg.IDevIDHandle
	if handle == 0 {
		handle = DefaultIDevIDHandle
	}
	signer, err := NewSigner(dev, handle, log)
	if err != nil {
		return nil, fmt.Errorf("idevid key: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := &Identity{Signer: signer}
	if cfg.CertFile != "" {
		certs, err := ReadCertificates(cfg.CertFile)
		if err != nil {
			return nil, fmt.Errorf("idevid certificate: %w", err)
		}
		id.Certificate, id.Chain, id.CertSource = certs[0], certs[1:], "file:"+cfg.CertFile
	} else {
		var idx uint32
		id.Certificate, idx, err = ReadCertificate(dev, cfg.CertIndexes)
		if err != nil {
			return nil, err
		}
		id.CertSource = fmt.Sprintf("nv:0x%08x", idx)
	}
	if !publicKeysEqual(id.Certificate.PublicKey, signer.Public()) {
		return nil, fmt.Errorf("the idevid certificate (%s, %s) does not certify the TPM key at 0x%08x", id.CertSource, id.Certificate.Subject, handle)
	}
	if cfg.ChainFile != "" {
		chain, err := ReadCertificates(cfg.ChainFile)
		if err != nil {
			return nil, fmt.Errorf("idevid chain: %w", err)
		}
		id.Chain = append(id.Chain, chain...)
	}
	if cfg.DecryptionKeyHandle != 0 {
		dec, ecdhKey, err := OpenDecryptionKey(dev, cfg.DecryptionKeyHandle)
		if err != nil {
			return nil, fmt.Errorf("decryption key: %w", err)
		}
		if dec != nil {
			id.Decrypter = dec
		} else {
			id.ECDH = ecdhKey
		}
	}
	log.Info("TPM identity loaded", "tpm", dev.String(), "subject", id.Certificate.Subject.String(),
		"certificate", id.CertSource, "key", keyType(signer.Public()))
	return id, nil
}

// ReadCertificate reads the IDevID certificate from the first of indexes
// (nil: DefaultCertIndexes) that holds one, and says which.
func ReadCertificate(dev *Device, indexes []uint32) (*x509.Certificate, uint32, error) {
	if len(indexes) == 0 {
		indexes = DefaultCertIndexes
	}
	var errs []error
	for _, idx := range indexes {
		data, err := ReadNV(dev, idx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cert, err := ParseNVCertificate(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("nv index 0x%08x: %w", idx, err))
			continue
		}
		return cert, idx, nil
	}
	return nil, 0, fmt.Errorf("no idevid certificate in nv: %w", errors.Join(errs...))
}

// ReadCertificates reads a PEM bundle or a single DER certificate.
func ReadCertificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("%s: neither PEM certificates nor a DER certificate: %w", file, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
