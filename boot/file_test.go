package boot

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sztp/sztp/internal/testenv"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeImage(t *testing.T, data []byte) Image {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return Image{Path: p, OSName: "VendorOS", OSVersion: "2.0"}
}

func TestFileImageToFile(t *testing.T) {
	data := randomBytes(t, 3*copyBufSize+123)
	img := writeImage(t, data)
	dir := t.TempDir()
	target := filepath.Join(dir, "slot-b.img")
	if err := os.WriteFile(target, []byte("old image"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := NewImageHook("file:"+target, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.InstallImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reboot != nil {
		t.Error("file hook asked for a reboot; only the reboot hook does")
	}
	if !strings.Contains(got.Message, "VendorOS 2.0 written to "+target) {
		t.Errorf("message %q", got.Message)
	}
	written, _ := os.ReadFile(target)
	if !bytes.Equal(written, data) {
		t.Errorf("target holds %d bytes that differ from the %d-byte image", len(written), len(data))
	}
	// The previous content is kept for a rollback (C83) until Commit.
	if err := got.Commit(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the target dir, want 1 (no temp files)", len(ents))
	}
}

// A failed image install leaves the old target in place and returns no
// Installed (RFC 8572 5.6, C83).
func TestFileImageFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "slot-b.img")
	os.WriteFile(target, []byte("old image"), 0o644)
	h, _ := NewImageHook("file:"+target, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := h.InstallImage(ctx, writeImage(t, randomBytes(t, 1000)))
	if !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("InstallImage = %+v, %v; want nil, context.Canceled", got, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "old image" {
		t.Errorf("target now %q, want the old image", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the target dir, want 1 (no temp files)", len(ents))
	}
}

func TestFileImageRefusesOtherTargets(t *testing.T) {
	img := writeImage(t, []byte("image"))
	for _, target := range []string{"/dev/null", t.TempDir()} {
		h, _ := NewImageHook("file:"+target, Options{})
		if got, err := h.InstallImage(context.Background(), img); err == nil {
			t.Errorf("install to %s succeeded (%+v), want an error", target, got)
		}
	}
	if _, err := NewImageHook("file:relative/path", Options{}); err == nil {
		t.Error("relative file hook path accepted")
	}
}

// failingReaderAt fails reads at or beyond off.
type failingReaderAt struct {
	data []byte
	off  int64
}

func (r failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.off {
		return 0, errors.New("disk read error")
	}
	return copy(p, r.data[off:]), nil
}

// A write to a block device that fails midway leaves no valid header: the
// first headerSize bytes are zero, not the new (or old) image's.
func TestWriteHeaderLast(t *testing.T) {
	const size = 3*headerSize + 100
	img := bytes.Repeat([]byte{0xAB}, size)
	tests := []struct {
		name     string
		failAt   int64
		wantErr  bool
		wantHead byte
	}{
		{"complete", size + 1, false, 0xAB},
		{"fails-in-body", 2 * headerSize, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, err := os.Create(filepath.Join(t.TempDir(), "dev"))
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			dst.Write(bytes.Repeat([]byte{0x55}, size)) // the old image
			err = writeHeaderLast(context.Background(), dst, failingReaderAt{img, tc.failAt}, size)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %t", err, tc.wantErr)
			}
			got, _ := os.ReadFile(dst.Name())
			if !bytes.Equal(got[:headerSize], bytes.Repeat([]byte{tc.wantHead}, headerSize)) {
				t.Errorf("header starts %x, want all %02x", got[:8], tc.wantHead)
			}
			if !tc.wantErr && !bytes.Equal(got, img) {
				t.Error("complete write differs from the image")
			}
		})
	}
}

// losetup attaches a loop device over a fresh file of size bytes.
func losetup(t *testing.T, size int64) string {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommands(t, "losetup")
	backing := filepath.Join(t.TempDir(), "disk")
	if err := os.WriteFile(backing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(backing, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", backing).CombinedOutput()
	if err != nil {
		testenv.Unavailable(t, "a loop device (losetup: "+strings.TrimSpace(string(out))+")")
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup --detach %s: %v %s", dev, err, out)
		}
	})
	return dev
}

// Integration: the file hook writes an image in place to a real block
// device (a loop device), and refuses one that does not fit.
func TestFileImageToLoopDevice(t *testing.T) {
	dev := losetup(t, 4<<20)
	h, err := NewImageHook("file:"+dev, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 3<<20+5)
	if _, err := h.InstallImage(context.Background(), writeImage(t, data)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(f, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("loop device content differs from the image")
	}

	big := writeImage(t, make([]byte, 4<<20+1))
	_, err = h.InstallImage(context.Background(), big)
	if err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("oversized image: err = %v, want 'does not fit'", err)
	}
	f.Seek(0, io.SeekStart)
	io.ReadFull(f, got)
	if !bytes.Equal(got, data) {
		t.Error("an image that does not fit still changed the device")
	}

	// A device claimed by someone else (as a mounted file system would be)
	// is not written.
	claim, err := os.OpenFile(dev, os.O_RDONLY|unix.O_EXCL, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer claim.Close()
	_, err = h.InstallImage(context.Background(), writeImage(t, []byte("small")))
	if !errors.Is(err, unix.EBUSY) {
		t.Errorf("install to a claimed device: err = %v, want EBUSY", err)
	}
}

// Configuration through the file hook: replace, merge, undo (C78, C79, C81).
func TestFileConfig(t *testing.T) {
	tests := []struct {
		name     string
		old      *string // nil: no file
		cfg      Config
		wantErr  error
		wantNew  string // content after apply ("" with wantErr: unchanged)
		wantMode os.FileMode
	}{
		{"replace-new-file", nil, Config{[]byte("hostname dpu\n"), "replace"}, nil, "hostname dpu\n", 0o600},
		{"replace-existing", ptr("old\n"), Config{[]byte("new\n"), "replace"}, nil, "new\n", 0o640},
		{"merge-into-nothing", nil, Config{[]byte("<config/>"), "merge"}, nil, "<config/>", 0o600},
		{"merge-into-empty", ptr("\n"), Config{[]byte(`{"a":1}`), "merge"}, nil, `{"a":1}`, 0o640},
		{"merge-json", ptr(`{"a":1,"b":{"c":2}}`), Config{[]byte(`{"b":{"c":null,"d":3}}`), "merge"}, nil, "{\n  \"a\": 1,\n  \"b\": {\n    \"d\": 3\n  }\n}\n", 0o640},
		{"merge-non-json-C79", ptr("hostname old\n"), Config{[]byte("hostname new\n"), "merge"}, ErrNotJSONObject, "", 0},
		{"bad-handling", ptr("old\n"), Config{[]byte("x"), "patch"}, nil, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "running.conf")
			if tc.old != nil {
				if err := os.WriteFile(p, []byte(*tc.old), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			h, err := NewConfigHook("file:"+p, Options{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			undo, err := h.ApplyConfig(context.Background(), tc.cfg)
			if tc.wantNew == "" {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want an error (%v)", err, tc.wantErr)
				}
				if got, _ := os.ReadFile(p); string(got) != *tc.old {
					t.Errorf("failed apply changed the file to %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.wantNew {
				t.Errorf("file %q, want %q", got, tc.wantNew)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != tc.wantMode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.wantMode)
			}
			if err := undo(); err != nil {
				t.Fatalf("undo: %v", err)
			}
			got, err = os.ReadFile(p)
			switch {
			case tc.old == nil && !errors.Is(err, os.ErrNotExist):
				t.Errorf("after undo the file exists (%q, %v), want it removed", got, err)
			case tc.old != nil && string(got) != *tc.old:
				t.Errorf("after undo the file is %q, want %q", got, *tc.old)
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 1 {
				t.Errorf("%d entries in the dir, want at most 1 (no temp files)", len(ents))
			}
		})
	}
}

func ptr(s string) *string { return &s }

// A symlinked configuration file is replaced through the link, which stays.
func TestFileConfigSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "data", "config.json")
	os.MkdirAll(filepath.Dir(real), 0o755)
	os.WriteFile(real, []byte(`{"a":1}`), 0o600)
	link := filepath.Join(dir, "running.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	h, _ := NewConfigHook("file:"+link, Options{})
	undo, err := h.ApplyConfig(context.Background(), Config{Data: []byte(`{"b":2}`), Handling: "replace"})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced (%v, %v)", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(real); string(b) != `{"b":2}` {
		t.Errorf("link target holds %q", b)
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(real); string(b) != `{"a":1}` {
		t.Errorf("after undo the link target holds %q", b)
	}
}

// Memory does not grow with the image size: a 64 MiB image streams through
// the fixed buffer (design.md budgets).
func TestFileImageStreams(t *testing.T) {
	const size = 64 << 20
	src := filepath.Join(t.TempDir(), "big.img")
	if err := os.WriteFile(src, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(src, size); err != nil { // sparse: cheap to create
		t.Fatal(err)
	}
	h, _ := NewImageHook("file:"+filepath.Join(t.TempDir(), "slot.img"), Options{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := h.InstallImage(context.Background(), Image{Path: src}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("installing a %d MiB image allocated %d MiB; want a fixed buffer", size>>20, alloc>>20)
	}
}
