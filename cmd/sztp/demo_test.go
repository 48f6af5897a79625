//go:build !sztp_nodemo

package main

import (
	"strings"
	"testing"
)

// Issue 2 acceptance: `sztp demo` exits 0 and its last progress report is
// bootstrap-complete.
func TestDemo(t *testing.T) {
	out, errOut, code := runSztp(t, "demo", "--log-level", "warn")
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

// `sztp demo --encoding xml` speaks RESTCONF XML end to end.
func TestDemoXML(t *testing.T) {
	out, errOut, code := runSztp(t, "demo", "--encoding", "xml", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := lastLineWith(out, "progress: "); got != "progress: bootstrap-complete" {
		t.Errorf("last progress line %q", got)
	}
}
