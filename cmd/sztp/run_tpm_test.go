package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Issue 5 acceptance: `sztp run --once --tpm tcp://127.0.0.1:PORT ...`
// completes a bootstrap whose TLS client authentication was done by the
// IDevID key inside swtpm (C5, C105).
func TestRunWithTPMIdentity(t *testing.T) {
	sw := swtpmtest.Start(t)
	id := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=DPU-SN-3141/CN=dpu-3141/O=Example DPU Vendor"})
	p, err := sztptest.NewPKI("unused")
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(id.CA)
	s, err := sztptest.NewServer(sztptest.Options{Certificate: p.Server.TLS(), ClientCAs: clientCAs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetResponse("DPU-SN-3141", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("tpm-config\n"),
	}}})
	dir := t.TempDir()
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "CFG")
	out, errOut, code := runSztp(t, "run", "--once", "--tpm", sw.Path,
		"--bootstrap-url", s.URL, "--server-trust-anchor", files["ca.pem"],
		"--state-dir", filepath.Join(dir, "state"), "--config-hook", "file:"+cfg,
		"--config", "", "--cmdline-file", "", "--os-release", "")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	reqs := s.Requests()
	if len(reqs) == 0 || !reqs[0].HasCert || reqs[0].Serial != "DPU-SN-3141" {
		t.Errorf("requests %+v, want the TPM IDevID's serial number in the client certificate", reqs)
	}
	if got := s.ProgressTypes(); len(got) == 0 || got[len(got)-1] != conveyed.BootstrapComplete {
		t.Errorf("reports %v", got)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "tpm-config\n" {
		t.Errorf("config %q", data)
	}
}
