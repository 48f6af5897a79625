package removabletest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/testenv"
)

// Ext4 builds an ext4 image of the tree under src (symlinks kept as they
// are) and attaches it read-only to a free loop device, which it returns;
// the device is detached at cleanup. It needs root, mkfs.ext4 and losetup
// (a missing one fails under SZTP_REQUIRE_INTEGRATION=1).
func Ext4(t testing.TB, src string, sizeMiB int) string {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommands(t, "mkfs.ext4", "losetup")
	img := filepath.Join(t.TempDir(), "stick.img")
	run(t, "mkfs.ext4", "-q", "-F", "-d", src, "-L", "SZTP", img, fmt.Sprintf("%dM", sizeMiB))
	return Attach(t, img)
}

// Attach attaches img read-only to a free loop device and detaches it at
// cleanup.
func Attach(t testing.TB, img string) string {
	t.Helper()
	return attach(t, img)
}

func attach(t testing.TB, img string, extra ...string) string {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommands(t, "losetup")
	dev := strings.TrimSpace(run(t, append([]string{"losetup", "--find", "--show", "--read-only"}, append(extra, img)...)...))
	if !strings.HasPrefix(dev, "/dev/loop") {
		t.Fatalf("losetup printed %q", dev)
	}
	t.Cleanup(func() {
		// A lingering mount would make the detach lazy; the tests check
		// mountinfo themselves, so only report a failed detach.
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

func run(t testing.TB, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// Mounts returns the mount points of /proc/self/mountinfo whose device is
// dev (by major:minor, so a mount under another source name counts too).
func Mounts(t testing.TB, dev string) []string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d:%d", unixMajor(st.Rdev), unixMinor(st.Rdev))
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 7:0 / /mnt rw,... - ext4 /dev/loop0 ro
		fs := strings.Fields(sc.Text())
		if len(fs) > 4 && fs[2] == want {
			out = append(out, fs[4])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func unixMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func unixMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// TempMounts lists leftover mount directories of the removable package
// (sztp-removable-*) in dir, the TMPDIR of the code under test.
func TempMounts(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "sztp-removable-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
