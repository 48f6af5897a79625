package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/state"
)

// Issue 10 item 5: an initramfs hook and a service unit both start
// `sztp run` on one state directory. Two real processes: one bootstraps,
// the other waits for the state directory lock, then finds the run-once
// record and does nothing (before the fix both committed the configuration
// and both sent bootstrap-complete).
func TestHardening10_5_TwoAgentsOneStateDirBootstrapOnce(t *testing.T) {
	d := newTestDevice(t, "LOCK-1")
	dir := d.dir
	commits := filepath.Join(dir, "commits")
	hook := filepath.Join(dir, "config-hook")
	// The hook is slow, so that both agents are inside their runs at once.
	script := "#!/bin/sh\nsleep 2\necho \"$SZTP_STEP\" >> " + commits + "\ncat > /dev/null\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d.server.SetResponse("LOCK-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Merge, Configuration: []byte("{}"),
	}}})
	st := filepath.Join(dir, "state")
	args := append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--server-trust-anchor", d.files["ca.pem"],
		"--state-dir", st, "--config-hook", "exec:" + hook, "--config=", "--cmdline-file=", "--entropy-timeout", "0s"}, d.identity()...)
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]string, 2)
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := sztpProcess(t, t.TempDir(), args...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			outs[i], errs[i], codes[i] = out.String(), errb.String(), cmd.ProcessState.ExitCode()
			if err != nil && codes[i] == 0 {
				codes[i] = -1
			}
		}()
	}
	wg.Wait()
	got := []string{strings.TrimSpace(outs[0]), strings.TrimSpace(outs[1])}
	if !(got[0] == "success" && got[1] == "already-bootstrapped" || got[1] == "success" && got[0] == "already-bootstrapped") || codes[0] != 0 || codes[1] != 0 {
		t.Errorf("results %q, exit %v; want one success and one already-bootstrapped\nstderr 1: %s\nstderr 2: %s", got, codes, errs[0], errs[1])
	}
	if data, _ := os.ReadFile(commits); strings.Count(string(data), "configuration\n") != 1 {
		t.Errorf("the configuration hook ran %q, want once", data)
	}
	n := 0
	for _, pt := range d.server.ProgressTypes() {
		if pt == conveyed.BootstrapComplete {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d bootstrap-complete reports, want 1: %v", n, d.server.ProgressTypes())
	}
	if !strings.Contains(errs[0]+errs[1], "waiting for another sztp run") {
		t.Errorf("the waiting run did not say so:\n%s\n%s", errs[0], errs[1])
	}
}

// Issue 10 item 5: with --lock-timeout the second run gives up, exit 1,
// naming the process that holds the state directory.
func TestHardening10_5_LockTimeoutNamesHolder(t *testing.T) {
	dir := t.TempDir()
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	cmd := sztpProcess(t, dir, "run", "--once", "--bootstrap-url", "https://127.0.0.1:1", "--state-dir", st.Dir,
		"--lock-timeout", "300ms", "--config=", "--cmdline-file=")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitFailure, errb.String())
	}
	if !strings.Contains(errb.String(), "held by pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("stderr does not name the holder (pid %d): %s", os.Getpid(), errb.String())
	}
}

// sztpChild runs sztp as a child process and returns stdout, stderr (with
// the log) and the exit status.
func sztpChild(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := sztpProcess(t, t.TempDir(), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// Issue 10 item 6, C4: trust inputs on the kernel command line are refused
// with a warning that says why. Here a boot menu names the attacker's
// server with a server trust anchor that authenticates it, another serial
// number and an untrusted clock: the device must not act on the server's
// unsigned onboarding information (before the fix it did, as a trusted
// server's).
func TestHardening10_6_KernelCmdlineTrustInputsRefused(t *testing.T) {
	d := newTestDevice(t, "KC-1")
	d.server.SetResponse("KC-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("attacker\n"),
	}}})
	cmdline := filepath.Join(d.dir, "cmdline")
	if err := os.WriteFile(cmdline, []byte("quiet sztp.url="+d.server.URL+" sztp.server-trust-anchor="+d.files["ca.pem"]+
		" sztp.serial-number=OTHER sztp.clock=untrusted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(d.dir, "CFG")
	args := append([]string{"run", "--once", "--state-dir=", "--config-hook", "file:" + cfg, "--config=",
		"--cmdline-file", cmdline, "--entropy-timeout", "0s", "--os-release="}, d.identity()...)
	_, stderr, code := sztpChild(t, args...)
	if code != exitFailure {
		t.Errorf("exit %d, want %d (untrusted server, unsigned data)", code, exitFailure)
	}
	if data, err := os.ReadFile(cfg); err == nil {
		t.Errorf("configuration from the kernel-named server committed: %q", data)
	}
	for _, p := range []string{"sztp.server-trust-anchor", "sztp.serial-number", "sztp.clock"} {
		if !strings.Contains(stderr, "refusing a trust setting on the kernel command line") || !strings.Contains(stderr, "param="+p) {
			t.Errorf("no refusal warning for %s:\n%s", p, stderr)
		}
	}
	if strings.Contains(stderr, "clock treated as untrusted") {
		t.Errorf("sztp.clock=untrusted was applied:\n%s", stderr)
	}
}

// Issue 10 item 6: --serial-number that contradicts the IDevID
// certificate's serialNumber is a usage error naming both.
func TestHardening10_6_SerialNumberContradictsCertificate(t *testing.T) {
	d := newTestDevice(t, "SN-REAL")
	_, stderr, code := runSztp(t, append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--state-dir", "",
		"--serial-number", "SN-OTHER", "--config", "", "--cmdline-file", "", "--entropy-timeout", "0s"}, d.identity()...)...)
	if code != exitUsage || !strings.Contains(stderr, `"SN-OTHER"`) || !strings.Contains(stderr, `"SN-REAL"`) {
		t.Errorf("exit %d, want %d naming both serial numbers: %s", code, exitUsage, stderr)
	}
}

// Issue 10 item 9, C26: `sztp run --assertion` sets the voucher assertion
// policy, as `sztp verify --assertion` does: a voucher whose assertion is
// not accepted is refused.
func TestHardening10_9_RunAssertionPolicy(t *testing.T) {
	const serial = "ASSERT-1"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	d.server.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("signed\n"),
	}}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	for _, tc := range []struct {
		assertion string
		code      int
	}{
		{"proximity", exitFailure},
		{"verified", exitOK},
	} {
		cfg := filepath.Join(d.dir, "CFG-"+tc.assertion)
		// No server trust anchor: the server is provisional, only the
		// signed data (and its voucher) can be trusted.
		_, stderr, code := runSztp(t, append([]string{"run", "--once", "--bootstrap-url", d.server.URL, "--state-dir", "",
			"--voucher-trust-anchor", voucherCA, "--assertion", tc.assertion, "--config-hook", "file:" + cfg,
			"--config", "", "--cmdline-file", "", "--entropy-timeout", "0s", "--os-release", ""}, d.identity()...)...)
		if code != tc.code {
			t.Errorf("--assertion %s: exit %d, want %d: %s", tc.assertion, code, tc.code, stderr)
		}
		if _, err := os.Stat(cfg); (err == nil) != (tc.code == exitOK) {
			t.Errorf("--assertion %s: configuration committed: %v", tc.assertion, err == nil)
		}
		if tc.code != exitOK && !strings.Contains(stderr, "assertion") {
			t.Errorf("--assertion %s: the error does not name the assertion: %s", tc.assertion, stderr)
		}
	}
}
