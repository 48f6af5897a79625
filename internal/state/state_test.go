package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// C1: enabled by default; disable and enable persist; enable re-arms
// run-once.
func TestEnabledFlagAndRunOnce(t *testing.T) {
	s := open(t)
	if on, err := s.Enabled(); err != nil || !on {
		t.Fatalf("factory state enabled=%v err=%v, want enabled", on, err)
	}
	if err := s.MarkCompleted(Completion{Time: time.Unix(1, 0).UTC(), Server: "a:443"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	s2 := &Store{Dir: s.Dir} // a new process sees the same state
	if on, _ := s2.Enabled(); on {
		t.Error("disabled flag did not persist")
	}
	if c, _ := s2.Completed(); c == nil || c.Server != "a:443" {
		t.Errorf("completion %+v lost by disable", c)
	}
	if err := s2.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if c, _ := s2.Completed(); c != nil {
		t.Errorf("enable did not re-arm run-once: %+v", c)
	}
}

func TestEnabledFileContents(t *testing.T) {
	for _, tc := range []struct {
		content string
		want    bool
		err     bool
	}{{"enabled\n", true, false}, {"disabled\n", false, false}, {"true", true, false}, {"0\n", false, false}, {"maybe\n", false, true}} {
		s := open(t)
		os.WriteFile(filepath.Join(s.Dir, fileEnabled), []byte(tc.content), 0o600)
		on, err := s.Enabled()
		if (err != nil) != tc.err || (err == nil && on != tc.want) {
			t.Errorf("%q: enabled=%v err=%v", tc.content, on, err)
		}
	}
}

func TestJournalKeepsOrderAndBound(t *testing.T) {
	defer func(n int) { MaxJournal = n }(MaxJournal)
	MaxJournal = 20
	s := open(t)
	for i := 0; i < MaxJournal+5; i++ {
		if err := s.Append(Entry{ProgressType: "informational", Message: string(rune('a' + i%26)), Sent: true}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := s.Journal()
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != MaxJournal {
		t.Fatalf("%d entries, want %d", len(j), MaxJournal)
	}
	if j[0].Message != string(rune('a'+5%26)) {
		t.Errorf("oldest entry %q, want the sixth written", j[0].Message)
	}
}

func TestCorruptJournalDoesNotBlock(t *testing.T) {
	s := open(t)
	os.WriteFile(filepath.Join(s.Dir, fileJournal), []byte("{not json"), 0o600)
	if _, err := s.Journal(); err == nil {
		t.Error("corrupt journal read without error")
	}
	if err := s.Append(Entry{ProgressType: "bootstrap-initiated"}); err != nil {
		t.Fatalf("append after corruption: %v", err)
	}
	if j, err := s.Journal(); err != nil || len(j) != 1 {
		t.Errorf("journal %v err %v", j, err)
	}
}

func TestPendingRebootRoundTrip(t *testing.T) {
	s := open(t)
	if p, err := s.PendingReboot(); p != nil || err != nil {
		t.Fatalf("fresh store has pending reboot %+v (%v)", p, err)
	}
	want := PendingReboot{Time: time.Unix(5, 0).UTC(), Server: "s:1", OSName: "X", OSVersion: "2", SHA256: "ab"}
	if err := s.SetPendingReboot(want); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PendingReboot(); p == nil || *p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
	if err := s.ClearPendingReboot(); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PendingReboot(); p != nil {
		t.Errorf("pending reboot survived clear: %+v", p)
	}
}

func TestNoTempFilesLeft(t *testing.T) {
	s := open(t)
	s.SetEnabled(false)
	s.Append(Entry{ProgressType: "x"})
	s.SetLastRun(Run{Result: "failure"})
	ents, _ := os.ReadDir(s.Dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestClearCompleted(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ClearCompleted(); err != nil {
		t.Fatalf("clearing an absent record: %v", err)
	}
	if err := s.MarkCompleted(Completion{Server: "a:443"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearCompleted(); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Completed(); c != nil || err != nil {
		t.Errorf("record %+v (%v) after ClearCompleted", c, err)
	}
	if on, _ := s.Enabled(); !on {
		t.Error("ClearCompleted changed the enabled flag")
	}
}

// A damaged run-once record must not leave the operator guessing: the
// error names the file and the command that resets it.
func TestDamagedCompletionRecordSaysHowToReset(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "completed.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Completed()
	if err == nil || !strings.Contains(err.Error(), "completed.json") || !strings.Contains(err.Error(), "sztp enable") {
		t.Errorf("error %v, want one naming the file and sztp enable", err)
	}
	if err := s.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Completed(); c != nil || err != nil {
		t.Errorf("after enable: %+v, %v", c, err)
	}
}
