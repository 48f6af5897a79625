package swtpmtest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sztp/sztp/internal/testenv"
)

// IDevIDOptions describe the IDevID to provision. Zero values take the
// defaults in brackets.
type IDevIDOptions struct {
	// Alg is tpm2_createprimary's -G: "ecc256:null" (default),
	// "ecc256:ecdsa-sha256", "ecc384:null", "rsa2048:null",
	// "rsa2048:rsassa-sha256", ...
	Alg       string
	Handle    uint32 // [0x81020000]
	CertIndex uint32 // [0x01C90000]
	// Subject is openssl's -subj for the certificate
	// ["/serialNumber=DPU-SN-0042/CN=dpu-0042"].
	Subject string
	// OwnerNV defines the certificate index in the owner hierarchy instead of
	// the platform hierarchy.
	OwnerNV bool
	// Attributes are tpm2_createprimary's -a
	// ["fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|sign"];
	// add "restricted" (with a fixed scheme in Alg) for an attestation key
	// (IAK) that the agent must refuse (C105).
	Attributes string
}

// IDevID is what ProvisionIDevID made. Files are in the SWTPM's Dir.
type IDevID struct {
	CA         *x509.Certificate
	CAFile     string // PEM
	CAKeyFile  string // PEM (EC P-256)
	Cert       *x509.Certificate
	CertDER    []byte
	CertFile   string // DER
	PubKeyFile string // PEM public key of the TPM key
	Handle     uint32
	CertIndex  uint32
}

// ProvisionIDevID provisions an IDevID with tpm2-tools and openssl only, as a
// manufacturer would (platform-recipes.md 1c): primary key in the endorsement
// hierarchy persisted at Handle, a test CA certifies it, the DER certificate
// goes to the NV index with platform authorization.
func (s *SWTPM) ProvisionIDevID(t testing.TB, o IDevIDOptions) *IDevID {
	t.Helper()
	testenv.NeedCommands(t, "tpm2_createprimary", "tpm2_evictcontrol", "tpm2_readpublic", "tpm2_nvdefine", "tpm2_nvwrite", "openssl")
	if o.Alg == "" {
		o.Alg = "ecc256:null"
	}
	if o.Handle == 0 {
		o.Handle = 0x81020000
	}
	if o.CertIndex == 0 {
		o.CertIndex = 0x01C90000
	}
	if o.Subject == "" {
		o.Subject = "/serialNumber=DPU-SN-0042/CN=dpu-0042"
	}
	if o.Attributes == "" {
		o.Attributes = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|sign"
	}
	handle, index := hex(o.Handle), hex(o.CertIndex)
	pre := "idevid-" + handle
	s.Tool(t, "tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256", "-G", o.Alg,
		"-a", o.Attributes, "-c", pre+".ctx")
	s.Tool(t, "tpm2_evictcontrol", "-Q", "-C", "o", "-c", pre+".ctx", handle)
	s.Tool(t, "tpm2_flushcontext", "-t") // no resource manager: free the transient slot
	s.Tool(t, "tpm2_readpublic", "-Q", "-c", handle, "-f", "pem", "-o", pre+".pub.pem")

	ca := s.CA(t)
	id := &IDevID{CA: ca.Cert, CAFile: ca.CertFile, CAKeyFile: ca.KeyFile, Handle: o.Handle, CertIndex: o.CertIndex,
		PubKeyFile: filepath.Join(s.Dir, pre+".pub.pem"), CertFile: filepath.Join(s.Dir, pre+".der")}
	if err := os.WriteFile(filepath.Join(s.Dir, "idevid.ext"), []byte("keyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, s.Dir, nil, "openssl", "req", "-new", "-key", ca.KeyFile, "-subj", "/CN=dummy", "-out", "dummy.csr")
	run(t, s.Dir, nil, "openssl", "x509", "-req", "-in", "dummy.csr", "-CA", ca.CertFile, "-CAkey", ca.KeyFile,
		"-CAcreateserial", "-force_pubkey", id.PubKeyFile, "-subj", o.Subject, "-days", "2",
		"-extfile", "idevid.ext", "-outform", "DER", "-out", id.CertFile)
	der, err := os.ReadFile(id.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if id.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatalf("openssl made an unparsable certificate: %v", err)
	}
	id.CertDER = der
	size := strconv.Itoa(len(der))
	if o.OwnerNV {
		s.Tool(t, "tpm2_nvdefine", "-Q", index, "-C", "o", "-s", size, "-a", "ownerwrite|ownerread|authread|ppread|no_da")
		s.Tool(t, "tpm2_nvwrite", "-Q", index, "-C", "o", "-i", id.CertFile)
	} else {
		s.Tool(t, "tpm2_nvdefine", "-Q", index, "-C", "p", "-s", size, "-a", "ppwrite|ppread|ownerread|authread|no_da|platformcreate")
		s.Tool(t, "tpm2_nvwrite", "-Q", index, "-C", "p", "-i", id.CertFile)
	}
	return id
}

// CA is a test certificate authority made with openssl.
type CA struct {
	Cert     *x509.Certificate
	CertFile string // PEM
	KeyFile  string // PEM
}

// CA returns this TPM's test CA (EC P-256), made on first use.
func (s *SWTPM) CA(t testing.TB) *CA {
	t.Helper()
	testenv.NeedCommands(t, "openssl")
	ca := &CA{CertFile: filepath.Join(s.Dir, "ca.pem"), KeyFile: filepath.Join(s.Dir, "ca.key")}
	if _, err := os.Stat(ca.CertFile); err != nil {
		run(t, s.Dir, nil, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ca.KeyFile)
		run(t, s.Dir, nil, "openssl", "req", "-x509", "-new", "-key", ca.KeyFile, "-subj", "/CN=Test IDevID CA", "-days", "2", "-out", ca.CertFile)
	}
	data, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", ca.CertFile)
	}
	if ca.Cert, err = x509.ParseCertificate(b.Bytes); err != nil {
		t.Fatal(err)
	}
	return ca
}

// ProvisionDecryptionKey creates an unrestricted decryption key in the owner
// hierarchy with tpm2-tools (alg as tpm2_createprimary's -G, e.g.
// "rsa2048:null" or "ecc256:null"), persists it at handle and returns the PEM
// file of its public key.
func (s *SWTPM) ProvisionDecryptionKey(t testing.TB, alg string, handle uint32) string {
	t.Helper()
	h := hex(handle)
	pre := "dec-" + h
	s.Tool(t, "tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256", "-G", alg,
		"-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|decrypt", "-c", pre+".ctx")
	s.Tool(t, "tpm2_evictcontrol", "-Q", "-C", "o", "-c", pre+".ctx", h)
	s.Tool(t, "tpm2_flushcontext", "-t")
	s.Tool(t, "tpm2_readpublic", "-Q", "-c", h, "-f", "pem", "-o", pre+".pub.pem")
	return filepath.Join(s.Dir, pre+".pub.pem")
}

func hex(v uint32) string { return fmt.Sprintf("0x%08X", v) }
