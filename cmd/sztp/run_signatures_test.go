package main

import (
	"bytes"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Issue 13 item 2 acceptance: a verbose bootstrap with at least 10
// progress reports, the IDevID key in swtpm, costs one TPM signature (one
// TLS client authentication for the one server), and run's final log line
// says so. Before keep-alive and session resumption it cost one per
// request (11 here).
func TestIssue13_2_RunOneTPMSignaturePerServer(t *testing.T) {
	sw := swtpmtest.Start(t)
	id := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=DPU-SN-2718/CN=dpu-2718/O=Example DPU Vendor"})
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
	s.SetResponse("DPU-SN-2718", &sztptest.Response{ReportingLevel: conveyed.Verbose, Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		PreConfigurationScript:  []byte("#!/bin/sh\necho pre\n"),
		ConfigurationHandling:   conveyed.Replace,
		Configuration:           []byte("tpm-config\n"),
		PostConfigurationScript: []byte("#!/bin/sh\necho post\n"),
	}}})
	dir := t.TempDir()
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A child process: the log goes to the process's stderr.
	cmd := sztpProcess(t, dir, "run", "--once", "--tpm", sw.Path,
		"--bootstrap-url", s.URL, "--server-trust-anchor", files["ca.pem"],
		"--state-dir", filepath.Join(dir, "state"), "--config-hook", "file:"+filepath.Join(dir, "CFG"),
		"--config=", "--cmdline-file=", "--os-release=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	errOut := stderr.String()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if n := len(s.ProgressTypes()); n < 10 {
		t.Fatalf("%d progress reports, want at least 10", n)
	}
	var done string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.Contains(l, `msg=done`) {
			done = l
		}
	}
	if !strings.Contains(done, " tpm-signatures=1") {
		t.Errorf("final log line %q, want tpm-signatures=1 (%d requests)", done, len(s.Requests()))
	}
	t.Logf("%d requests, %d reports; %s", len(s.Requests()), len(s.ProgressTypes()), done)
}
