package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/trust"
)

// identityFlags are the identity and trust flags shared by run, get and tpm
// (design.md, command line contract).
type identityFlags struct {
	tpmPath             string
	idevidHandle        string
	idevidCertIndex     []string
	idevidCert          string
	idevidKey           string
	idevidChain         string
	decryptionKeyHandle string
	decryptionKey       string
	serialNumber        string
	serverTrustAnchors  []string
	voucherTrustAnchors []string
	// device is the TPM that load opened (nil for an identity in files).
	device *tpm.Device
	// saltPinFile, when set, pins the TPM's session salt key (tpm_pin.go).
	saltPinFile string
}

func (f *identityFlags) addIdentity(fs *pflag.FlagSet) {
	fs.StringVar(&f.tpmPath, "tpm", "", "TPM to use: /dev/tpmrm0, /dev/tpm0, tcp://HOST:PORT or unix://PATH (swtpm server socket); default /dev/tpmrm0 unless --idevid-key is given")
	fs.StringVar(&f.idevidHandle, "idevid-handle", "0x81020000", "persistent handle of the IDevID key in the TPM")
	fs.StringSliceVar(&f.idevidCertIndex, "idevid-cert-index", []string{"0x01C90000", "0x01C90200"}, "NV indexes holding the IDevID certificate, tried in order")
	fs.StringVar(&f.idevidCert, "idevid-cert", "", "IDevID certificate (PEM or DER file) instead of the TPM NV index")
	fs.StringVar(&f.idevidKey, "idevid-key", "", "IDevID private key (PEM file) instead of the TPM, for devices without one and for debugging")
	fs.StringVar(&f.idevidChain, "idevid-chain", "", "PEM file with the IDevID's intermediate certificates, sent in the TLS handshake")
	fs.StringVar(&f.decryptionKeyHandle, "decryption-key-handle", "", "persistent handle of a TPM key that decrypts encrypted artifacts (RSA decrypt or ECDH)")
	fs.StringVar(&f.decryptionKey, "decryption-key", "", "private key (PEM file) that decrypts encrypted artifacts")
	fs.StringVar(&f.serialNumber, "serial-number", "", "device serial number (default: the last serialNumber attribute of the IDevID subject)")
}

func (f *identityFlags) addTrust(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.serverTrustAnchors, "server-trust-anchor", nil, "trust anchors for bootstrap servers: PEM bundle (root plus intermediates) or certs-only CMS (repeatable)")
	fs.StringSliceVar(&f.voucherTrustAnchors, "voucher-trust-anchor", nil, "trust anchors for ownership vouchers (manufacturer/MASA): PEM bundle or certs-only CMS (repeatable)")
}

func parseHandle(name, s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return 0, usagef("--%s %q: not a 32-bit handle (e.g. 0x81020000)", name, s)
	}
	return uint32(v), nil
}

