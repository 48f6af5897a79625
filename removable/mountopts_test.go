package removable

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sztp/sztp/removable/removabletest"
)

// mountInfo returns the per-mount options of dir from mountinfo ("" when
// it is not a mount point).
func mountInfo(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 5 && fs[4] == dir {
			return fs[5]
		}
	}
	return ""
}

// TestIssue11MountOptions: while the files are read, the medium is mounted
// read-only, nosuid, nodev, noexec, in a private 0700 directory; a
// directory PATH (where an automounter put the medium) is read in place.
// (A whole disk with partitions given as PATH means its partitions:
// TestScanCandidates; this build host's kernel has no partition tables.)
func TestIssue11MountOptions(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sztp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sztp", ConveyedInformationFile), []byte("ci0"), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := removabletest.Ext4(t, src, 8)
	var seen []string
	testHookMounted = func(dir string) {
		seen = append(seen, dir)
		opts := mountInfo(t, dir)
		for _, o := range []string{"ro", "nosuid", "nodev", "noexec"} {
			if !strings.Contains(","+opts+",", ","+o+",") {
				t.Errorf("mount options %q lack %s", opts, o)
			}
		}
		// The medium's top directory may be 0755: the directory
		// around the mount point keeps other users out.
		if st, err := os.Stat(filepath.Dir(dir)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("directory of the mount point %s: %v, %v; want mode 0700", dir, st.Mode(), err)
		}
	}
	defer func() { testHookMounted = nil }()
	data, err := Read(context.Background(), Config{Path: dev})
	if err != nil || len(data) != 1 || len(seen) != 1 {
		t.Fatalf("read %+v, %v; mounts seen %q", data, err, seen)
	}
	if mountInfo(t, seen[0]) != "" {
		t.Errorf("%s still mounted", seen[0])
	}

	// A directory PATH: our own read-only mount, read in place, and
	// left mounted.
	mnt := t.TempDir()
	if err := syscall.Mount(dev, mnt, "ext4", MountFlags, ""); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(mnt, 0)
	data, err = Read(context.Background(), Config{Path: mnt})
	if err != nil || len(data) != 1 || !bytes.Equal(data[0].Artifacts.ConveyedInformation, []byte("ci0")) || data[0].Medium != mnt {
		t.Fatalf("directory PATH: %+v, %v", data, err)
	}
	// The device is mounted (read-only) elsewhere: a second read-only
	// mount works and leaves the first alone.
	if _, err := Read(context.Background(), Config{Path: dev}); err != nil {
		t.Errorf("device mounted elsewhere: %v", err)
	}
	if m := removabletest.Mounts(t, dev); len(m) != 1 || m[0] != mnt {
		t.Errorf("mounts of %s: %q, want only %s", dev, m, mnt)
	}
}
