package boot

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"github.com/sztp/sztp/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKernel returns n bytes carrying the magic of format f.
func fakeKernel(f format, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	put := func(off int, s string) { copy(b[off:], s) }
	switch f {
	case fmtBzImage:
		put(0, "MZ")
		put(0x202, "HdrS")
	case fmtARM64Image:
		put(0, "MZ")
		put(0x38, "ARM\x64")
	case fmtRISCVImage:
		put(0x38, "RSC\x05")
	case fmtELF:
		put(0, "\x7fELF")
	case fmtZboot:
		put(0, "MZ\x00\x00zimg")
	}
	return b
}

type tarEntry struct {
	name string
	typ  byte
	body string
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag != tar.TypeReg {
			hdr.Size = 0
			hdr.Linkname = "kernel"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   []byte
		want format
	}{
		{fakeKernel(fmtBzImage, 4096), fmtBzImage},
		{fakeKernel(fmtARM64Image, 4096), fmtARM64Image},
		{fakeKernel(fmtRISCVImage, 4096), fmtRISCVImage},
		{fakeKernel(fmtELF, 64), fmtELF},
		{fakeKernel(fmtZboot, 64), fmtZboot},
		{gz([]byte("x")), fmtGzip},
		{makeTar(t, tarEntry{name: "kernel", body: "k"}), fmtTar},
		{[]byte("MZ"), fmtUnknown},
		{[]byte("HdrS"), fmtUnknown},
		{nil, fmtUnknown},
		{make([]byte, 4096), fmtUnknown},
	}
	for i, tc := range tests {
		if got := sniff(tc.in); got != tc.want {
			t.Errorf("case %d: sniff = %v, want %v", i, got, tc.want)
		}
	}
}

func TestCheckKernel(t *testing.T) {
	tests := []struct {
		f       format
		goarch  string
		wantErr string // "" = ok
	}{
		{fmtBzImage, "amd64", ""},
		{fmtARM64Image, "arm64", ""},
		{fmtRISCVImage, "riscv64", ""},
		{fmtARM64Image, "amd64", "arm64 Image cannot be kexec'ed on amd64; deliver the x86 bzImage"},
		{fmtBzImage, "arm64", "x86 bzImage cannot be kexec'ed on arm64"},
		{fmtELF, "amd64", "ELF vmlinux cannot be loaded with kexec_file_load"},
		{fmtZboot, "arm64", "EFI zboot kernel is not supported"},
		{fmtUnknown, "amd64", "no known format"},
		{fmtTar, "amd64", "a tar cannot be kexec'ed"},
		{fmtBzImage, "mips", "not supported on mips"},
	}
	for _, tc := range tests {
		err := checkKernel(tc.f, tc.goarch)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("checkKernel(%v, %s) = %v, want %q", tc.f, tc.goarch, err, tc.wantErr)
		}
	}
}