// load builds the device identity from files or the TPM. The returned close
// releases the TPM.
func (f *identityFlags) load(ctx context.Context, log *slog.Logger) (*client.Identity, func() error, error) {
	noop := func() error { return nil }
	var id *client.Identity
	closeFn := noop
	if f.idevidKey != "" && f.tpmPath != "" {
		return nil, nil, usagef("--idevid-key and --tpm both name the IDevID key: give one (--idevid-key for a key in a file, --tpm for a key in the TPM)")
	}
	if f.idevidKey != "" {
		if f.idevidCert == "" {
			return nil, nil, usagef("--idevid-key needs --idevid-cert")
		}
		certs, err := loadCertificates(f.idevidCert)
		if err != nil {
			return nil, nil, fmt.Errorf("--idevid-cert: %w", err)
		}
		key, err := loadPrivateKey(f.idevidKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--idevid-key: %w", err)
		}
		id = &client.Identity{Certificate: certs[0], Chain: certs[1:], Signer: key}
		if !publicKeysEqual(key.Public(), certs[0].PublicKey) {
			return nil, nil, fmt.Errorf("--idevid-key %s does not match the public key of --idevid-cert %s", f.idevidKey, f.idevidCert)
		}
	} else {
		cfg := tpm.Config{Path: f.tpmPath, CertFile: f.idevidCert, ChainFile: f.idevidChain, Logger: log}
		if cfg.Path == "" {
			cfg.Path = tpm.DefaultPath
		}
		var err error
		if cfg.IDevIDHandle, err = parseHandle("idevid-handle", f.idevidHandle); err != nil {
			return nil, nil, err
		}
		for _, s := range f.idevidCertIndex {
			h, err := parseHandle("idevid-cert-index", s)
			if err != nil {
				return nil, nil, err
			}
			cfg.CertIndexes = append(cfg.CertIndexes, h)
		}
		if f.decryptionKeyHandle != "" {
			if cfg.DecryptionKeyHandle, err = parseHandle("decryption-key-handle", f.decryptionKeyHandle); err != nil {
				return nil, nil, err
			}
		}
		cfg.SaltKeyPin = f.readSaltPin(log)
		tid, err := tpm.OpenIdentity(ctx, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("loading IDevID from TPM %s: %w (give --tpm for another TPM, or --idevid-cert and --idevid-key for an identity in files)", cfg.Path, err)
		}
		id = &client.Identity{Certificate: tid.Certificate, Chain: tid.Chain, Signer: tid.Signer, Decrypter: tid.Decrypter}
		if tid.ECDH != nil {
			id.ECDH = tid.ECDH
		}
		if tid.Close != nil {
			closeFn = tid.Close
		}
		f.device = tid.Device
		f.recordSaltPin(cfg.SaltKeyPin, log)
	}
	if f.idevidChain != "" && f.idevidKey != "" {
		chain, err := loadCertificates(f.idevidChain)
		if err != nil {
			return nil, nil, fmt.Errorf("--idevid-chain: %w", err)
		}
		id.Chain = append(id.Chain, chain...)
	}
	if f.decryptionKey != "" {
		key, err := loadPrivateKey(f.decryptionKey)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("--decryption-key: %w", err)
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			ek, err := k.ECDH()
			if err != nil {
				closeFn()
				return nil, nil, fmt.Errorf("--decryption-key %s: %w", f.decryptionKey, err)
			}
			id.ECDH = trust.NewECDHKey(ek)
		case crypto.Decrypter:
			id.Decrypter = k
		default:
			closeFn()
			return nil, nil, usagef("--decryption-key %s: a %T cannot decrypt (want an RSA key, or an EC P-256/P-384 key for ECDH)", f.decryptionKey, key)
		}
	}
	id.SerialNumber = f.serialNumber
	if id.SerialNumber == "" {
		id.SerialNumber = client.SerialNumberOf(id.Certificate)
	}
	if id.SerialNumber == "" {
		closeFn()
		return nil, nil, fmt.Errorf("the IDevID subject %q has no serialNumber attribute; give --serial-number", id.Certificate.Subject)
	}
	return id, closeFn, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(eq); ok {
		return e.Equal(b)
	}
	return false
}

// loadAnchors reads trust anchor files: PEM bundles or certs-only CMS (DER,
// or PEM "CMS"/"PKCS7").
func loadAnchors(flag string, files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, file := range files {
		certs, err := loadCertificates(file)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// loadCertificates reads X.509 certificates from a PEM bundle, a DER
// certificate, or a certs-only CMS (DER or PEM).
func loadCertificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			certs = append(certs, c)
		case "CMS", "PKCS7":
			cs, err := trust.ParseCertsOnly(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			certs = append(certs, cs...)
		}
	}
	if !sawPEM {
		if c, err := x509.ParseCertificate(data); err == nil {
			certs = append(certs, c)
		} else if cs, err2 := trust.ParseCertsOnly(bytes.TrimSpace(data)); err2 == nil {
			certs = append(certs, cs...)
		} else {
			return nil, fmt.Errorf("%s: neither PEM, a DER certificate nor a certs-only CMS (%v; %v)", file, err, err2)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificates found", file)
	}
	return certs, nil
}

// loadPrivateKey reads a PEM private key (PKCS#8, PKCS#1 or SEC 1).
func loadPrivateKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var key any
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: key type %T cannot sign", file, key)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s: no PEM private key found", file)
}
