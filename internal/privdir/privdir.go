package privdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotPrivate: the directory is owned by another user or writable by
// group or others.
var ErrNotPrivate = errors.New("directory is not private")

// Ensure creates dir (0700, with its parents) when missing and checks it:
// a directory (a symbolic link to one is accepted only when followLink is
// set, for a configured path such as a state directory on /persist), owned
// by the effective user, not writable by group or others. A directory that
// passes but is readable by others is tightened to 0700.
func Ensure(dir string, followLink bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	stat := os.Lstat
	if followLink {
		stat = os.Stat
	}
	fi, err := stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symbolic link", ErrNotPrivate, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := check(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

func check(dir string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this agent's user (uid %d)", ErrNotPrivate, dir, st.Uid, os.Geteuid())
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o); make it 0700", ErrNotPrivate, dir, m)
	}
	return nil
}

// OwnFile reports why an open file may not be trusted as one the agent
// wrote itself, or nil: it must be a regular file owned by the effective
// user, without group or other access, with exactly one link (a hard link
// to another file would let its owner change what we read).
func OwnFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%v)", f.Name(), fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", f.Name())
	}
	switch {
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s is owned by uid %d, not by this agent's user (uid %d)", f.Name(), st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s has group or other access (mode %04o)", f.Name(), fi.Mode().Perm())
	case st.Nlink != 1:
		return fmt.Errorf("%s has %d links", f.Name(), st.Nlink)
	}
	return nil
}
