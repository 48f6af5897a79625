package privdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestEnsure(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, dir string) string
		followLink bool
		wantErr    bool
		wantMode   os.FileMode
	}{
		{"created", func(t *testing.T, d string) string { return filepath.Join(d, "a", "b") }, false, false, 0o700},
		{"tightened", func(t *testing.T, d string) string {
			p := filepath.Join(d, "x")
			mustMkdir(t, p, 0o755)
			return p
		}, false, false, 0o700},
		{"group-writable", func(t *testing.T, d string) string {
			p := filepath.Join(d, "x")
			mustMkdir(t, p, 0o770)
			return p
		}, false, true, 0},
		{"other-writable", func(t *testing.T, d string) string {
			p := filepath.Join(d, "x")
			mustMkdir(t, p, 0o1777)
			return p
		}, false, true, 0},
		{"symlink refused", func(t *testing.T, d string) string {
			mustMkdir(t, filepath.Join(d, "real"), 0o700)
			p := filepath.Join(d, "link")
			if err := os.Symlink("real", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, false, true, 0},
		{"symlink followed", func(t *testing.T, d string) string {
			mustMkdir(t, filepath.Join(d, "real"), 0o700)
			p := filepath.Join(d, "link")
			if err := os.Symlink("real", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, true, false, 0o700},
		{"a file", func(t *testing.T, d string) string {
			p := filepath.Join(d, "f")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t, t.TempDir())
			err := Ensure(dir, tt.followLink)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Ensure(%s) = %v, want error %v", dir, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.wantMode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.wantMode)
			}
		})
	}
}

func TestEnsureGroupWritableIsNotPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	mustMkdir(t, p, 0o770)
	if err := Ensure(p, true); !errors.Is(err, ErrNotPrivate) {
		t.Fatalf("Ensure = %v, want ErrNotPrivate", err)
	}
}

func TestOwnFile(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, p string)
		wantErr bool
	}{
		{"own 0600", func(t *testing.T, p string) { mustWrite(t, p, 0o600) }, false},
		{"group readable", func(t *testing.T, p string) { mustWrite(t, p, 0o640) }, true},
		{"two links", func(t *testing.T, p string) {
			mustWrite(t, p, 0o600)
			if err := os.Link(p, p+".2"); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			tt.setup(t, p)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := OwnFile(f); (err != nil) != tt.wantErr {
				t.Fatalf("OwnFile = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func mustMkdir(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
