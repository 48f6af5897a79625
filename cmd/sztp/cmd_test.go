package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// runSztp runs the sztp command line in-process and returns stdout, stderr
// and the exit code.
func runSztp(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitOK
	if err != nil {
		code = exitCode(err)
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func lastLineWith(s, prefix string) string {
	var last string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			last = l
		}
	}
	return last
}

// TestMain lets a test run the sztp binary as a child process (the test
// binary itself, with SZTP_TEST_MAIN_ARGS set), for behaviour that only a
// real process shows: signals, exit status, files left behind.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SZTP_TEST_MAIN_ARGS"); ok {
		os.Exit(run(strings.Fields(args)))
	}
	os.Exit(m.Run())
}

// sztpProcess prepares the sztp command line as a child process with
// TMPDIR set to tmp.
func sztpProcess(t *testing.T, tmp string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SZTP_TEST_MAIN_ARGS="+strings.Join(args, " "), "TMPDIR="+tmp)
	return cmd
}

// The help of the commands an operator runs says what they do, their exit
// status and examples.
func TestHelpAnswersTheOperatorsQuestions(t *testing.T) {
	for _, c := range []string{"run", "get", "status", "demo", "dhcp", "dns"} {
		out, _, code := runSztp(t, c, "--help")
		if code != 0 {
			t.Errorf("%s --help: exit %d", c, code)
		}
		for _, want := range []string{"Exit status", "Examples:", "sztp " + c} {
			if !strings.Contains(out, want) {
				t.Errorf("sztp %s --help lacks %q", c, want)
			}
		}
	}
}

// An unknown --log-level is a usage error, not silently "info".
func TestLogLevelIsValidated(t *testing.T) {
	_, errOut, code := runSztp(t, "status", "--log-level", "verbose", "--state-dir", t.TempDir(), "--config", "", "--cmdline-file", "")
	if code != exitUsage || !strings.Contains(errOut, "verbose") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the level", code, errOut)
	}
	if _, errOut, code := runSztp(t, "status", "--log-level", "DEBUG", "--state-dir", t.TempDir(), "--config", "", "--cmdline-file", ""); code != 0 {
		t.Errorf("--log-level DEBUG: exit %d: %s", code, errOut)
	}
}

// Every mistake in the command line exits 2 and every request for help
// exits 0, on every level of the command tree (the contract internal/cli kept
// before cobra replaced it in issue 14; cobra alone prints help and exits 0
// for `sztp tpm bogus` and `sztp help bogus`, which these cases catch).
func TestCommandLineExitCodes(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		wantOut  string // substring of stdout
		wantErrs string // substring of stderr (the returned error)
	}{
		{args: nil, code: exitOK, wantOut: "Available Commands:"},
		{args: []string{"--help"}, code: exitOK, wantOut: "Exit codes:"},
		{args: []string{"tpm"}, code: exitOK, wantOut: "provision"},
		{args: []string{"run", "-h"}, code: exitOK, wantOut: "Global Flags:\n      --log-level"},
		{args: []string{"help", "run"}, code: exitOK, wantOut: "sztp run [flags]"},
		{args: []string{"help", "tpm", "csr"}, code: exitOK, wantOut: "sztp tpm csr"},
		{args: []string{"version"}, code: exitOK, wantOut: "sztp "},
		{args: []string{"bogus"}, code: exitUsage, wantErrs: `unknown command "bogus" for "sztp"`},
		{args: []string{"runn"}, code: exitUsage, wantErrs: "Did you mean this?\n\trun"}, // ("rn" also suggests dns)
		{args: []string{"tpm", "bogus"}, code: exitUsage, wantErrs: `unknown command "bogus" for "sztp tpm"`},
		{args: []string{"tpm", "inf"}, code: exitUsage, wantErrs: "info"},
		{args: []string{"help", "bogus"}, code: exitUsage, wantErrs: "unknown help topic"},
		{args: []string{"version", "extra"}, code: exitUsage, wantErrs: "extra"},
		{args: []string{"version", "--nope"}, code: exitUsage, wantErrs: "--nope"},
		{args: []string{"status", "--state-dir"}, code: exitUsage, wantErrs: "state-dir"},
		{args: []string{"completion", "bogus"}, code: exitUsage, wantErrs: "bogus"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runSztp(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(out, tc.wantOut) || !strings.Contains(errOut, tc.wantErrs) {
				t.Errorf("stdout %q lacks %q or stderr %q lacks %q", out, tc.wantOut, errOut, tc.wantErrs)
			}
		})
	}
}
