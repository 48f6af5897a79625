package trusttest_test

import (
	"bytes"
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestWriteRead checks that a PKI, a device and the matrix survive a trip
// through the files the generator writes.
func TestWriteRead(t *testing.T) {
	p, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.NewDevice("SN-RT")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := p.WriteDir(dir + "/pki"); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteDir(dir + "/device"); err != nil {
		t.Fatal(err)
	}
	p2, err := trusttest.ReadPKI(dir + "/pki")
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Owner.Cert.Equal(p.Owner.Cert) || !p2.ManufacturerCA.Cert.Equal(p.ManufacturerCA.Cert) {
		t.Fatal("PKI certificates differ after the round trip")
	}
	d2, err := trusttest.ReadDevice(dir+"/device", "SN-RT")
	if err != nil {
		t.Fatal(err)
	}
	if !d2.IDevID.Cert.Equal(d.IDevID.Cert) || d2.IDevID.Cert.Subject.SerialNumber != "SN-RT" {
		t.Fatalf("IDevID differs: %v", d2.IDevID.Cert.Subject)
	}
	if len(d2.IDevID.Cert.AuthorityKeyId) == 0 {
		t.Error("IDevID has no authority key identifier")
	}
	cases, err := p.Matrix(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := trusttest.WriteMatrix(dir+"/artifacts", cases); err != nil {
		t.Fatal(err)
	}
	back, err := trusttest.ReadMatrix(dir + "/artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(cases)-1 { // the oversized case is not written
		t.Fatalf("read %d cases, wrote %d", len(back), len(cases))
	}
	byName := map[string]trusttest.Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	for _, c := range back {
		w := byName[c.Name]
		if c.WantStep != w.WantStep || !bytes.Equal(c.Artifacts.OwnershipVoucher, w.Artifacts.OwnershipVoucher) || !bytes.Equal(c.Artifacts.ConveyedInformation, w.Artifacts.ConveyedInformation) {
			t.Fatalf("case %q differs after the round trip", c.Name)
		}
	}
}

// TestEncryptArtifacts checks both encrypted forms for both key types.
func TestEncryptArtifacts(t *testing.T) {
	p, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.NewDevice("SN-ENC")
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ec", "rsa"} {
		for _, o := range []trusttest.EncryptOptions{{}, {GCM: true}, {OpensslStyle: true}, {AES128: true, OAEP: true}} {
			to := d.IDevID.Cert
			if key == "rsa" {
				to = d.RSA.Cert
			}
			enc, err := trusttest.EncryptArtifacts(a, to, o)
			if err != nil {
				t.Fatal(err)
			}
			c := trusttest.Case{Key: key}
			res, err := trust.Open(enc, c.Options(p, d))
			if err != nil {
				t.Fatalf("%s %+v: %v", key, o, err)
			}
			if !res.Encrypted || !res.Signed || !bytes.Equal(res.Content, trusttest.OnboardingJSON) {
				t.Fatalf("%s %+v: encrypted=%v signed=%v", key, o, res.Encrypted, res.Signed)
			}
		}
	}
}
