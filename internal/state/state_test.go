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

// Issue 10 item 1: a state directory (or its images directory) that others
// may write is refused with a clear error: whoever can write it can plant
// a staged image or its checkpoint. Fails without the privdir checks.
func TestHardening10_1_StateDirMustBePrivate(t *testing.T) {
	tests := []struct {
		name   string
		state  os.FileMode
		images os.FileMode // 0: no images directory
		want   string      // "" when Open and ImagesDir succeed
	}{
		{"private", 0o700, 0o700, ""},
		{"readable is tightened", 0o755, 0o755, ""},
		{"group-writable state", 0o770, 0, "writable by group or others"},
		{"world-writable state", 0o777, 0, "writable by group or others"},
		{"group-writable images", 0o700, 0o770, "writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.images != 0 {
				if err := os.Mkdir(filepath.Join(dir, "images"), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(dir, "images"), tt.images); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, tt.state); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if err == nil {
				_, err = s.ImagesDir()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if err != nil {
				return
			}
			for _, d := range []string{dir, filepath.Join(dir, "images")} {
				if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
					t.Errorf("%s mode %v, want 0700", d, fi.Mode().Perm())
				}
			}
		})
	}
}

// Issue 10 item 1: an images directory that is a symbolic link (planted by
// whoever could write the state directory before it was ours) is refused.
func TestHardening10_1_ImagesDirSymlinkRefused(t *testing.T) {
	s := open(t)
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(s.Dir, "images")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImagesDir(); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("ImagesDir = %v, want a refusal of the symbolic link", err)
	}
}
