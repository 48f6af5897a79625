package tpm

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"errors"
	"log/slog"
)

// Default handles (TCG provisioning guidance; digest 9).
const (
	DefaultIDevIDHandle = 0x81020000
	DefaultCertIndex    = 0x01C90000
	AltCertIndex        = 0x01C90200
	DefaultPath         = "/dev/tpmrm0"
)

// Config selects the TPM and the IDevID objects in it.
type Config struct {
	Path                string   // /dev/tpmrm0, tcp://HOST:PORT, unix://PATH
	IDevIDHandle        uint32   // persistent key handle
	CertIndexes         []uint32 // NV indexes tried in order
	CertFile            string   // certificate from a file instead of NV
	ChainFile           string   // PEM intermediates
	DecryptionKeyHandle uint32   // 0: none
	Logger              *slog.Logger
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
	Signer      crypto.Signer
	Decrypter   crypto.Decrypter // nil unless an RSA decryption key is configured
	ECDH        ECDHKey          // nil unless an ECC decryption key is configured
	CertSource  string           // e.g. "nv:0x01c90000" or "file:/path"
	Close       func() error
}

// OpenIdentity opens the TPM and loads the IDevID.
func OpenIdentity(ctx context.Context, cfg Config) (*Identity, error) {
	return nil, errors.New("tpm: not implemented yet")
}
