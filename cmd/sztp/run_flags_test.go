package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// Flags whose value would silently mean something else (a zero retry
// delay hammering the servers, a zero timeout quietly becoming the
// default, an empty password quietly disabling HTTP auth) are usage errors,
// named in the message, before anything else happens.
func TestRunRejectsMeaninglessFlagValues(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-password")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"run", "--once", "--bootstrap-url", "https://127.0.0.1:1", "--config", "", "--cmdline-file", "",
		"--state-dir", filepath.Join(dir, "state")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--retry-initial", "0"}, "--retry-initial"},
		{[]string{"--retry-initial", "-1s"}, "--retry-initial"},
		{[]string{"--retry-initial", "10s", "--retry-max", "5s"}, "--retry-max"},
		{[]string{"--connect-timeout", "0"}, "--connect-timeout"},
		{[]string{"--response-timeout", "0"}, "--response-timeout"},
		{[]string{"--request-timeout", "-5s"}, "--request-timeout"},
		{[]string{"--script-timeout", "0"}, "--script-timeout"},
		{[]string{"--dhcp-timeout", "0"}, "--dhcp-timeout"},
		{[]string{"--max-response-size", "0"}, "--max-response-size"},
		{[]string{"--entropy-timeout", "-1s"}, "--entropy-timeout"},
		{[]string{"--password-file", empty}, "--password-file"},
		{[]string{"--os-name", "Vendor\x1bOS"}, "--os-name"},
		{[]string{"--os-version", "1.0\n"}, "--os-version"},
		{[]string{"--hw-model", "m\xff"}, "--hw-model"},
	} {
		_, errOut, code := runSztp(t, append(append([]string(nil), base...), tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", tc.args, code, errOut, tc.want)
		}
	}
}

// Without a state directory the scripts are written to a fresh private
// temporary directory (not a guessable /tmp path), removed after the run.
func TestRunWithoutStateDirLeavesNothingInTmp(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	d := newTestDevice(t, "NS-1")
	s := d.server
	marker := filepath.Join(dir, "pre-ran")
	s.SetResponse("NS-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		PreConfigurationScript: []byte("#!/bin/sh\necho \"$0\" > '" + marker + "'\n"),
	}}})
	_, errOut, code := runSztp(t, append([]string{"run", "--once", "--bootstrap-url", s.URL, "--server-trust-anchor", d.files["ca.pem"],
		"--state-dir", "", "--config", "", "--cmdline-file", ""}, d.identity()...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ran, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("pre-configuration script did not run: %v", err)
	}
	if !strings.HasPrefix(string(ran), tmp+string(filepath.Separator)) {
		t.Errorf("script ran from %q, want a directory under TMPDIR", ran)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

// C66: --ssh-host-key (an OpenSSH .pub file, read after the scripts ran) and
// --trust-anchor-cert (a certs-only CMS) go with bootstrap-complete.
func TestRunSendsHostKeysWithBootstrapComplete(t *testing.T) {
	d := newTestDevice(t, "HK-1")
	dir, p, s := d.dir, d.pki, d.server
	pub, err := os.ReadFile(filepath.Join("..", "..", "client", "testdata", "ssh_host_ecdsa_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	// The post-configuration script makes the host key, as first-boot
	// scripts do.
	keyFile := filepath.Join(dir, "ssh_host_ecdsa_key.pub")
	s.SetResponse("HK-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		PostConfigurationScript: []byte("#!/bin/sh\nprintf '%s' '" + string(pub) + "' > '" + keyFile + "'\n"),
	}}})
	ta, err := sztptest.CertsOnly(p.DeviceRoot.Cert, p.DeviceCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	taFile := filepath.Join(dir, "device-ta.cms")
	if err := os.WriteFile(taFile, ta, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runSztp(t, append([]string{"run", "--once", "--bootstrap-url", s.URL, "--server-trust-anchor", d.files["ca.pem"],
		"--state-dir", filepath.Join(dir, "state"), "--ssh-host-key", keyFile, "--trust-anchor-cert", taFile,
		"--config", "", "--cmdline-file", ""}, d.identity()...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got *conveyed.ReportProgressInput
	for _, r := range s.Requests() {
		if r.Report != nil && r.Report.ProgressType == conveyed.BootstrapComplete {
			got = r.Report
		}
	}
	if got == nil {
		t.Fatal("no bootstrap-complete")
	}
	if len(got.SSHHostKeys) != 1 || got.SSHHostKeys[0].Algorithm != "ecdsa-sha2-nistp256" {
		t.Errorf("ssh-host-keys %+v (message %q)", got.SSHHostKeys, got.Message)
	}
	if len(got.TrustAnchorCerts) != 1 || string(got.TrustAnchorCerts[0]) != string(ta) {
		t.Errorf("trust-anchor-certs: %d entries (message %q)", len(got.TrustAnchorCerts), got.Message)
	}
}

// Identity errors say what to do about them.
func TestRunIdentityErrorsAreActionable(t *testing.T) {
	d := newTestDevice(t, "ID-1")
	dir, files := d.dir, d.files
	ed := filepath.Join(dir, "ed25519.key")
	// An Ed25519 key cannot decrypt anything.
	if err := os.WriteFile(ed, []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBiAIBIPhPcsxnMHo1q4tiDXeTtlfePBrSd+OVIg+8Pf\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"run", "--once", "--bootstrap-url", "https://127.0.0.1:1", "--config", "", "--cmdline-file", "",
		"--state-dir", filepath.Join(dir, "state"), "--entropy-timeout", "0s"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no TPM there", []string{"--tpm", "unix://" + filepath.Join(dir, "no-swtpm")}, exitFailure,
			[]string{"no-swtpm", "--idevid-cert and --idevid-key"}},
		{"TPM and key file", []string{"--tpm", "unix://" + filepath.Join(dir, "no-swtpm"), "--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"]}, exitUsage,
			[]string{"--idevid-key", "--tpm"}},
		{"decryption key that cannot decrypt", []string{"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"], "--decryption-key", ed}, exitUsage,
			[]string{"--decryption-key", "ed25519"}},
	} {
		_, errOut, code := runSztp(t, append(append([]string(nil), base...), tc.args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d (%s)", tc.name, code, tc.code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(strings.ToLower(errOut), strings.ToLower(w)) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, errOut, w)
			}
		}
	}
}
