package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/state"
)

var updateStatusGolden = flag.Bool("update-status-golden", false, "rewrite testdata/status*.golden")

// The layouts of `sztp status` and `sztp status --json` (golden files).
func TestStatusGolden(t *testing.T) {
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	st.MarkCompleted(state.Completion{Time: t0.Add(3 * time.Second), Server: "sztp.example:443", Source: "bootstrap-url"})
	st.SetLastRun(state.Run{Started: t0, Finished: t0.Add(3 * time.Second), Result: "success", Source: "bootstrap-url", Server: "sztp.example:443"})
	st.Append(state.Entry{Time: t0.Add(time.Second), Server: "sztp.example:443", ProgressType: "bootstrap-initiated", Sent: true})
	st.Append(state.Entry{Time: t0.Add(2 * time.Second), Server: "sztp.example:443", ProgressType: "pre-script-warning", Message: "disk nearly full", Sent: true})
	st.Append(state.Entry{Time: t0.Add(3 * time.Second), Server: "sztp.example:443", ProgressType: "bootstrap-complete", Sent: false, Error: "report-progress: HTTP 500"})
	r, err := readStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	r.StateDir = "/var/lib/sztp"
	var text, js bytes.Buffer
	printStatus(&text, r)
	if err := printJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"status.golden": text.Bytes(), "status-json.golden": js.Bytes()} {
		golden := filepath.Join("testdata", name)
		if *updateStatusGolden {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update-status-golden)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// A failed run's error joins one line per source and server, and script
// output in a journal message spans lines: continuation lines are indented
// under their entry, so the layout stays readable.
func TestStatusMultiLineGolden(t *testing.T) {
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	st.SetLastRun(state.Run{Started: t0, Finished: t0.Add(3 * time.Second), Result: "failure",
		Error: "dhcp: no dhcp lease\nbootstrap-url: https://sztp.example: pre-script-error: pre-configuration-script failed: line one\nline two"})
	st.Append(state.Entry{Time: t0.Add(2 * time.Second), Server: "sztp.example:443", ProgressType: "pre-script-error", Message: "line one\nline two", Sent: true})
	r, err := readStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	r.StateDir = "/var/lib/sztp"
	var text bytes.Buffer
	printStatus(&text, r)
	golden := filepath.Join("testdata", "status-multiline.golden")
	if *updateStatusGolden {
		if err := os.WriteFile(golden, text.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-status-golden)", err)
	}
	if !bytes.Equal(text.Bytes(), want) {
		t.Errorf("got:\n%s\nwant:\n%s", text.Bytes(), want)
	}
}
