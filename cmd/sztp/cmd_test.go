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