func TestUnpackKexec(t *testing.T) {
	kernel := fakeKernel(fmtBzImage, 10000)
	initrd := "initramfs contents"
	tests := []struct {
		name        string
		image       []byte
		wantErr     string
		wantInitrd  bool
		wantCmdline string // "-" = none in the image
	}{
		{"bare-kernel", kernel, "", false, "-"},
		{"gzip-kernel", gz(kernel), "", false, "-"},
		{"tar", makeTar(t, tarEntry{name: "kernel", body: string(kernel)}, tarEntry{name: "initrd", body: initrd},
			tarEntry{name: "cmdline", body: "console=ttyS0 sztp.url=https://192.0.2.1\n"}), "", true, "console=ttyS0 sztp.url=https://192.0.2.1"},
		{"tar-gz-dot-prefix", gz(makeTar(t, tarEntry{name: "./", typ: tar.TypeDir}, tarEntry{name: "./kernel", body: string(kernel)},
			tarEntry{name: "./initrd", body: initrd})), "", true, "-"},
		{"tar-gz-kernel", makeTar(t, tarEntry{name: "kernel", body: string(gz(kernel))}, tarEntry{name: "cmdline", body: ""}), "", false, ""},
		{"tar-no-kernel", makeTar(t, tarEntry{name: "initrd", body: initrd}), "no kernel entry", false, ""},
		{"tar-unexpected", makeTar(t, tarEntry{name: "kernel", body: string(kernel)}, tarEntry{name: "README", body: "x"}), `unexpected tar entry "README"`, false, ""},
		{"tar-traversal", makeTar(t, tarEntry{name: "../kernel", body: string(kernel)}), `unexpected tar entry "../kernel"`, false, ""},
		{"tar-symlink", makeTar(t, tarEntry{name: "initrd", typ: tar.TypeSymlink}), "not a regular file", false, ""},
		{"tar-duplicate", makeTar(t, tarEntry{name: "kernel", body: "a"}, tarEntry{name: "./kernel", body: "b"}), "appears twice", false, ""},
		{"tar-cmdline-nul", makeTar(t, tarEntry{name: "kernel", body: string(kernel)}, tarEntry{name: "cmdline", body: "a\x00b"}), "NUL", false, ""},
		{"tar-cmdline-huge", makeTar(t, tarEntry{name: "kernel", body: string(kernel)}, tarEntry{name: "cmdline", body: strings.Repeat("x", maxCmdline+1)}), "over", false, ""},
		{"corrupt-gzip", gz(kernel)[:100], "gunzip", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "image")
			os.WriteFile(p, tc.image, 0o600)
			work := t.TempDir()
			b, err := unpackKexec(context.Background(), p, work)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.kind != fmtBzImage {
				t.Errorf("kind %v, want bzImage", b.kind)
			}
			if k, _ := os.ReadFile(b.kernel); !bytes.Equal(k, kernel) {
				t.Errorf("kernel %s differs from the original (%d bytes)", b.kernel, len(k))
			}
			if (b.initrd != "") != tc.wantInitrd {
				t.Errorf("initrd %q, want one: %t", b.initrd, tc.wantInitrd)
			}
			if b.initrd != "" {
				if got, _ := os.ReadFile(b.initrd); string(got) != initrd {
					t.Errorf("initrd %q", got)
				}
			}
			if got := map[bool]string{false: "-", true: b.cmdline}[b.hasCmdline]; got != tc.wantCmdline {
				t.Errorf("cmdline %q, want %q", got, tc.wantCmdline)
			}
			// A gzip'd tar is unpacked while it is decompressed: no copy
			// of the whole tar in work (tmpfs, i.e. RAM, in an initramfs).
			if _, err := os.Stat(filepath.Join(work, "image")); err == nil && tc.name != "gzip-kernel" {
				t.Error("the decompressed image was copied whole into the work directory")
			}
		})
	}
}

