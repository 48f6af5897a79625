//go:build sztp_demo

package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 2 and 3 acceptance: `sztp demo` exits 0, the signed onboarding
// information is verified before any step runs, and its last progress
// report is bootstrap-complete.
func TestDemo(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {"demo", "--encoding", "xml"}, {"demo", "--encrypt"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := runSztp(t, args...)
			if code != 0 {
				t.Fatalf("sztp %v exited %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
			}
			if got := lastLineWith(out, "progress: "); got != "progress: bootstrap-complete" {
				t.Errorf("last progress line %q, want bootstrap-complete\n%s", got, out)
			}
			verified := strings.Index(out, "agent: signed data validated")
			first := strings.Index(out, "progress: bootstrap-initiated")
			if verified < 0 || first < 0 || verified > first {
				t.Errorf("signed data not shown verified before the first step\n%s", out)
			}
			for _, want := range []string{"following redirect information", "mode=verify", "progress: pre-script-complete",
				"progress: config-complete", "progress: post-script-complete", "summary: success", "signed data: true"} {
				if !strings.Contains(out, want) {
					t.Errorf("demo output lacks %q\n%s", want, out)
				}
			}
			if strings.Contains(strings.Join(args, " "), "encrypt") && !strings.Contains(out, "encrypted=true") {
				t.Errorf("--encrypt: artifacts not shown decrypted\n%s", out)
			}
		})
	}
}

// Issue 12: sztp demo --csr shows the RFC 9646 flow: CSR, LDevID
// installed from the configuration, a second bootstrap authenticated by it.
func TestDemoCSR(t *testing.T) {
	out, errOut, code := runSztp(t, "demo", "--csr")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"sending a CSR (RFC 9646)", "LDevID certificate installed", "LDevID enrolled: subject SERIALNUMBER=SZTP-DEMO-0001",
		"TLS client identity: the LDevID", "authenticated by its LDevID", "summary: LDevID enrolled and used"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo --csr output lacks %q\n%s", want, out)
		}
	}
}

// A vendor's exec hooks can be tried against the embedded server: the
// image and configuration steps go through them, with the documented
// environment and the configuration on stdin.
func TestDemoWithExecHooks(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "calls")
	hook := filepath.Join(dir, "hook")
	script := "#!/bin/sh\n{ echo \"$SZTP_STEP $SZTP_OS_NAME $SZTP_OS_VERSION $SZTP_CONFIG_HANDLING\"; [ -n \"$SZTP_IMAGE\" ] && wc -c < \"$SZTP_IMAGE\"; [ \"$SZTP_STEP\" = configuration ] && cat; } >> " + record + "\nexit 0\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runSztp(t, "demo", "--image-hook", "exec:"+hook, "--config-hook", "exec:"+hook)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := lastLineWith(out, "progress: "); got != "progress: bootstrap-complete" {
		t.Errorf("last progress line %q", got)
	}
	calls, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the hook never ran: %v", err)
	}
	for _, want := range []string{"boot-image DemoOS 2.0", "configuration", "replace", "hostname demo-device"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("hook calls lack %q:\n%s", want, calls)
		}
	}
	if !strings.Contains(out, "installed by exec:"+hook) {
		t.Errorf("summary does not name the hook\n%s", out)
	}
}

// `sztp demo | head -1` closes the demo's output early: the demo must not
// be killed by SIGPIPE before it removes its temporary directory.
func TestDemoCleansUpWhenItsOutputCloses(t *testing.T) {
	tmp := t.TempDir()
	cmd := sztpProcess(t, tmp, "demo")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the demo's first line: %v", err)
	}
	if !strings.Contains(line, demoSerial) {
		t.Errorf("first line %q", line)
	}
	stdout.Close()
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("demo killed by %v", ws.Signal())
	}
	t.Logf("demo ended: %v", werr)
	left, err := filepath.Glob(filepath.Join(tmp, "sztp-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("demo left %v behind", left)
	}
}

// SIGTERM and SIGHUP end the demo early, and it still cleans up.
func TestDemoCleansUpOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := sztpProcess(t, tmp, "demo")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The first line is printed once the temporary directory exists.
			r := bufio.NewReader(stdout)
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatalf("reading the demo's first line: %v", err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r)
			cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Errorf("demo killed by %v", ws.Signal())
			}
			left, _ := filepath.Glob(filepath.Join(tmp, "sztp-*"))
			if len(left) != 0 {
				t.Errorf("demo left %v behind", left)
			}
		})
	}
}
