package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sztp/sztp/internal/atomicfile"
	"github.com/sztp/sztp/internal/privdir"
	"github.com/sztp/sztp/internal/safetext"
)

// DefaultDir is the default state directory.
const DefaultDir = "/var/lib/sztp"

// MaxJournal bounds the number of journal entries kept.
var MaxJournal = 500

const (
	fileEnabled   = "enabled"
	fileCompleted = "completed.json"
	fileLastRun   = "last-run.json"
	fileJournal   = "journal.json"
	fileReboot    = "reboot.json"
)

// Store is a state directory. Its methods are safe for concurrent use
// within one process.
type Store struct {
	Dir string
	mu  sync.Mutex
}

// Open returns the store at dir, creating the directory (0700). An
// existing directory must be owned by the agent's user and not writable by
// group or others (privdir.ErrNotPrivate otherwise): its files decide what
// the agent trusts and does next.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state: empty directory name")
	}
	if err := privdir.Ensure(dir, true); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Store{Dir: dir}, nil
}

// ImagesDir is where boot images are staged; it is created on demand and
// checked like the state directory (not a symbolic link, 0700, ours).
func (s *Store) ImagesDir() (string, error) {
	d := filepath.Join(s.Dir, "images")
	if err := privdir.Ensure(d, false); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	return d, nil
}

// RemoveImages deletes the staged images (after a completed bootstrap).
func (s *Store) RemoveImages() error {
	if err := os.RemoveAll(filepath.Join(s.Dir, "images")); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Enabled reads the SZTP-enabled flag; absent means enabled (C1).
func (s *Store) Enabled() (bool, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, fileEnabled))
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: %w", err)
	}
	switch strings.TrimSpace(string(data)) {
	case "enabled", "true", "1":
		return true, nil
	case "disabled", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("state: %s holds %q, want enabled or disabled", filepath.Join(s.Dir, fileEnabled), strings.TrimSpace(string(data)))
}

// SetEnabled writes the flag. Enabling also clears the run-once completion
// record so that `sztp run` bootstraps again.
func (s *Store) SetEnabled(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := "disabled\n"
	if on {
		v = "enabled\n"
	}
	if err := atomicfile.WriteFile(filepath.Join(s.Dir, fileEnabled), []byte(v), 0o600); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if on {
		if err := s.remove(fileCompleted); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) remove(name string) error {
	err := os.Remove(filepath.Join(s.Dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	if err == nil {
		return atomicfile.SyncDir(s.Dir)
	}
	return nil
}

// Completion records a successful bootstrap (run-once).
type Completion struct {
	Time   time.Time `json:"time"`
	Server string    `json:"server"`
	Source string    `json:"source"`
}

// Completed returns the completion record, or nil when the device has not
// bootstrapped (since it was last enabled).
func (s *Store) Completed() (*Completion, error) {
	var c Completion
	ok, err := s.readJSON(fileCompleted, &c)
	if err != nil {
		return nil, fmt.Errorf("%w ('sztp enable' removes the run-once record)", err)
	}
	if !ok {
		return nil, nil
	}
	return &c, nil
}

// MarkCompleted writes the completion record.
func (s *Store) MarkCompleted(c Completion) error {
	c.Server, c.Source = safetext.Clean(c.Server), safetext.Clean(c.Source)
	return s.writeJSON(fileCompleted, c)
}

// ClearCompleted removes the completion record (a bootstrap-complete the
// server did not accept).
func (s *Store) ClearCompleted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remove(fileCompleted)
}

// Run is the result of the last attempt.
type Run struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Result   string    `json:"result"` // "success", "rebooting", "failure"
	Source   string    `json:"source,omitempty"`
	Server   string    `json:"server,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// LastRun returns the last run record, or nil.
func (s *Store) LastRun() (*Run, error) {
	var r Run
	ok, err := s.readJSON(fileLastRun, &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// SetLastRun writes the last run record. Its text is cleaned (issue 10
// item 12): `sztp status` replays it to a terminal.
func (s *Store) SetLastRun(r Run) error {
	r.Source, r.Server, r.Error = safetext.Clean(r.Source), safetext.Clean(r.Server), safetext.Clean(r.Error)
	return s.writeJSON(fileLastRun, r)
}

// Entry is one progress report in the journal.
type Entry struct {
	Time         time.Time `json:"time"`
	Server       string    `json:"server"`
	ProgressType string    `json:"progress-type"`
	Message      string    `json:"message,omitempty"`
	// Sent is false when the report could not be delivered.
	Sent  bool   `json:"sent"`
	Error string `json:"error,omitempty"`
}

// Journal returns the journal, oldest first.
func (s *Store) Journal() ([]Entry, error) {
	var j []Entry
	if _, err := s.readJSON(fileJournal, &j); err != nil {
		return nil, err
	}
	return j, nil
}

// Append adds an entry to the journal, dropping the oldest beyond MaxJournal.
func (s *Store) Append(e Entry) error {
	e.Server, e.Message, e.Error = safetext.Clean(e.Server), safetext.Clean(e.Message), safetext.Clean(e.Error)
	s.mu.Lock()
	defer s.mu.Unlock()
	var j []Entry
	if _, err := s.readJSONLocked(fileJournal, &j); err != nil {
		// A corrupt journal must not stop bootstrapping: start afresh.
		j = nil
	}
	j = append(j, e)
	if len(j) > MaxJournal {
		j = j[len(j)-MaxJournal:]
	}
	return s.writeJSONLocked(fileJournal, j)
}

// PendingReboot says which image an installed-then-rebooted bootstrap
// expects to find running on the next run.
type PendingReboot struct {
	Time      time.Time `json:"time"`
	Server    string    `json:"server"`
	OSName    string    `json:"os-name,omitempty"`
	OSVersion string    `json:"os-version,omitempty"`
	SHA256    string    `json:"sha-256,omitempty"` // hex of the installed image
}

// PendingReboot returns the pending reboot record, or nil.
func (s *Store) PendingReboot() (*PendingReboot, error) {
	var p PendingReboot
	ok, err := s.readJSON(fileReboot, &p)
	if err != nil || !ok {
		return nil, err
	}
	return &p, nil
}

// SetPendingReboot writes the pending reboot record.
func (s *Store) SetPendingReboot(p PendingReboot) error {
	p.Server, p.OSName, p.OSVersion = safetext.Clean(p.Server), safetext.Clean(p.OSName), safetext.Clean(p.OSVersion)
	return s.writeJSON(fileReboot, p)
}

// ClearPendingReboot removes the pending reboot record.
func (s *Store) ClearPendingReboot() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remove(fileReboot)
}

func (s *Store) readJSON(name string, v any) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readJSONLocked(name, v)
}

func (s *Store) readJSONLocked(name string, v any) (bool, error) {
	p := filepath.Join(s.Dir, name)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("state: %s: %w", p, err)
	}
	return true, nil
}

func (s *Store) writeJSON(name string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeJSONLocked(name, v)
}

func (s *Store) writeJSONLocked(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(filepath.Join(s.Dir, name), data, 0o600); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}
