package state

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Issue 10 item 12: server text stored in the state directory (journal,
// last run, completion, pending reboot) has its control characters escaped
// and URI credentials redacted; `sztp status` replays it.
func TestHardening10_12_StoredTextIsClean(t *testing.T) {
	s := open(t)
	hostile := "\x1b[2J https://u:pw@h/x"
	if err := s.Append(Entry{Server: hostile, Message: hostile, Error: hostile}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastRun(Run{Server: hostile, Source: hostile, Error: hostile}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCompleted(Completion{Server: hostile, Source: hostile}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPendingReboot(PendingReboot{Server: hostile, OSName: hostile, OSVersion: hostile}); err != nil {
		t.Fatal(err)
	}
	j, _ := s.Journal()
	r, _ := s.LastRun()
	c, _ := s.Completed()
	p, _ := s.PendingReboot()
	for _, v := range []string{j[0].Server, j[0].Message, j[0].Error, r.Server, r.Source, r.Error, c.Server, c.Source, p.Server, p.OSName, p.OSVersion} {
		if v != `\x1b[2J https://u:xxxxx@h/x` {
			t.Errorf("stored %q", v)
		}
	}
}

// Issue 10 item 5: TryLock fails while the lock is held, naming this
// process, and succeeds again after Unlock; Lock gives up after its
// timeout.
func TestHardening10_5_LockIsExclusive(t *testing.T) {
	s := open(t)
	l, err := s.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.TryLock()
	var he *HolderError
	if !errors.As(err, &he) || !errors.Is(err, ErrLocked) || he.PID == 0 {
		t.Fatalf("second TryLock: %v, want a HolderError with the pid", err)
	}
	waited := false
	if _, err := s.Lock(context.Background(), 300*time.Millisecond, func(*HolderError) { waited = true }); !errors.Is(err, ErrLocked) || !waited || !strings.Contains(err.Error(), "gave up") {
		t.Errorf("Lock with a timeout: %v (waited %v)", err, waited)
	}
	l.Unlock()
	l2, err := s.TryLock()
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	l2.Unlock()
}
