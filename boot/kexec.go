package boot

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// The kexec hook loads the kernel with kexec_file_load(2) through
// golang.org/x/sys/unix rather than u-root's pkg/boot: pkg/boot added about
// 1 MiB to the agent (bzimage, xz, lzma, watchdog, mount), which the 8 MiB
// budget cannot afford; what we need of it is two system calls.

// Limits on what a kexec image may unpack to (the work directory is often
// tmpfs, i.e. RAM).
const (
	maxUnpacked   = 2 << 30  // a decompressed image or bundle entry
	maxCmdline    = 64 << 10 // the bundle's cmdline file
	sniffSize     = 4096     // bytes read to recognise a format
	kexecNoInitrd = unix.KEXEC_FILE_NO_INITRAMFS
)

// procCmdline is the running kernel's command line, reused when the image
// brings none.
var procCmdline = "/proc/cmdline"

func init() {
	registerImageHook(imageHook{
		HookInfo: HookInfo{Name: "kexec", Usage: "kexec",
			Summary: "load the image (a kernel, or a tar of kernel, initrd, cmdline; optionally gzip'd) with kexec_file_load; Reboot kexecs into it"},
		new: func(_ string, opts Options) (ImageInstaller, error) {
			return &kexecHook{opts: opts, goarch: runtime.GOARCH}, nil
		},
	})
}

type kexecHook struct {
	opts   Options
	goarch string
}

// format is what the first bytes of a file say it is.
type format int

const (
	fmtUnknown format = iota
	fmtGzip
	fmtTar
	fmtBzImage    // x86 bzImage ("HdrS" at 0x202)
	fmtARM64Image // arm64 Image ("ARM\x64" at 0x38)
	fmtRISCVImage // riscv Image ("RSC\x05" at 0x38)
	fmtELF        // vmlinux
	fmtZboot      // EFI zboot (compressed, PE-wrapped)
)

func (f format) String() string {
	return [...]string{"unknown", "gzip", "tar", "x86 bzImage", "arm64 Image", "riscv Image", "ELF vmlinux", "EFI zboot"}[f]
}

// sniff recognises a format from the start of a file.
func sniff(b []byte) format {
	at := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case at(0, "\x1f\x8b"):
		return fmtGzip
	case at(0x202, "HdrS"):
		return fmtBzImage
	case at(0x38, "ARM\x64"):
		return fmtARM64Image
	case at(0x38, "RSC\x05"):
		return fmtRISCVImage
	case at(0, "\x7fELF"):
		return fmtELF
	case at(0, "MZ") && at(4, "zimg"):
		return fmtZboot
	case at(257, "ustar"):
		return fmtTar
	}
	return fmtUnknown
}

// checkKernel says whether a kernel of format f can be kexec'ed on goarch.
func checkKernel(f format, goarch string) error {
	want := map[string]format{"amd64": fmtBzImage, "arm64": fmtARM64Image, "riscv64": fmtRISCVImage}[goarch]
	switch {
	case want == fmtUnknown:
		return fmt.Errorf("kexec is not supported on %s", goarch)
	case f == want:
		return nil
	case f == fmtELF:
		return fmt.Errorf("an ELF vmlinux cannot be loaded with kexec_file_load; deliver the %s", want)
	case f == fmtZboot:
		return fmt.Errorf("an EFI zboot kernel is not supported; deliver the %s (optionally gzip'd)", want)
	case f == fmtUnknown:
		return fmt.Errorf("the kernel is in no known format; deliver the %s", want)
	}
	return fmt.Errorf("a %s cannot be kexec'ed on %s; deliver the %s", f, goarch, want)
}

// kexecBundle is what an image unpacks to.
type kexecBundle struct {
	kernel     string // path
	initrd     string // path, "" if none
	cmdline    string
	hasCmdline bool
	kind       format
}

