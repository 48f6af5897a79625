package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/enroll"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/testenv"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Issue 12 item 1 (RFC 9646) end to end with swtpm: csr-support to the
// trusted server (C98); two csr-requests answered with p10-csr and without
// csr-support (C99), each with a fresh TPM key of the selected algorithm
// under the SRK (C100), the first key replaced so that one remains (C101);
// the CSR verifies with openssl; the issued certificate from the
// configuration's ietf-keystore is installed in NV and the key persisted
// with fixedTPM|fixedParent|sensitiveDataOrigin (tpm2-tools check both);
// a second bootstrap authenticates with the LDevID only (--identity
// ldevid); enable --factory-reset removes key, certificate and state (C103).
func TestLDevIDEnrolmentSWTPM(t *testing.T) {
	testenv.NeedCommands(t, "openssl", "tpm2_nvread", "tpm2_readpublic", "tpm2_getcap")
	sw := swtpmtest.Start(t)
	const serial = "DPU-SN-9646"
	id := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Subject: "/serialNumber=" + serial + "/CN=dpu-9646/O=Example"})
	p, err := sztptest.NewPKI("unused")
	if err != nil {
		t.Fatal(err)
	}
	ldevidCA, err := sztptest.NewCA("owner LDevID CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(id.CA)
	s, err := sztptest.NewServer(sztptest.Options{Certificate: p.Server.TLS(), ClientCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	flow := &sztptest.CSRFlow{CA: ldevidCA, Algorithm: client.AlgECCP256, Requests: 2}
	s.SetResponse(serial, &sztptest.Response{CSR: flow})
	dir := t.TempDir()
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	common := []string{"--tpm", sw.Path, "--server-trust-anchor", files["ca.pem"], "--state-dir", stateDir,
		"--config-hook", "file:" + filepath.Join(dir, "cfg"), "--config", "", "--cmdline-file", "", "--os-release", "", "--measure-pcr", "none"}
	out, errOut, code := runSztp(t, append([]string{"run", "--once", "--bootstrap-url", s.URL}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var gbd []*conveyed.GetBootstrappingDataInput
	for _, r := range s.Requests() {
		if r.GBD != nil {
			gbd = append(gbd, r.GBD)
		}
	}
	if len(gbd) != 3 {
		t.Fatalf("%d get-bootstrapping-data requests, want 3 (csr-support, p10-csr, p10-csr)", len(gbd))
	}
	cs := gbd[0].CSRSupport
	if cs == nil || len(cs.CSRFormats) != 1 || cs.CSRFormats[0] != conveyed.FormatP10CSR || !hasAlg(cs.KeyGenerationAlgorithms, client.AlgECCP256) || !hasAlg(cs.KeyGenerationAlgorithms, client.AlgRSA) {
		t.Fatalf("first request csr-support = %+v, want key-generation with P-256 and RSA (swtpm has both) and p10 only", cs)
	}
	for i, in := range gbd[1:] {
		if in.CSRSupport != nil || in.P10CSR == nil || in.CMCCSR != nil || in.CMPCSR != nil {
			t.Errorf("request %d: want p10-csr only, got %+v", i+2, in)
		}
	}
	csrs, issued := flow.CSRs(), flow.Issued()
	if len(csrs) != 2 || len(issued) != 1 {
		t.Fatalf("%d CSRs, %d certificates", len(csrs), len(issued))
	}
	first, _ := x509.ParseCertificateRequest(csrs[0])
	last, err := x509.ParseCertificateRequest(csrs[1])
	if err != nil {
		t.Fatal(err)
	}
	if first == nil || publicKeysEqual(first.PublicKey, last.PublicKey) {
		t.Error("the second csr-request did not get a new key")
	}
	if !bytes.Equal(last.RawSubject, id.Cert.RawSubject) {
		t.Errorf("CSR subject %s, want the IDevID's %s", last.Subject, id.Cert.Subject)
	}
	csrFile := filepath.Join(dir, "last.csr")
	os.WriteFile(csrFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrs[1]}), 0o644)
	if b, err := os.ReadFile(filepath.Join(stateDir, enroll.FileCSR)); err != nil || !bytes.Contains(b, []byte("CERTIFICATE REQUEST")) {
		t.Errorf("SZTP_LDEVID_CSR file: %v", err)
	}
	sw.Tool(t, "openssl", "req", "-verify", "-noout", "-in", csrFile)
	if !publicKeysEqual(issued[0].PublicKey, last.PublicKey) {
		t.Fatal("issued certificate is not for the last CSR's key")
	}
	// One LDevID key remains, at 0x81020002, with the attributes asked for.
	handles := strings.ToLower(string(sw.Tool(t, "tpm2_getcap", "handles-persistent")))
	if strings.Count(handles, "0x8") != 2 || !strings.Contains(handles, "0x81020002") {
		t.Fatalf("persistent handles:\n%s\nwant the IDevID and one LDevID key", handles)
	}
	rp := strings.ToLower(string(sw.Tool(t, "tpm2_readpublic", "-c", "0x81020002")))
	for _, a := range []string{"fixedtpm", "fixedparent", "sensitivedataorigin", "sign"} {
		if !strings.Contains(rp, a) {
			t.Errorf("tpm2_readpublic 0x81020002 lacks %s:\n%s", a, rp)
		}
	}
	nv := sw.Tool(t, "tpm2_nvread", "0x01020002", "-C", "0x01020002")
	if !bytes.Equal(nv, issued[0].Raw) {
		t.Fatalf("tpm2_nvread 0x01020002 (%d bytes) is not the issued certificate (%d bytes)", len(nv), len(issued[0].Raw))
	}
	info, err := sztp(t, "tpm", "info", "--tpm", sw.Path, "--json")
	var ti tpm.Info
	if err != nil || json.Unmarshal([]byte(info), &ti) != nil || ti.LDevID == nil || ti.LDevID.Certificate == nil || !ti.LDevID.Certificate.MatchesKey || ti.LDevID.Key.Handle != "0x81020002" {
		t.Fatalf("tpm info (%v):\n%s", err, info)
	}

	// Second bootstrap: the server accepts the LDevID CA only.
	ldPool := x509.NewCertPool()
	ldPool.AddCert(ldevidCA.Cert)
	s2, err := sztptest.NewServer(sztptest.Options{Certificate: p.Server.TLS(), ClientCAs: ldPool})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.SetResponse(serial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("second\n")}}})
	if _, err := sztp(t, "enable", "--state-dir", stateDir, "--config", "", "--cmdline-file", ""); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runSztp(t, append([]string{"run", "--once", "--identity", "ldevid", "--bootstrap-url", s2.URL}, common...)...)
	if code != 0 {
		t.Fatalf("second bootstrap with --identity ldevid: exit %d\n%s\n%s", code, out, errOut)
	}
	if r := s2.Requests(); len(r) == 0 || !r[0].HasCert || r[0].Serial != serial {
		t.Errorf("second server saw %+v", r)
	}

	// Factory reset (C103).
	if out, err := sztp(t, "enable", "--factory-reset", "--tpm", sw.Path, "--state-dir", stateDir, "--config", "", "--cmdline-file", ""); err != nil {
		t.Fatalf("enable --factory-reset: %v\n%s", err, out)
	}
	handles = strings.ToLower(string(sw.Tool(t, "tpm2_getcap", "handles-persistent")))
	if strings.Contains(handles, "0x81020002") || !strings.Contains(handles, "0x81020000") {
		t.Errorf("after factory reset the persistent handles are:\n%s", handles)
	}
	if nv := strings.ToLower(string(sw.Tool(t, "tpm2_getcap", "handles-nv-index"))); strings.Contains(nv, "0x1020002") {
		t.Errorf("after factory reset the NV indexes are:\n%s", nv)
	}
	if _, err := os.Stat(filepath.Join(stateDir, enroll.FileCert)); !os.IsNotExist(err) {
		t.Errorf("%s left after factory reset: %v", enroll.FileCert, err)
	}
}

