package trusttest

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteDir writes the PKI to dir as PEM files: NAME.pem (certificate) and
// NAME.key (PKCS#8 private key) for manufacturer-ca, voucher-signer,
// owner-ca, owner, device-ca and server-ca. It also writes
// owner-certificate.cms (the certs-only owner certificate artifact) and
// server-trust-anchor.cms (a redirect trust-anchor for ServerCA).
func (p *PKI) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, i := range map[string]Issued{
		"manufacturer-ca": p.ManufacturerCA, "voucher-signer": p.VoucherSigner,
		"owner-ca": p.OwnerCA, "owner": p.Owner,
		"device-ca": p.DeviceCA, "server-ca": p.ServerCA,
	} {
		if err := WriteIssued(dir, name, i); err != nil {
			return err
		}
	}
	oc, err := p.OwnerCertificateCMS()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner-certificate.cms"), oc, 0o644); err != nil {
		return err
	}
	ta, err := p.ServerTrustAnchor()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "server-trust-anchor.cms"), ta, 0o644)
}

// WriteDir writes the device certificates and keys to dir: idevid,
// device-rsa and device-p384 (.pem and .key).
func (d *Device) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, i := range map[string]Issued{"idevid": d.IDevID, "device-rsa": d.RSA, "device-p384": d.P384} {
		if err := WriteIssued(dir, name, i); err != nil {
			return err
		}
	}
	return nil
}

// WriteIssued writes dir/name.pem and dir/name.key.
func WriteIssued(dir, name string, i Issued) error {
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.Cert.Raw})
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), cert, 0o644); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(i.Key)
	if err != nil {
		return err
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return os.WriteFile(filepath.Join(dir, name+".key"), key, 0o600)
}

// ReadIssued reads dir/name.pem and dir/name.key as WriteIssued wrote them.
func ReadIssued(dir, name string) (Issued, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, name+".pem"))
	if err != nil {
		return Issued{}, err
	}
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return Issued{}, fmt.Errorf("%s.pem: no PEM certificate", name)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return Issued{}, fmt.Errorf("%s.pem: %w", name, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return Issued{Cert: cert}, err
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return Issued{}, fmt.Errorf("%s.key: no PEM key", name)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return Issued{}, fmt.Errorf("%s.key: %w", name, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return Issued{}, errors.New(name + ".key: not a signing key")
	}
	return Issued{Cert: cert, Key: s}, nil
}

// ReadDevice reads what (*Device).WriteDir wrote.
func ReadDevice(dir, serial string) (*Device, error) {
	d := &Device{Serial: serial}
	var err error
	if d.IDevID, err = ReadIssued(dir, "idevid"); err != nil {
		return nil, err
	}
	if d.RSA, err = ReadIssued(dir, "device-rsa"); err != nil {
		return nil, err
	}
	if d.P384, err = ReadIssued(dir, "device-p384"); err != nil {
		return nil, err
	}
	return d, nil
}

// ReadPKI reads what (*PKI).WriteDir wrote.
func ReadPKI(dir string) (*PKI, error) {
	p := &PKI{}
	for name, dst := range map[string]*Issued{
		"manufacturer-ca": &p.ManufacturerCA, "voucher-signer": &p.VoucherSigner,
		"owner-ca": &p.OwnerCA, "owner": &p.Owner,
		"device-ca": &p.DeviceCA, "server-ca": &p.ServerCA,
	} {
		i, err := ReadIssued(dir, name)
		if err != nil {
			return nil, err
		}
		*dst = i
	}
	p.NotBefore, p.NotAfter = p.ManufacturerCA.Cert.NotBefore, p.ManufacturerCA.Cert.NotAfter
	return p, nil
}
