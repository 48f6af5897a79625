package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Issue 12 item 3 (measured onboarding): a signed bootstrap with a TPM
// identity extends PCR 14 with the SHA-256 of the voucher, owner
// certificate, conveyed information, boot image, pre-configuration
// script, configuration and post-configuration script, in that order; the
// CEL-JSON event log records exactly those digests, and tpm2_pcrread (an
// independent reader) shows the value the log replays to.
func TestMeasuredOnboardingPCRMatchesEventLog(t *testing.T) {
	sw := swtpmtest.Start(t)
	const serial = "DPU-SN-1414"
	id := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=" + serial + "/CN=dpu"})
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
	fsrv, err := sztptest.NewFileServer(p.Server.TLS())
	if err != nil {
		t.Fatal(err)
	}
	defer fsrv.Close()
	dir := t.TempDir()
	owner, voucherCA := newOwner(t, dir)
	image := []byte("measured boot image\n")
	imageSum := sha256.Sum256(image)
	oi := &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{OSName: "MOS", OSVersion: "2", DownloadURIs: []string{fsrv.Add("img", image)},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: imageSum[:]}}},
		PreConfigurationScript:  []byte("#!/bin/sh\necho pre\n"),
		ConfigurationHandling:   conveyed.Replace,
		Configuration:           []byte("measured-config\n"),
		PostConfigurationScript: []byte("#!/bin/sh\necho post\n"),
	}
	build := sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: oi}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})
	var mu sync.Mutex
	var sent *conveyed.GetBootstrappingDataOutput
	s.SetResponse(serial, &sztptest.Response{Build: func(in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
		out, err := build(in)
		mu.Lock()
		sent = out
		mu.Unlock()
		return out, err
	}})
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	out, errOut, code := runSztp(t, "run", "--once", "--tpm", sw.Path,
		"--bootstrap-url", s.URL, "--server-trust-anchor", files["ca.pem"], "--voucher-trust-anchor", voucherCA,
		"--state-dir", stateDir, "--config-hook", "file:"+filepath.Join(dir, "cfg"), "--image-hook", "file:"+filepath.Join(dir, "slot"),
		"--os-name", "MOS", "--os-version", "1", "--config", "", "--cmdline-file", "", "--os-release", "")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(stateDir, identity.SaltPinName)); err != nil {
		t.Errorf("the TPM salt key was not pinned on first use: %v", err)
	}
	sum := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	want := []struct{ artifact, digest string }{
		{"ownership-voucher", sum(sent.OwnershipVoucher)},
		{"owner-certificate", sum(sent.OwnerCertificate)},
		{"conveyed-information", sum(sent.ConveyedInformation)},
		{"boot-image", sum(image)},
		{"pre-configuration-script", sum(oi.PreConfigurationScript)},
		{"configuration", sum(oi.Configuration)},
		{"post-configuration-script", sum(oi.PostConfigurationScript)},
	}
	recs, err := tpm.ReadEventLog(tpm.EventLogPath(stateDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d event log records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Content.Artifact != w.artifact || r.Digests[0].Digest != w.digest || r.PCR != 14 || r.ContentType != "sztp" || r.RecNum != uint64(i) {
			t.Errorf("record %d = %+v, want %s sha256:%s on pcr 14", i, r, w.artifact, w.digest)
		}
	}
	replayed, err := tpm.Replay(recs)
	if err != nil {
		t.Fatal(err)
	}
	// tpm2-tools, not our code, reads the PCR.
	pcr := sw.Tool(t, "tpm2_pcrread", "sha256:14")
	if !strings.Contains(strings.ToLower(string(pcr)), hex.EncodeToString(replayed[14])) {
		t.Fatalf("tpm2_pcrread:\n%s\nwant the replayed value %x", pcr, replayed[14])
	}
	// sztp tpm eventlog --verify agrees; a log with one digest changed does not.
	text, err := sztp(t, "tpm", "eventlog", "--verify", "--tpm", sw.Path, "--state-dir", stateDir)
	if err != nil || !strings.Contains(text, "verified") {
		t.Fatalf("tpm eventlog --verify: %v\n%s", err, text)
	}
	data, _ := os.ReadFile(tpm.EventLogPath(stateDir))
	bad := strings.Replace(string(data), want[5].digest, sum([]byte("other config\n")), 1)
	if err := os.WriteFile(tpm.EventLogPath(stateDir), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if text, err := sztp(t, "tpm", "eventlog", "--verify", "--tpm", sw.Path, "--state-dir", stateDir); err == nil {
		t.Fatalf("a tampered event log verified:\n%s", text)
	}
}

// A file identity has no TPM: nothing is measured, no event log appears,
// and the bootstrap still succeeds; --measure-pcr none and out-of-range
// values are handled.
func TestMeasuredOnboardingFileIdentitySkips(t *testing.T) {
	d := newTestDevice(t, "MEAS-0001")
	d.server.SetResponse("MEAS-0001", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("c\n"),
	}}})
	stateDir := filepath.Join(d.dir, "state")
	args := append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--server-trust-anchor", d.files["ca.pem"],
		"--state-dir", stateDir, "--config-hook", "file:" + filepath.Join(d.dir, "cfg"),
		"--config", "", "--cmdline-file", "", "--os-release", "", "--log-level", "info"}, d.identity()...)
	out, errOut, code := runSztp(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(tpm.EventLogPath(stateDir)); !os.IsNotExist(err) {
		t.Errorf("event log written without a TPM: %v", err)
	}
	for _, v := range []struct {
		val string
		ok  bool
	}{{"none", true}, {"0", true}, {"23", true}, {"24", false}, {"-1", false}, {"x", false}} {
		_, err := parseMeasurePCR(v.val)
		if (err == nil) != v.ok {
			t.Errorf("parseMeasurePCR(%q) err = %v, want ok=%v", v.val, err, v.ok)
		}
	}
}
