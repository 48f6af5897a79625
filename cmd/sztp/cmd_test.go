package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// execute runs the sztp command line in-process and returns stdout, stderr
// and the exit code.
func execute(t *testing.T, args ...string) (string, string, int) {
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

// Issue 2 acceptance: `sztp demo` exits 0 and its last progress report is
// bootstrap-complete.
func TestDemo(t *testing.T) {
	out, errOut, code := execute(t, "demo", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("sztp demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := lastLineWith(out, "progress: "); got != "progress: bootstrap-complete" {
		t.Errorf("last progress line %q, want bootstrap-complete\n%s", got, out)
	}
	for _, want := range []string{"progress: bootstrap-initiated", "progress: pre-script-complete", "progress: config-complete", "progress: post-script-complete", "summary: success"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q\n%s", want, out)
		}
	}
}

// exitCode maps an error to the exit code as main's run does.
func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// `sztp demo --encoding xml` speaks RESTCONF XML end to end.
func TestDemoXML(t *testing.T) {
	out, errOut, code := execute(t, "demo", "--encoding", "xml", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := lastLineWith(out, "progress: "); got != "progress: bootstrap-complete" {
		t.Errorf("last progress line %q", got)
	}
}
