package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sztp/sztp/internal/atomicfile"
)

// headerSize is the part of an image written last to a block device, so
// that an interrupted write leaves no valid header (partition table, boot
// sector, file-system superblock) pointing at a half-written body.
const headerSize = 4096

// copyBufSize is the fixed buffer through which images stream: memory does
// not grow with the image size.
const copyBufSize = 1 << 20

func init() {
	registerImageHook(imageHook{
		HookInfo: HookInfo{Name: "file", Usage: "file:PATH",
			Summary: "write the image to PATH: a block device in place (size-checked, header last, fsync) or a file (temp, fsync, rename)"},
		arg: argRequired,
		new: func(arg string, opts Options) (ImageInstaller, error) { return newFileHook(arg, opts) },
	})
	registerConfigHook(configHook{
		HookInfo: HookInfo{Name: "file", Usage: "file:PATH",
			Summary: "atomically replace the file PATH; merge is a JSON Merge Patch (RFC 7396) onto a JSON object; undo restores the old file"},
		arg: argRequired,
		new: func(arg string, opts Options) (ConfigApplier, error) { return newFileHook(arg, opts) },
	})
}

type fileHook struct {
	path string
	opts Options
}

func newFileHook(path string, opts Options) (*fileHook, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("path %q must be absolute", path)
	}
	return &fileHook{path: path, opts: opts}, nil
}

// InstallImage streams the image to the target. It keeps what the target
// held before, so that Installed.Rollback can put it back (C83): a regular
// file's previous content stays as PATH.sztp-previous (a hard link, else a
// copy); a block device's overwritten region is copied to Options.WorkDir
// first, when it has room (else the image has no rollback, with a warning).
func (h *fileHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	src, err := os.Open(img.Path)
	if err != nil {
		return nil, fmt.Errorf("file hook: %w", err)
	}
	defer src.Close()
	sfi, err := src.Stat()
	if err != nil {
		return nil, fmt.Errorf("file hook: %w", err)
	}
	size := sfi.Size()
	log := h.opts.logger().With("hook", "file", "target", h.path)
	in := &Installed{Message: fmt.Sprintf("image %s written to %s (%d bytes)", imageName(img), h.path, size)}

	fi, err := os.Stat(h.path)
	switch {
	case err == nil && isBlockDevice(fi.Mode()):
		saved, err := h.saveRegion(ctx, size)
		if err != nil {
			return nil, fmt.Errorf("file hook: %w", err)
		}
		log.Info("writing image to block device", "image", img.Path, "bytes", size)
		if err := writeBlockDevice(ctx, h.path, src, size); err != nil {
			saved.discard()
			return nil, fmt.Errorf("file hook: %w", err)
		}
		if saved != nil {
			in.Rollback, in.Commit = saved.restore(h.path, log), saved.discard
		}
	case err == nil && !fi.Mode().IsRegular():
		return nil, fmt.Errorf("file hook: %s is neither a regular file nor a block device (%v)", h.path, fi.Mode().Type())
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file hook: %w", err)
	default:
		target := resolve(h.path)
		prev, err := keepPrevious(target, err == nil)
		if err != nil {
			return nil, fmt.Errorf("file hook: keeping the previous image for a rollback: %w", err)
		}
		log.Info("writing image to file", "image", img.Path, "bytes", size)
		err = atomicfile.WriteFrom(target, 0o644, func(w io.Writer) error {
			_, err := copyCtx(ctx, w, src)
			return err
		})
		if err != nil {
			prev.discard()
			return nil, fmt.Errorf("file hook: %w", err)
		}
		in.Rollback, in.Commit = prev.restore(log), prev.discard
	}
	return in, nil
}

// previousFile is the content a regular-file target had before an image
// replaced it.
type previousFile struct {
	target, kept string // kept is "" when the target did not exist
}

// previousSuffix names the kept previous content beside the target.
const previousSuffix = ".sztp-previous"

