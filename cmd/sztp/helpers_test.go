package main

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/trust/trusttest"
)

// testDevice is a device PKI written to files in a temporary directory,
// and a bootstrap server on loopback that authenticates the device.
type testDevice struct {
	dir    string
	pki    *sztptest.PKI
	files  map[string]string // from sztptest.PKI.WriteFiles
	server *sztptest.Server
}

func newTestDevice(t *testing.T, serial string) *testDevice {
	t.Helper()
	d := &testDevice{dir: t.TempDir()}
	var err error
	if d.pki, err = sztptest.NewPKI(serial); err != nil {
		t.Fatal(err)
	}
	if d.files, err = d.pki.WriteFiles(d.dir); err != nil {
		t.Fatal(err)
	}
	if d.server, err = sztptest.NewServer(sztptest.Options{Certificate: d.pki.Server.TLS(), ClientCAs: d.pki.ClientCAs()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.server.Close)
	return d
}

// identity is the flags of the device's file identity.
func (d *testDevice) identity() []string {
	return []string{"--idevid-cert", d.files["device.pem"], "--idevid-key", d.files["device.key"]}
}

// newOwner makes a manufacturer/owner PKI for signed data and writes its
// voucher trust anchor into dir.
func newOwner(t *testing.T, dir string) (*trusttest.PKI, string) {
	t.Helper()
	owner, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	anchor := filepath.Join(dir, "voucher-ca.pem")
	if err := os.WriteFile(anchor, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: owner.ManufacturerCA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return owner, anchor
}
