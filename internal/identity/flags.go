package identity

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sztp/sztp/internal/usage"
	"github.com/sztp/sztp/tpm"
)

// Flags are the identity and trust flags shared by run, get and tpm
// (design.md, command line contract).
type Flags struct {
	TPMPath             string
	IDevIDHandle        string
	IDevIDCertIndex     []string
	IDevIDCert          string
	IDevIDKey           string
	IDevIDChain         string
	DecryptionKeyHandle string
	DecryptionKey       string
	SerialNumber        string
	ServerTrustAnchors  []string
	VoucherTrustAnchors []string
	// SaltPinFile, when set, pins the TPM key that salts protected sessions
	// (pin.go).
	SaltPinFile string
	// Device is the TPM that Load opened (nil for an identity in files),
	// for measured onboarding and LDevID enrolment.
	Device *tpm.Device
}

// AddIdentity adds the flags that name the device identity.
func (f *Flags) AddIdentity(fs *pflag.FlagSet) {
	fs.StringVar(&f.TPMPath, "tpm", "", "TPM to use: /dev/tpmrm0, /dev/tpm0, tcp://HOST:PORT or unix://PATH (swtpm server socket); default /dev/tpmrm0 unless --idevid-key is given")
	fs.StringVar(&f.IDevIDHandle, "idevid-handle", "0x81020000", "persistent handle of the IDevID key in the TPM")
	fs.StringSliceVar(&f.IDevIDCertIndex, "idevid-cert-index", []string{"0x01C90000", "0x01C90200"}, "NV indexes holding the IDevID certificate, tried in order")
	fs.StringVar(&f.IDevIDCert, "idevid-cert", "", "IDevID certificate (PEM or DER file) instead of the TPM NV index")
	fs.StringVar(&f.IDevIDKey, "idevid-key", "", "IDevID private key (PEM file) instead of the TPM, for devices without one and for debugging")
	fs.StringVar(&f.IDevIDChain, "idevid-chain", "", "PEM file with the IDevID's intermediate certificates, sent in the TLS handshake")
	fs.StringVar(&f.DecryptionKeyHandle, "decryption-key-handle", "", "persistent handle of a TPM key that decrypts encrypted artifacts (RSA decrypt or ECDH)")
	fs.StringVar(&f.DecryptionKey, "decryption-key", "", "private key (PEM file) that decrypts encrypted artifacts")
	fs.StringVar(&f.SerialNumber, "serial-number", "", "device serial number (default: the last serialNumber attribute of the IDevID subject)")
}

// AddTrust adds the trust anchor flags.
func (f *Flags) AddTrust(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.ServerTrustAnchors, "server-trust-anchor", nil, "trust anchors for bootstrap servers: PEM bundle (root plus intermediates) or certs-only CMS (repeatable)")
	fs.StringSliceVar(&f.VoucherTrustAnchors, "voucher-trust-anchor", nil, "trust anchors for ownership vouchers: PEM bundle or certs-only CMS (repeatable); must issue only MASA/manufacturer voucher-signing certificates, never device or server ones")
}

// ParseHandle parses a TPM handle or NV index given to --name.
func ParseHandle(name, s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return 0, usage.Errorf("--%s %q: not a 32-bit handle (e.g. 0x81020000)", name, s)
	}
	return uint32(v), nil
}

// TPMConfig turns the flags into a tpm.Config (TPM path, IDevID key handle,
// certificate indexes and files, decryption key handle).
func (f *Flags) TPMConfig() (tpm.Config, error) {
	cfg := tpm.Config{Path: f.TPMPath, CertFile: f.IDevIDCert, ChainFile: f.IDevIDChain}
	if cfg.Path == "" {
		cfg.Path = tpm.DefaultPath
	}
	var err error
	if cfg.IDevIDHandle, err = ParseHandle("idevid-handle", f.IDevIDHandle); err != nil {
		return cfg, err
	}
	for _, s := range f.IDevIDCertIndex {
		h, err := ParseHandle("idevid-cert-index", s)
		if err != nil {
			return cfg, err
		}
		cfg.CertIndexes = append(cfg.CertIndexes, h)
	}
	if f.DecryptionKeyHandle != "" {
		if cfg.DecryptionKeyHandle, err = ParseHandle("decryption-key-handle", f.DecryptionKeyHandle); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}