func keepPrevious(target string, existed bool) (*previousFile, error) {
	p := &previousFile{target: target}
	if !existed {
		return p, nil
	}
	p.kept = target + previousSuffix
	if err := os.Remove(p.kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Link(target, p.kept); err != nil {
		// No hard links (e.g. vfat): copy.
		f, err := os.Open(target)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := atomicfile.WriteFrom(p.kept, 0o600, func(w io.Writer) error { _, err := io.Copy(w, f); return err }); err != nil {
			return nil, err
		}
	}
	return p, atomicfile.SyncDir(filepath.Dir(target))
}

func (p *previousFile) restore(log *slog.Logger) func(context.Context) error {
	return func(context.Context) error {
		log.Warn("rolling back the image: restoring the previous content", "kept", p.kept)
		if p.kept == "" {
			if err := os.Remove(p.target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		} else if err := os.Rename(p.kept, p.target); err != nil {
			return err
		}
		return atomicfile.SyncDir(filepath.Dir(p.target))
	}
}

func (p *previousFile) discard() error {
	if p == nil || p.kept == "" {
		return nil
	}
	if err := os.Remove(p.kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// savedRegion is a copy of the part of a block device an image overwrites.
type savedRegion struct {
	path string
	size int64
}

// saveRegion copies the first size bytes of the device to a private file
// in Options.WorkDir. Without room there it returns nil (no rollback) and
// warns: an A/B layout (file:/dev/slot-b and switching slots only after
// success) is the alternative that needs no copy.
func (h *fileHook) saveRegion(ctx context.Context, size int64) (*savedRegion, error) {
	log := h.opts.logger().With("hook", "file", "target", h.path)
	dir := h.opts.WorkDir
	if dir == "" {
		dir = os.TempDir()
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && int64(st.Bavail)*int64(st.Bsize) < size+copyBufSize {
		log.Warn("no room to keep the overwritten region of the device: this image cannot be rolled back", "dir", dir, "need", size)
		return nil, nil
	}
	dev, err := os.Open(h.path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", h.path, err)
	}
	defer dev.Close()
	devSize, err := dev.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("sizing %s: %w", h.path, err)
	}
	if size > devSize {
		return nil, fmt.Errorf("image of %d bytes does not fit %s (%d bytes)", size, h.path, devSize)
	}
	if _, err := dev.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading %s: %w", h.path, err)
	}
	f, err := os.CreateTemp(dir, "sztp-rollback-*")
	if err != nil {
		return nil, fmt.Errorf("keeping the overwritten region for a rollback: %w", err)
	}
	r := &savedRegion{path: f.Name(), size: size}
	n, err := copyCtx(ctx, f, io.LimitReader(dev, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s ended after %d of %d bytes", h.path, n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.discard()
		return nil, fmt.Errorf("keeping the overwritten region for a rollback: %w", err)
	}
	return r, nil
}

func (r *savedRegion) restore(dev string, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		log.Warn("rolling back the image: writing back the overwritten region", "bytes", r.size)
		f, err := os.Open(r.path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := writeBlockDevice(ctx, dev, f, r.size); err != nil {
			return err
		}
		return r.discard()
	}
}

func (r *savedRegion) discard() error {
	if r == nil {
		return nil
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// resolve follows symbolic links to an existing target, so that an atomic
// replace writes the file the link points to instead of replacing the link.
func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func isBlockDevice(m fs.FileMode) bool {
	return m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0
}

// writeBlockDevice writes size bytes of src over the device at path.
func writeBlockDevice(ctx context.Context, path string, src io.ReaderAt, size int64) error {
	if size == 0 {
		return errors.New("image is empty")
	}
	// O_EXCL on a block device: EBUSY when it is mounted or otherwise
	// claimed, so a running file system is never overwritten.
	dev, err := os.OpenFile(path, os.O_WRONLY|unix.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer dev.Close()
	devSize, err := dev.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("sizing %s: %w", path, err)
	}
	if size > devSize {
		return fmt.Errorf("image of %d bytes does not fit %s (%d bytes)", size, path, devSize)
	}
	if err := writeHeaderLast(ctx, dev, src, size); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return dev.Close()
}

// syncWriterAt is a block device (or, in tests, a file).
type syncWriterAt interface {
	io.WriterAt
	Sync() error
}

// writeHeaderLast copies src to dst in place: it first zeroes the header
// area (the old image is no longer valid), then writes the body, syncs,
// writes the header and syncs again. Whatever the point of failure, dst
// never holds the new header with an incomplete body.
func writeHeaderLast(ctx context.Context, dst syncWriterAt, src io.ReaderAt, size int64) error {
	head := min(size, headerSize)
	if _, err := dst.WriteAt(make([]byte, head), 0); err != nil {
		return fmt.Errorf("invalidating header: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	body := io.NewSectionReader(src, head, size-head)
	n, err := copyCtx(ctx, io.NewOffsetWriter(dst, head), body)
	if err != nil {
		return fmt.Errorf("writing body: %w", err)
	}
	if n != size-head {
		return fmt.Errorf("writing body: image ended after %d of %d bytes", head+n, size)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	hdr := make([]byte, head)
	if _, err := src.ReadAt(hdr, 0); err != nil {
		return fmt.Errorf("reading image header: %w", err)
	}
	if _, err := dst.WriteAt(hdr, 0); err != nil {
		return fmt.Errorf("writing header: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	return nil
}

// copyCtx copies through a fixed buffer, checking ctx between chunks.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, copyBufSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// ApplyConfig atomically replaces the file (replace) or merges into it
// (merge: JSON Merge Patch onto the current JSON object; a missing or empty
// file is written as is). The undo restores the previous file, or removes
// it if there was none.
func (h *fileHook) ApplyConfig(ctx context.Context, cfg Config) (func() error, error) {
	if err := checkHandling(cfg.Handling); err != nil {
		return nil, err
	}
	target := resolve(h.path)
	log := h.opts.logger().With("hook", "file", "target", target)
	mode := fs.FileMode(0o600)
	old, err := os.ReadFile(target)
	existed := err == nil
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file hook: reading current configuration: %w", err)
	case existed:
		fi, err := os.Stat(target)
		if err != nil {
			return nil, fmt.Errorf("file hook: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("file hook: configuration target %s is not a regular file", target)
		}
		mode = fi.Mode().Perm()
	}
	data := cfg.Data
	if cfg.Handling == HandlingMerge && len(bytes.TrimSpace(old)) > 0 {
		if data, err = mergeJSON(old, cfg.Data); err != nil {
			return nil, fmt.Errorf("file hook: merge into %s: %w (use replace, or an exec hook for non-JSON configuration)", target, err)
		}
	}
	if err := atomicfile.WriteFile(target, data, mode); err != nil {
		return nil, fmt.Errorf("file hook: %w", err)
	}
	log.Info("configuration committed", "handling", cfg.Handling, "bytes", len(data))
	undo := func() error {
		log.Warn("restoring previous configuration", "existed", existed)
		if existed {
			return atomicfile.WriteFile(target, old, mode)
		}
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return atomicfile.SyncDir(filepath.Dir(target))
	}
	return undo, nil
}
