package boot

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 10 item 7, C83: an image installed by file: without a reboot can
// be rolled back to what the target held before: the old file, no file,
// or (on a block device) the overwritten region. Before the fix
// Installed had no Rollback.
func TestHardening10_7_FileImageRollback(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  []byte // nil: no target file before
	}{
		{"replaces a file", []byte("old image")},
		{"new file", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "slot.img")
			if tc.old != nil {
				if err := os.WriteFile(target, tc.old, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h, err := NewImageHook("file:"+target, Options{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			in, err := h.InstallImage(context.Background(), writeImage(t, []byte("new image")))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(target); string(got) != "new image" {
				t.Fatalf("installed %q", got)
			}
			if in.Rollback == nil {
				t.Fatal("no Rollback")
			}
			if err := in.Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(target)
			if tc.old == nil {
				if !os.IsNotExist(err) {
					t.Errorf("after rollback the target exists (%q, %v), want none", got, err)
				}
			} else if !bytes.Equal(got, tc.old) {
				t.Errorf("after rollback %q, want %q", got, tc.old)
			}
			want := 0 // the target only, and no kept copy
			if tc.old != nil {
				want = 1
			}
			if ents, _ := os.ReadDir(dir); len(ents) != want {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

// Issue 10 item 7, C83, integration: on a real block device (a loop
// device) the region the image overwrote is saved in WorkDir and written
// back by Rollback; Commit removes the saved copy.
func TestHardening10_7_BlockDeviceImageRollback(t *testing.T) {
	dev := losetup(t, 4<<20)
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := randomBytes(t, 4<<20)
	if _, err := f.WriteAt(old, 0); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	work := t.TempDir()
	h, err := NewImageHook("file:"+dev, Options{Logger: testLogger(t), WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{false, true} {
		in, err := h.InstallImage(context.Background(), writeImage(t, randomBytes(t, 3<<20+5)))
		if err != nil {
			t.Fatal(err)
		}
		if in.Rollback == nil || in.Commit == nil {
			t.Fatal("no Rollback/Commit")
		}
		if commit {
			if err := in.Commit(); err != nil {
				t.Fatal(err)
			}
		} else if err := in.Rollback(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(old))
		if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(len(old))), got); err != nil {
			t.Fatal(err)
		}
		if !commit && !bytes.Equal(got, old) {
			t.Error("after rollback the device differs from before the install")
		}
		if commit && bytes.Equal(got, old) {
			t.Error("after commit the device holds the old content")
		}
		if ents, _ := os.ReadDir(work); len(ents) != 0 {
			t.Errorf("saved region left in WorkDir: %v", ents)
		}
	}
}

// Issue 10 item 7, C83: the exec image hook's rollback runs the program
// again with SZTP_STEP=boot-image-rollback and SZTP_ACTION=rollback (the
// install had SZTP_ACTION=install); a failing rollback is an error. A
// chain whose second hook fails rolls back the first.
func TestHardening10_7_ExecImageRollback(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "calls")
	prog := writeProgram(t, dir, "hook", `echo "$SZTP_STEP $SZTP_ACTION $SZTP_OS_VERSION" >> `+logf+`
[ "$SZTP_ACTION" = rollback ] && [ -e `+filepath.Join(dir, "fail-rollback")+` ] && exit 1
exit 0
`)
	h, err := NewImageHook("exec:"+prog, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	img := writeImage(t, []byte("image"))
	in, err := h.InstallImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if in.Rollback == nil {
		t.Fatal("no Rollback")
	}
	if err := in.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, logf), "boot-image install 2.0\nboot-image-rollback rollback 2.0\n"; got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
	os.WriteFile(filepath.Join(dir, "fail-rollback"), nil, 0o600)
	if err := in.Rollback(context.Background()); err == nil || !strings.Contains(err.Error(), "boot-image-rollback") {
		t.Errorf("failing rollback: %v", err)
	}
	os.Remove(filepath.Join(dir, "fail-rollback"))

	os.Remove(logf)
	failing := writeProgram(t, dir, "failing", "exit 3\n")
	chain, err := NewImageHook("exec:"+prog+",exec:"+failing, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.InstallImage(context.Background(), img); err == nil {
		t.Fatal("chain with a failing hook succeeded")
	}
	if got, want := readFile(t, logf), "boot-image install 2.0\nboot-image-rollback rollback 2.0\n"; got != want {
		t.Errorf("chain calls %q, want %q", got, want)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
