//go:build !sztp_demo

package main

import (
	"strings"
	"testing"
)

// The agent build leaves the demo's servers out; `sztp demo` says how to get
// them instead of failing obscurely, and --help still describes the demo.
func TestDemoNotInAgentBuild(t *testing.T) {
	_, stderr, code := runSztp(t, "demo")
	if code != exitUsage {
		t.Fatalf("sztp demo in the agent build exited %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr, "-tags sztp_demo") || !strings.Contains(stderr, "make demo") {
		t.Errorf("sztp demo does not say how to build the demo: %q", stderr)
	}
	out, _, code := runSztp(t, "demo", "--help")
	if code != exitOK || !strings.Contains(out, "embedded bootstrap server") {
		t.Errorf("sztp demo --help (exit %d) does not describe the demo:\n%s", code, out)
	}
}
