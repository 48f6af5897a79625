package sztptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// TLS returns the pair as a tls.Certificate with chain (leaf first).
func (kp *KeyPair) TLS(chain ...*x509.Certificate) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key, Leaf: kp.Cert}
	for _, ic := range chain {
		c.Certificate = append(c.Certificate, ic.Raw)
	}
	return c
}

// CertPEM returns the certificate in PEM.
func (kp *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.Cert.Raw})
}

// KeyPEM returns the private key in PKCS#8 PEM.
func (kp *KeyPair) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(kp.Key)
	if err != nil {
		panic(err) // only ECDSA keys are made here
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PKI is a small test PKI: a server CA with a loopback server certificate,
// and a manufacturer CA with an intermediate that issued a device IDevID.
type PKI struct {
	ServerCA   *KeyPair
	Server     *KeyPair // CN=localhost, SAN localhost, 127.0.0.1 to 127.0.0.16, ::1
	DeviceRoot *KeyPair
	DeviceCA   *KeyPair // intermediate under DeviceRoot
	Device     *KeyPair // IDevID with subject serialNumber
	Serial     string
}

// NewPKI makes a fresh ECDSA P-256 PKI for the device serial number.
func NewPKI(serial string) (*PKI, error) {
	p := &PKI{Serial: serial}
	var err error
	if p.ServerCA, err = NewCA("sztptest server root", nil); err != nil {
		return nil, err
	}
	ips := []net.IP{net.IPv6loopback}
	for i := 1; i <= 16; i++ {
		ips = append(ips, net.IPv4(127, 0, 0, byte(i)))
	}
	if p.Server, err = NewServerCert(p.ServerCA, "localhost", []string{"localhost"}, ips); err != nil {
		return nil, err
	}
	if p.DeviceRoot, err = NewCA("sztptest manufacturer root", nil); err != nil {
		return nil, err
	}
	if p.DeviceCA, err = NewCA("sztptest manufacturer issuing CA", p.DeviceRoot); err != nil {
		return nil, err
	}
	if p.Device, err = NewDeviceCert(p.DeviceCA, serial); err != nil {
		return nil, err
	}
	return p, nil
}

// ClientCAs is the pool a server uses to verify device certificates.
func (p *PKI) ClientCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.DeviceRoot.Cert)
	return pool
}

// WriteFiles writes ca.pem (server trust anchor), server.pem/server.key,
// device.pem (IDevID followed by its intermediate), device.key and
// device-ca.pem (manufacturer root) into dir and returns their paths by name.
func (p *PKI) WriteFiles(dir string) (map[string]string, error) {
	files := map[string][]byte{
		"ca.pem":        p.ServerCA.CertPEM(),
		"server.pem":    p.Server.CertPEM(),
		"server.key":    p.Server.KeyPEM(),
		"device.pem":    append(p.Device.CertPEM(), p.DeviceCA.CertPEM()...),
		"device.key":    p.Device.KeyPEM(),
		"device-ca.pem": p.DeviceRoot.CertPEM(),
	}
	out := map[string]string{}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("sztptest: %w", err)
		}
		out[name] = path
	}
	return out, nil
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serialNo() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func sign(tmpl *x509.Certificate, pub crypto.PublicKey, key crypto.Signer, parent *KeyPair) (*KeyPair, error) {
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("sztptest: creating %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

func validity() (time.Time, time.Time) {
	now := time.Now()
	return now.Add(-time.Hour), now.Add(10 * 365 * 24 * time.Hour)
}

// NewCA makes a CA certificate, self-signed when parent is nil.
func NewCA(cn string, parent *KeyPair) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	nb, na := validity()
	tmpl := &x509.Certificate{
		SerialNumber: serialNo(), Subject: pkix.Name{CommonName: cn, Organization: []string{"sztptest"}},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	return sign(tmpl, key.Public(), key, parent)
}

// NewServerCert makes a TLS server certificate.
func NewServerCert(ca *KeyPair, cn string, dns []string, ips []net.IP) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	nb, na := validity()
	tmpl := &x509.Certificate{
		SerialNumber: serialNo(), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		DNSNames: dns, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return sign(tmpl, key.Public(), key, ca)
}

// NewDeviceCert makes an IDevID-like client certificate whose subject
// carries the serial number (2.5.4.5).
func NewDeviceCert(ca *KeyPair, serial string) (*KeyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNo(),
		Subject:      pkix.Name{CommonName: "sztptest device " + serial, SerialNumber: serial, Organization: []string{"sztptest"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), // 802.1AR
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return sign(tmpl, key.Public(), key, ca)
}
