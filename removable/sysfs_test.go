package removable

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSys builds a sysfs tree: devices (path under devices/ -> attributes)
// and class/block links to them.
type fakeSys struct {
	t    *testing.T
	root string
}

func newFakeSys(t *testing.T) *fakeSys {
	s := &fakeSys{t: t, root: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(s.root, "class", "block"), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// add creates devices/<path> with attrs and links class/block/<base> to it.
func (s *fakeSys) add(path string, attrs map[string]string) {
	dir := filepath.Join(s.root, "devices", path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for k, v := range attrs {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v+"\n"), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	rel, _ := filepath.Rel(filepath.Join(s.root, "class", "block"), dir)
	if err := os.Symlink(rel, filepath.Join(s.root, "class", "block", filepath.Base(path))); err != nil {
		s.t.Fatal(err)
	}
}

const usbDisk = "pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0/host0/target0:0:0/0:0:0:0/block/sda"

func machine(t *testing.T) *fakeSys {
	s := newFakeSys(t)
	// A USB stick with one partition (removable attribute 0, as QEMU's
	// usb-storage and many sticks report).
	s.add(usbDisk, map[string]string{"removable": "0", "size": "65536"})
	s.add(usbDisk+"/sda1", map[string]string{"partition": "1", "size": "65000"})
	// The internal SATA disk, a loop device: not removable, not USB.
	s.add("pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:0/block/sdb", map[string]string{"removable": "0", "size": "1000000"})
	s.add("virtual/block/loop0", map[string]string{"removable": "0", "size": "2048"})
	// An empty card reader slot, and a card in another one.
	s.add("platform/sdhci/mmc_host/mmc0/block/mmcblk0", map[string]string{"removable": "1", "size": "0"})
	s.add("pci0000:00/0000:00:05.0/host2/target2:0:0/2:0:0:0/block/sdc", map[string]string{"removable": "1", "size": "4096"})
	return s
}

func TestScanCandidates(t *testing.T) {
	s := machine(t)
	cfg := Config{SysDir: s.root, DevDir: "/dev"}
	devs, err := cfg.scan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range devs {
		if b.candidate() {
			got = append(got, b.name)
		}
	}
	if want := []string{"sda1", "sdc"}; !slices.Equal(got, want) {
		t.Errorf("candidates %q, want %q (devices %+v)", got, want, devs)
	}
	for _, tc := range []struct{ dev, want string }{
		{"/dev/sda", "/dev/sda1"}, // a disk with partitions: its partitions
		{"/dev/sda1", "/dev/sda1"},
		{"/dev/sdc", "/dev/sdc"}, // a superfloppy: the disk itself
		{"/dev/unknown", "/dev/unknown"},
	} {
		if got := cfg.partitionsOf(tc.dev); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("partitionsOf(%s) = %q, want %s", tc.dev, got, tc.want)
		}
	}
}

// TestAutoWaitsForNewDevices: auto mode looks at the removable devices
// present, then at one that appears while it waits, and says what it
// looked at when the timeout ends. (The device nodes do not exist here, so
// every mount fails; the real mounts are in the integration tests and the
// QEMU scenario.)
func TestAutoWaitsForNewDevices(t *testing.T) {
	s := machine(t)
	dev := t.TempDir()
	cfg := Config{Path: Auto, SysDir: s.root, DevDir: dev, PollInterval: 20 * time.Millisecond}
	_, err := Read(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "looked at sda1, sdc") {
		t.Fatalf("no wait: %v", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.add("pci0000:00/0000:00:04.0/usb2/2-1/2-1:1.0/host3/target3:0:0/3:0:0:0/block/sdd", map[string]string{"removable": "0", "size": "2048"})
	}()
	cfg.Timeout = time.Second
	_, err = Read(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "looked at sda1, sdc, sdd") || !strings.Contains(err.Error(), "within 1s") {
		t.Fatalf("with a device appearing: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, cfg); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
	empty := newFakeSys(t)
	_, err = Read(context.Background(), Config{Path: Auto, SysDir: empty.root})
	if err == nil || !strings.Contains(err.Error(), "no removable or USB block device") {
		t.Errorf("no devices: %v", err)
	}
}
