package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"log/slog"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/internal/usage"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/trust"
)

// Load builds the device identity from files (--idevid-key) or the TPM,
// adds the decryption key and the serial number. The returned close releases
// the TPM.
func (f *Flags) Load(ctx context.Context, log *slog.Logger) (*client.Identity, func() error, error) {
	if f.IDevIDKey != "" && f.TPMPath != "" {
		return nil, nil, usage.Errorf("--idevid-key and --tpm both name the IDevID key: give one (--idevid-key for a key in a file, --tpm for a key in the TPM)")
	}
	var id *client.Identity
	closeFn := func() error { return nil }
	var err error
	if f.IDevIDKey != "" {
		id, err = f.fromFiles()
	} else {
		id, closeFn, err = f.fromTPM(ctx, log)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := f.addDecryptionKey(id); err != nil {
		closeFn()
		return nil, nil, err
	}
	id.SerialNumber = f.SerialNumber
	// Issue 10 item 6: a --serial-number that contradicts the certificate
	// would make every authenticated request fail (C12), or claim another
	// device's identity.
	if sn := client.SerialNumberOf(id.Certificate); f.SerialNumber != "" && sn != "" && sn != f.SerialNumber {
		closeFn()
		return nil, nil, usage.Errorf("--serial-number %q contradicts the IDevID certificate's serialNumber %q", f.SerialNumber, sn)
	}
	if id.SerialNumber == "" {
		id.SerialNumber = client.SerialNumberOf(id.Certificate)
	}
	if id.SerialNumber == "" {
		closeFn()
		return nil, nil, fmt.Errorf("the IDevID subject %q has no serialNumber attribute; give --serial-number", id.Certificate.Subject)
	}
	return id, closeFn, nil
}

// fromFiles reads --idevid-cert, --idevid-key and --idevid-chain.
func (f *Flags) fromFiles() (*client.Identity, error) {
	if f.IDevIDCert == "" {
		return nil, usage.Errorf("--idevid-key needs --idevid-cert")
	}
	certs, err := LoadCertificates(f.IDevIDCert)
	if err != nil {
		return nil, fmt.Errorf("--idevid-cert: %w", err)
	}
	key, err := LoadPrivateKey(f.IDevIDKey)
	if err != nil {
		return nil, fmt.Errorf("--idevid-key: %w", err)
	}
	if !publicKeysEqual(key.Public(), certs[0].PublicKey) {
		return nil, fmt.Errorf("--idevid-key %s does not match the public key of --idevid-cert %s", f.IDevIDKey, f.IDevIDCert)
	}
	id := &client.Identity{Certificate: certs[0], Chain: certs[1:], Signer: key}
	if f.IDevIDChain != "" {
		chain, err := LoadCertificates(f.IDevIDChain)
		if err != nil {
			return nil, fmt.Errorf("--idevid-chain: %w", err)
		}
		id.Chain = append(id.Chain, chain...)
	}
	return id, nil
}

// fromTPM opens the IDevID key (and decryption key handle) in the TPM.
func (f *Flags) fromTPM(ctx context.Context, log *slog.Logger) (*client.Identity, func() error, error) {
	cfg, err := f.TPMConfig()
	if err != nil {
		return nil, nil, err
	}
	cfg.Logger = log
	cfg.SaltKeyPin = f.readSaltPin(log)
	tid, err := tpm.OpenIdentity(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("loading IDevID from TPM %s: %w (give --tpm for another TPM, or --idevid-cert and --idevid-key for an identity in files)", cfg.Path, err)
	}
	id := &client.Identity{Certificate: tid.Certificate, Chain: tid.Chain, Signer: tid.Signer, Decrypter: tid.Decrypter}
	if tid.ECDH != nil {
		id.ECDH = tid.ECDH
	}
	closeFn := func() error { return nil }
	if tid.Close != nil {
		closeFn = tid.Close
	}
	f.Device = tid.Device
	f.recordSaltPin(cfg.SaltKeyPin, log)
	return id, closeFn, nil
}

// addDecryptionKey reads --decryption-key: an EC key decrypts by ECDH, an
// RSA key by RSA decryption.
func (f *Flags) addDecryptionKey(id *client.Identity) error {
	if f.DecryptionKey == "" {
		return nil
	}
	key, err := LoadPrivateKey(f.DecryptionKey)
	if err != nil {
		return fmt.Errorf("--decryption-key: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		ek, err := k.ECDH()
		if err != nil {
			return fmt.Errorf("--decryption-key %s: %w", f.DecryptionKey, err)
		}
		id.ECDH = trust.NewECDHKey(ek)
	case crypto.Decrypter:
		id.Decrypter = k
	default:
		return usage.Errorf("--decryption-key %s: a %T cannot decrypt (want an RSA key, or an EC P-256/P-384 key for ECDH)", f.DecryptionKey, key)
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(eq); ok {
		return e.Equal(b)
	}
	return false
}
