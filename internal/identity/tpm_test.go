package identity

import (
	"context"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// The shared identity flags load the TPM identity the way `sztp run --tpm`
// will: key, NV certificate, serial number from the subject, decryption key.
func TestLoadTPM(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=DPU-SN-5150/CN=dpu"})
	sw.ProvisionDecryptionKey(t, "ecc256:null", 0x81010010)
	f := Flags{TPMPath: sw.Path, IDevIDHandle: "0x81020000", IDevIDCertIndex: []string{"0x01C90200", "0x01C90000"},
		DecryptionKeyHandle: "0x81010010"}
	id, closeFn, err := f.Load(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if id.SerialNumber != "DPU-SN-5150" || id.ECDH == nil || id.Decrypter != nil {
		t.Fatalf("identity: serial %q, ECDH %v, Decrypter %v", id.SerialNumber, id.ECDH, id.Decrypter)
	}
	if cert := id.TLSCertificate(); len(cert.SupportedSignatureAlgorithms) == 0 {
		t.Fatal("TPM signer did not restrict the TLS signature schemes")
	}
}