func hasAlg(list [][]byte, alg []byte) bool {
	for _, a := range list {
		if client.SameAlgorithm(a, alg) {
			return true
		}
	}
	return false
}

// C102 with a software identity: a certificate for another key, or of
// another algorithm than the selected one, is rejected (config-error, no
// LDevID kept); a correct one is installed and cleared by clear-ldevid.
func TestLDevIDCertificateChecks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alg      []byte
		wrongKey bool
		wantErr  string
	}{
		{"wrong key", client.AlgECCP256, true, "does not certify the key of the CSR (C102)"},
		{"wrong algorithm", client.AlgECCP384, true, "the server selected ECC P-384 (C102)"},
		{"good", client.AlgECCP384, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDevice(t, "CSR-0001")
			ca, err := sztptest.NewCA("ldevid ca", nil)
			if err != nil {
				t.Fatal(err)
			}
			flow := &sztptest.CSRFlow{CA: ca, Algorithm: tc.alg, WrongKey: tc.wrongKey}
			d.server.SetResponse("CSR-0001", &sztptest.Response{CSR: flow})
			stateDir := filepath.Join(d.dir, "state")
			args := append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--server-trust-anchor", d.files["ca.pem"],
				"--state-dir", stateDir, "--config-hook", "file:" + filepath.Join(d.dir, "cfg"),
				"--config", "", "--cmdline-file", "", "--os-release", ""}, d.identity()...)
			out, errOut, code := runSztp(t, args...)
			if tc.wantErr != "" {
				if code == 0 || !strings.Contains(errOut, tc.wantErr) {
					t.Fatalf("exit %d, want failure with %q\n%s\n%s", code, tc.wantErr, out, errOut)
				}
				if got := d.server.ProgressTypes(); len(got) == 0 || got[len(got)-1] != conveyed.ConfigError {
					t.Errorf("reports %v, want config-error last", got)
				}
				if _, err := os.Stat(filepath.Join(stateDir, enroll.FileCert)); !os.IsNotExist(err) {
					t.Errorf("a rejected certificate was kept: %v", err)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			l, err := enroll.Load(stateDir, nil, nil)
			if err != nil || !l.Certificate.Equal(flow.Issued()[0]) {
				t.Fatalf("LDevID after enrolment: %v", err)
			}
			if out, err := sztp(t, append([]string{"tpm", "clear-ldevid", "--state-dir", stateDir}, d.identity()...)...); err != nil {
				t.Fatalf("clear-ldevid: %v\n%s", err, out)
			}
			for _, f := range []string{enroll.FileCert, enroll.FileKey, enroll.FileRecord, enroll.FileCSR} {
				if _, err := os.Stat(filepath.Join(stateDir, f)); !os.IsNotExist(err) {
					t.Errorf("%s left after clear-ldevid", f)
				}
			}
		})
	}
}

