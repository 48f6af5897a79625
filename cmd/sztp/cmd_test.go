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