// The kexec hook in dry-run mode: everything but the system calls (which
// TestMain makes fail, so calling them would fail this test).
func TestKexecHookDryRun(t *testing.T) {
	work := t.TempDir()
	h := &kexecHook{opts: Options{DryRun: true, WorkDir: work, Logger: testLogger(t)}, goarch: "arm64"}
	image := gz(makeTar(t, tarEntry{name: "kernel", body: string(gz(fakeKernel(fmtARM64Image, 5000)))},
		tarEntry{name: "initrd", body: "cpio"}, tarEntry{name: "cmdline", body: "console=ttyAMA0"}))
	got, err := h.InstallImage(context.Background(), writeImage(t, image))
	if err != nil {
		t.Fatal(err)
	}
	if got.Reboot == nil || got.Abandon != nil || !strings.HasPrefix(got.Message, "dry run: VendorOS 2.0 loaded for kexec (arm64 Image, initrd true)") {
		t.Fatalf("Installed %+v", got)
	}
	if err := got.Reboot(context.Background()); err != nil {
		t.Errorf("dry-run Reboot: %v", err)
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("work dir keeps %d entries, want none", len(ents))
	}

	// Through the registry, on this machine's architecture; a wrong-arch
	// kernel fails before anything is loaded.
	hook, err := NewImageHook("kexec", Options{DryRun: true, WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	hook.(*kexecHook).goarch = "amd64"
	if _, err := hook.InstallImage(context.Background(), writeImage(t, fakeKernel(fmtARM64Image, 5000))); err == nil ||
		!strings.Contains(err.Error(), "cannot be kexec'ed on amd64") {
		t.Errorf("wrong-arch kernel: err = %v", err)
	}
}

// Without dry run, the hook calls kexec_file_load with the unpacked files
// and the reused command line, and Reboot calls reboot(2) with KEXEC.
func TestKexecHookLoadAndReboot(t *testing.T) {
	kernel := fakeKernel(fmtBzImage, 7000)
	cmdline := filepath.Join(t.TempDir(), "cmdline")
	os.WriteFile(cmdline, []byte("console=ttyS0 sztp.os-version=1.0 sztp.url=https://192.0.2.1/\n"), 0o600)
	oldProc, oldLoad, oldReboot := procCmdline, sysKexecFileLoad, sysReboot
	t.Cleanup(func() { procCmdline, sysKexecFileLoad, sysReboot = oldProc, oldLoad, oldReboot })
	procCmdline = cmdline

	var loaded struct {
		kernel       []byte
		initrdFd     int
		cmdline      string
		flags        int
		rebootCalled int
	}
	sysKexecFileLoad = func(kfd, ifd int, cl string, flags int) error {
		loaded.kernel, _ = os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", kfd))
		loaded.initrdFd, loaded.cmdline, loaded.flags = ifd, cl, flags
		return nil
	}
	sysReboot = func(cmd int) error {
		loaded.rebootCalled = cmd
		return unix.EPERM
	}
	h := &kexecHook{opts: Options{WorkDir: t.TempDir()}, goarch: "amd64"}
	got, err := h.InstallImage(context.Background(), writeImage(t, gz(kernel)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(loaded.kernel, kernel) {
		t.Errorf("kexec_file_load got a %d-byte kernel, want the decompressed %d bytes", len(loaded.kernel), len(kernel))
	}
	if loaded.flags != unix.KEXEC_FILE_NO_INITRAMFS || loaded.cmdline != "console=ttyS0 sztp.url=https://192.0.2.1/ sztp.os-name=VendorOS sztp.os-version=2.0" {
		t.Errorf("kexec_file_load flags %#x cmdline %q", loaded.flags, loaded.cmdline)
	}
	err = got.Reboot(context.Background())
	if loaded.rebootCalled != unix.LINUX_REBOOT_CMD_KEXEC {
		t.Errorf("reboot(2) cmd %#x, want LINUX_REBOOT_CMD_KEXEC", loaded.rebootCalled)
	}
	if err == nil || !strings.Contains(err.Error(), "operation not permitted") {
		t.Errorf("Reboot err = %v, want the reboot(2) failure", err)
	}

	// Abandon unloads the loaded kernel.
	if got.Abandon == nil {
		t.Fatal("no Abandon after a kexec load")
	}
	if err := got.Abandon(); err != nil || loaded.flags != unix.KEXEC_FILE_UNLOAD || loaded.cmdline != "" {
		t.Errorf("Abandon: %v, flags %#x cmdline %q; want KEXEC_FILE_UNLOAD with no cmdline", err, loaded.flags, loaded.cmdline)
	}

	// A chain whose later hook fails unloads what the kexec hook loaded.
	loaded.flags = 0
	fail := writeProgram(t, t.TempDir(), "fail", "exit 1\n")
	chain := chainInstaller{h, &execHook{prog: fail}}
	if got, err := chain.InstallImage(context.Background(), writeImage(t, kernel)); got != nil || err == nil {
		t.Fatalf("failing chain: %+v, %v", got, err)
	}
	if loaded.flags != unix.KEXEC_FILE_UNLOAD {
		t.Errorf("failing chain left the kernel loaded (last flags %#x)", loaded.flags)
	}

	// A failing load means nothing is installed (RFC 8572 5.6).
	sysKexecFileLoad = func(int, int, string, int) error { return unix.EKEYREJECTED }
	got, err = h.InstallImage(context.Background(), writeImage(t, kernel))
	if got != nil || err == nil || !strings.Contains(err.Error(), "kexec_file_load") || !strings.Contains(err.Error(), "signature was rejected") {
		t.Errorf("failed load: %+v, %v; want nothing installed and the signature hint", got, err)
	}
}

// The kexec'ed agent learns what it runs from its command line (C75).
func TestAnnotateCmdline(t *testing.T) {
	tests := []struct {
		cmdline string
		img     Image
		want    string
	}{
		{"console=ttyS0", Image{OSName: "VendorOS", OSVersion: "17.2R1.6"}, "console=ttyS0 sztp.os-name=VendorOS sztp.os-version=17.2R1.6"},
		{"sztp.os-name=Old  quiet sztp.os-version=1 sztp.url=https://x", Image{OSName: "New", OSVersion: "2"}, "quiet sztp.url=https://x sztp.os-name=New sztp.os-version=2"},
		{"quiet", Image{OSName: "Vendor OS", OSVersion: "2\""}, "quiet"},
		{"sztp.os-version=1", Image{}, ""},
		{"", Image{OSName: "A", OSVersion: "ü"}, "sztp.os-name=A"},
	}
	for _, tc := range tests {
		if got := annotateCmdline(tc.cmdline, tc.img); got != tc.want {
			t.Errorf("annotateCmdline(%q, %+v) = %q, want %q", tc.cmdline, tc.img, got, tc.want)
		}
	}
}

// A real distribution kernel, when the machine has one (installed, or the
// one e2e/fetch-kernel extracts), is recognised.
func TestKexecRealKernelDryRun(t *testing.T) {
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	fetched, _ := filepath.Glob("../e2e/work/kernel/vmlinuz*")
	kernels = append(kernels, fetched...)
	if len(kernels) == 0 {
		// make test runs e2e/fetch-kernel first.
		testenv.Unavailable(t, "a real kernel: /boot/vmlinuz-* or e2e/work/kernel/vmlinuz (e2e/fetch-kernel)")
	}
	h := &kexecHook{opts: Options{DryRun: true, WorkDir: t.TempDir()}, goarch: "amd64"}
	if _, err := os.ReadFile(kernels[0]); err != nil {
		testenv.Unavailable(t, "a readable kernel: "+err.Error())
	}
	got, err := h.InstallImage(context.Background(), Image{Path: kernels[0]})
	if err != nil {
		t.Fatalf("%s: %v", kernels[0], err)
	}
	t.Log(got.Message)
}

// FuzzExtractBundle: the tar reader never panics, never writes outside its
// work directory, and a success always has a kernel.
func FuzzExtractBundle(f *testing.F) {
	f.Add(makeTar(f, tarEntry{name: "kernel", body: "k"}, tarEntry{name: "initrd", body: "i"}, tarEntry{name: "cmdline", body: "c"}))
	f.Add(makeTar(f, tarEntry{name: "./", typ: tar.TypeDir}, tarEntry{name: "./kernel", body: "k"}))
	f.Add(makeTar(f, tarEntry{name: "../kernel", body: "k"}))
	f.Add([]byte("not a tar"))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		work, err := os.MkdirTemp(root, "w")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(work)
		b, err := extractBundle(context.Background(), bytes.NewReader(data), work)
		if err != nil {
			return
		}
		if b.kernel != filepath.Join(work, "kernel") {
			t.Fatalf("kernel at %q", b.kernel)
		}
		if b.initrd != "" && b.initrd != filepath.Join(work, "initrd") {
			t.Fatalf("initrd at %q", b.initrd)
		}
		ents, _ := os.ReadDir(root)
		if len(ents) != 1 {
			t.Fatalf("%d entries in the fuzz root, want only the work dir", len(ents))
		}
	})
}