// InstallImage unpacks and checks the image and loads it into the kernel
// (not in dry-run mode); the returned Reboot kexecs into it.
func (h *kexecHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	log := h.opts.logger().With("hook", "kexec")
	work, err := os.MkdirTemp(h.opts.WorkDir, "sztp-kexec-*")
	if err != nil {
		return nil, fmt.Errorf("kexec hook: %w", err)
	}
	defer os.RemoveAll(work)

	b, err := unpackKexec(ctx, img.Path, work)
	if err != nil {
		return nil, fmt.Errorf("kexec hook: %s: %w", img.Path, err)
	}
	if err := checkKernel(b.kind, h.goarch); err != nil {
		return nil, fmt.Errorf("kexec hook: %w", err)
	}
	if !b.hasCmdline {
		cl, err := os.ReadFile(procCmdline)
		if err != nil {
			return nil, fmt.Errorf("kexec hook: no cmdline in the image, and the current one: %w", err)
		}
		b.cmdline = strings.TrimSpace(string(cl))
	}
	b.cmdline = annotateCmdline(b.cmdline, img)
	log.Info("kexec image ready", "kernel", b.kind.String(), "initrd", b.initrd != "", "cmdline", b.cmdline, "dry-run", h.opts.DryRun)
	msg := fmt.Sprintf("%s loaded for kexec (%s, initrd %t)", imageName(img), b.kind, b.initrd != "")
	if h.opts.DryRun {
		return &Installed{Message: "dry run: " + msg, Reboot: h.reboot}, nil
	}
	if err := kexecLoad(b.kernel, b.initrd, b.cmdline); err != nil {
		return nil, fmt.Errorf("kexec hook: %w", err)
	}
	return &Installed{Message: msg, Reboot: h.reboot, Abandon: kexecUnload}, nil
}

// kexecUnload unloads a kernel loaded by kexecLoad.
func kexecUnload() error {
	if err := sysKexecFileLoad(-1, -1, "", unix.KEXEC_FILE_UNLOAD); err != nil {
		return fmt.Errorf("kexec hook: unloading: %w", err)
	}
	return nil
}

// Kernel command-line parameters through which the agent started by the
// kexec'ed kernel learns which image it runs (so that it finds the
// boot-image step satisfied, C75).
const (
	paramOSName    = "sztp.os-name"
	paramOSVersion = "sztp.os-version"
)

// annotateCmdline removes any sztp.os-name / sztp.os-version parameters
// (a reused command line carries the old ones) and appends the image's,
// when they are safe as unquoted kernel parameters.
func annotateCmdline(cmdline string, img Image) string {
	var kept []string
	for _, f := range strings.Fields(cmdline) {
		k, _, _ := strings.Cut(f, "=")
		if k != paramOSName && k != paramOSVersion {
			kept = append(kept, f)
		}
	}
	for _, p := range [][2]string{{paramOSName, img.OSName}, {paramOSVersion, img.OSVersion}} {
		if cmdlineSafe(p[1]) {
			kept = append(kept, p[0]+"="+p[1])
		}
	}
	return strings.Join(kept, " ")
}

func cmdlineSafe(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, r := range v {
		if r <= ' ' || r > '~' || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

func (h *kexecHook) reboot(context.Context) error {
	log := h.opts.logger().With("hook", "kexec")
	if h.opts.DryRun {
		log.Warn("dry run: not kexec'ing")
		return nil
	}
	log.Warn("kexec'ing into the new kernel")
	sysSync()
	if err := sysReboot(unix.LINUX_REBOOT_CMD_KEXEC); err != nil {
		return fmt.Errorf("kexec hook: reboot(2) kexec: %w", err)
	}
	return nil
}

func kexecLoad(kernel, initrd, cmdline string) error {
	k, err := os.Open(kernel)
	if err != nil {
		return err
	}
	defer k.Close()
	ifd, flags := -1, 0
	if initrd == "" {
		flags |= kexecNoInitrd
	} else {
		i, err := os.Open(initrd)
		if err != nil {
			return err
		}
		defer i.Close()
		ifd = int(i.Fd())
	}
	if err := sysKexecFileLoad(int(k.Fd()), ifd, cmdline, flags); err != nil {
		return fmt.Errorf("kexec_file_load: %w%s", err, kexecHint(err))
	}
	return nil
}

// kexecHint says what the usual kexec_file_load failures mean for the
// operator who reads the boot-image-error report.
func kexecHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return " (the running kernel lacks CONFIG_KEXEC_FILE)"
	case errors.Is(err, unix.EPERM):
		return " (needs CAP_SYS_BOOT; with Secure Boot or lockdown, a kernel signed with a trusted key)"
	case errors.Is(err, unix.EKEYREJECTED), errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EBADMSG):
		return " (the kernel's signature was rejected: Secure Boot or lockdown needs a kernel signed with a trusted key)"
	case errors.Is(err, unix.ENOEXEC):
		return " (the running kernel does not accept this kernel image format)"
	}
	return ""
}

