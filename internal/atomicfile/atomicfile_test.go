package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	for _, want := range []string{"one", "two"} {
		if err := WriteFile(p, []byte(want), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestWriteFromFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFrom(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Errorf("content %q after failed write, want old", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries left in dir, want 1 (no temp files)", len(ents))
	}
}

// Failures name the path and leave no temp file behind.
func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	isDir := filepath.Join(dir, "is-a-dir")
	if err := os.MkdirAll(filepath.Join(isDir, "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"target-is-a-directory", isDir, "renaming into " + isDir},
		{"no-such-directory", filepath.Join(dir, "missing", "f"), "creating temp file for " + filepath.Join(dir, "missing", "f")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFile(tc.path, []byte("data"), 0o644)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteFile(%s) = %v, want an error containing %q", tc.path, err, tc.want)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("%d entries in %s after the failure, want only the directory (no temp files)", len(ents), dir)
			}
		})
	}
}
