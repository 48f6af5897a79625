package removable

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// MountFlags are the flags of every mount: nothing on the medium can be
// written, executed, used as a device node or gain privileges.
const MountFlags = syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

// preferred are tried first, in this order, and always (the kernel may
// load their modules on demand): RFC 8572 4.1 recommends open, standard
// filesystems.
var preferred = []string{"vfat", "exfat", "ext4", "iso9660", "udf", "ntfs3", "btrfs", "xfs", "f2fs", "squashfs", "erofs"}

// skipped are block filesystems that cannot be mounted from a device alone.
var skipped = map[string]bool{"fuseblk": true}

// Filesystems returns the filesystem types to try, from the contents of
// /proc/filesystems: the preferred ones first, then the kernel's other
// block (not nodev) filesystems in its order.
func Filesystems(procFilesystems []byte) []string {
	var kernel []string
	sc := bufio.NewScanner(bytes.NewReader(procFilesystems))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 1 || skipped[f[0]] {
			continue // "nodev <name>" or junk
		}
		kernel = append(kernel, f[0])
	}
	out := slices.Clone(preferred[:4])
	for _, p := range preferred[4:] {
		if slices.Contains(kernel, p) {
			out = append(out, p)
		}
	}
	for _, k := range kernel {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// mounted is a medium mounted in a private directory.
type mounted struct {
	dev, dir, fstype string
}

// mountDevice mounts dev read-only, nosuid, nodev, noexec on a directory
// inside a new private one (mode 0700: the medium's own top directory,
// which covers the mount point, may be open to all), trying each filesystem
// type in turn.
func mountDevice(dev string, fstypes []string) (*mounted, error) {
	private, err := os.MkdirTemp("", "sztp-removable-*") // mode 0700
	if err != nil {
		return nil, fmt.Errorf("mount point: %w", err)
	}
	dir := filepath.Join(private, "medium")
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.Remove(private)
		return nil, fmt.Errorf("mount point: %w", err)
	}
	var errs []string
	for _, fs := range fstypes {
		err := syscall.Mount(dev, dir, fs, MountFlags, "")
		if err == nil {
			return &mounted{dev: dev, dir: dir, fstype: fs}, nil
		}
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTBLK) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			// Not a (usable) block device, or not allowed: no other
			// filesystem type will do better.
			removeMountPoint(dir)
			return nil, fmt.Errorf("mounting %s: %w", dev, err)
		}
		errs = append(errs, fs+": "+err.Error())
	}
	removeMountPoint(dir)
	return nil, fmt.Errorf("mounting %s read-only: no filesystem type worked (%s)", dev, strings.Join(errs, "; "))
}

// unmount unmounts m and removes its directory. A busy mount (a reader
// that has not closed yet) is retried briefly, then detached lazily so that
// nothing stays mounted.
func (m *mounted) unmount() error {
	var err error
	for i := 0; i < 10; i++ {
		if err = syscall.Unmount(m.dir, 0); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errors.Is(err, syscall.EBUSY) {
		err = syscall.Unmount(m.dir, syscall.MNT_DETACH)
	}
	if err != nil {
		return fmt.Errorf("unmounting %s from %s: %w", m.dev, m.dir, err)
	}
	// Remove, not RemoveAll: nothing here may ever walk the medium.
	if err := errors.Join(os.Remove(m.dir), os.Remove(filepath.Dir(m.dir))); err != nil {
		return fmt.Errorf("removing the mount point: %w", err)
	}
	return nil
}

func removeMountPoint(dir string) {
	os.Remove(dir)
	os.Remove(filepath.Dir(dir))
}