// unpackKexec turns the image at p into a kernel (+ initrd, cmdline),
// decompressing into work as needed. Accepted: a kernel; a gzip'd kernel; a
// tar, or a gzip'd tar, of regular files "kernel" (itself maybe gzip'd),
// optional "initrd" and optional "cmdline". A gzip'd tar is unpacked as it
// is decompressed: work (often tmpfs, i.e. RAM) never holds the whole tar
// besides its files.
func unpackKexec(ctx context.Context, p, work string) (*kexecBundle, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, kind, err := sniffReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if kind == fmtGzip {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		if r, kind, err = sniffReader(zr); err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		if kind != fmtTar {
			dst := filepath.Join(work, "image")
			if err := writeLimited(ctx, dst, r); err != nil {
				return nil, fmt.Errorf("gunzip: %w", err)
			}
			return &kexecBundle{kernel: dst, kind: kind}, nil
		}
	}
	if kind != fmtTar {
		return &kexecBundle{kernel: p, kind: kind}, nil
	}
	b, err := extractBundle(ctx, r, work)
	if err != nil {
		return nil, err
	}
	if b.kind, err = sniffFile(b.kernel); err != nil {
		return nil, err
	}
	if b.kind == fmtGzip {
		if b.kernel, err = gunzipFile(ctx, b.kernel, filepath.Join(work, "kernel.raw")); err != nil {
			return nil, fmt.Errorf("kernel: %w", err)
		}
		if b.kind, err = sniffFile(b.kernel); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sniffReader recognises the format of what r yields and returns a reader
// that yields all of it again.
func sniffReader(r io.Reader) (io.Reader, format, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmtUnknown, err
	}
	return br, sniff(head), nil
}

// extractBundle reads a kexec tar bundle, writing kernel and initrd into
// work. Directory entries are skipped; anything else is an error.
func extractBundle(ctx context.Context, r io.Reader, work string) (*kexecBundle, error) {
	tr := tar.NewReader(r)
	b := &kexecBundle{}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("tar entry %q: not a regular file", hdr.Name)
		}
		if isSparse(hdr) {
			return nil, fmt.Errorf("tar entry %q: sparse files are not supported", hdr.Name)
		}
		if hdr.Size > maxUnpacked {
			return nil, fmt.Errorf("tar entry %q: %d bytes is over the %d limit", hdr.Name, hdr.Size, int64(maxUnpacked))
		}
		if seen[name] {
			return nil, fmt.Errorf("tar entry %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "kernel", "initrd":
			dst := filepath.Join(work, name)
			if err := writeLimited(ctx, dst, tr); err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", name, err)
			}
			if name == "kernel" {
				b.kernel = dst
			} else {
				b.initrd = dst
			}
		case "cmdline":
			cl, err := io.ReadAll(io.LimitReader(tr, maxCmdline+1))
			if err != nil {
				return nil, fmt.Errorf("tar entry cmdline: %w", err)
			}
			if len(cl) > maxCmdline {
				return nil, fmt.Errorf("tar entry cmdline is over %d bytes", maxCmdline)
			}
			if bytes.IndexByte(cl, 0) >= 0 {
				return nil, errors.New("tar entry cmdline holds a NUL byte")
			}
			b.cmdline = strings.TrimSpace(string(cl))
			b.hasCmdline = true
		default:
			return nil, fmt.Errorf("unexpected tar entry %q (a kexec bundle holds kernel, initrd, cmdline)", hdr.Name)
		}
	}
	if b.kernel == "" {
		return nil, errors.New("tar has no kernel entry")
	}
	return b, nil
}

// isSparse reports a PAX (GNU) sparse entry, whose holes would unpack to
// far more bytes than the tar holds.
func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func sniffFile(p string) (format, error) {
	f, err := os.Open(p)
	if err != nil {
		return fmtUnknown, err
	}
	defer f.Close()
	buf := make([]byte, sniffSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmtUnknown, fmt.Errorf("reading %s: %w", p, err)
	}
	return sniff(buf[:n]), nil
}

func gunzipFile(ctx context.Context, src, dst string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("gunzip: %w", err)
	}
	if err := writeLimited(ctx, dst, zr); err != nil {
		return "", fmt.Errorf("gunzip: %w", err)
	}
	return dst, nil
}

// writeLimited writes r to a new file, failing beyond maxUnpacked bytes.
func writeLimited(ctx context.Context, dst string, r io.Reader) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := copyCtx(ctx, f, io.LimitReader(r, maxUnpacked+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > maxUnpacked {
		return fmt.Errorf("unpacks to more than %d bytes", int64(maxUnpacked))
	}
	return nil
}
