package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fileLock is the lock file of the state directory; it holds the PID of
// the process that has it.
const fileLock = "lock"

// lockPoll is how often a waiting Lock retries.
const lockPoll = 200 * time.Millisecond

// ErrLocked is returned by TryLock (and by Lock when its wait ends) when
// another process holds the state directory.
var ErrLocked = errors.New("state directory is in use by another sztp process")

// Lock is an exclusive hold on the state directory, for one agent run from
// its first read of the run-once record to its last write: two agents (an
// initramfs hook and a service unit) on one directory must not both
// bootstrap (issue 10 item 5). It is an flock(2) on the file "lock", so
// the kernel releases it when the process dies.
type Lock struct {
	f *os.File
}

// HolderError says which process holds the lock.
type HolderError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *HolderError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%v: %s is held by pid %d", ErrLocked, e.Path, e.PID)
	}
	return fmt.Sprintf("%v: %s is held", ErrLocked, e.Path)
}

func (e *HolderError) Unwrap() error { return ErrLocked }

// TryLock takes the lock without waiting. When another process holds it,
// the error is a *HolderError (errors.Is ErrLocked).
func (s *Store) TryLock() (*Lock, error) {
	p := filepath.Join(s.Dir, fileLock)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HolderError{Path: p, PID: lockHolder(p)}
		}
		return nil, fmt.Errorf("state: lock %s: %w", p, err)
	}
	// Record who holds it, for the message of the one that waits. The lock
	// is the flock, not this content: a stale PID after a crash is harmless.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Lock takes the lock, waiting while another process holds it: for ever
// when timeout is 0, else at most timeout. waiting, when not nil, is called
// once when the wait starts, with who holds the lock.
func (s *Store) Lock(ctx context.Context, timeout time.Duration, waiting func(*HolderError)) (*Lock, error) {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	told := false
	for {
		l, err := s.TryLock()
		var he *HolderError
		if !errors.As(err, &he) {
			return l, err
		}
		if !told && waiting != nil {
			waiting(he)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the state directory: %w", ctx.Err())
		case <-deadline:
			return nil, fmt.Errorf("gave up after %s: %w", timeout, he)
		case <-tick.C:
		}
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}

func lockHolder(p string) int {
	data, err := os.ReadFile(p)
	if err != nil || len(data) > 32 {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