// C98: a server contacted provisionally (no trust anchor) gets no
// csr-support; a trusted one does.
func TestCSRSupportOnlyToTrustedServers(t *testing.T) {
	d := newTestDevice(t, "CSR-0002")
	d.server.SetResponse("CSR-0002", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("c\n")}}})
	for _, trusted := range []bool{false, true} {
		args := append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--state-dir", filepath.Join(d.dir, "state-"+map[bool]string{false: "u", true: "t"}[trusted]),
			"--config-hook", "file:" + filepath.Join(d.dir, "cfg"), "--config", "", "--cmdline-file", "", "--os-release", ""}, d.identity()...)
		if trusted {
			args = append(args, "--server-trust-anchor", d.files["ca.pem"])
		}
		runSztp(t, args...)
		reqs := d.server.Requests()
		last := reqs[len(reqs)-1]
		for i := len(reqs) - 1; i >= 0; i-- {
			if reqs[i].GBD != nil {
				last = reqs[i]
				break
			}
		}
		if got := last.GBD != nil && last.GBD.CSRSupport != nil; got != trusted {
			t.Errorf("trusted=%v: csr-support sent = %v", trusted, got)
		}
	}
}

// C100: a csr-request whose key algorithm was not offered (RSA, which a
// software identity does not offer) is refused without a CSR, and a server
// that keeps asking is cut off after a few rounds.
func TestCSRRequestRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alg      []byte
		requests int
		want     string
	}{
		{"algorithm not offered", client.AlgRSA, 1, "which was not offered"},
		{"endless csr-requests", client.AlgECCP256, 10, "asked for a CSR 5 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDevice(t, "CSR-0003")
			ca, _ := sztptest.NewCA("ca", nil)
			flow := &sztptest.CSRFlow{CA: ca, Algorithm: tc.alg, Requests: tc.requests}
			d.server.SetResponse("CSR-0003", &sztptest.Response{CSR: flow})
			args := append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--server-trust-anchor", d.files["ca.pem"],
				"--state-dir", filepath.Join(d.dir, "state"), "--config", "", "--cmdline-file", "", "--os-release", ""}, d.identity()...)
			out, errOut, code := runSztp(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want failure with %q\n%s\n%s", code, tc.want, out, errOut)
			}
			if tc.requests == 1 && len(flow.CSRs()) != 0 {
				t.Errorf("a CSR was sent for an algorithm that was not offered")
			}
		})
	}
}

func publicKeysEqual(a, b any) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
