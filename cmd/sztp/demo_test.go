//go:build !sztp_nodemo

package main

import (
	"strings"
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
