package removable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Auto is the Path that watches for removable block devices.
const Auto = "auto"

// Config says where to look.
type Config struct {
	// Path is "auto", a block device (/dev/sdb, a partition /dev/sdb1; a
	// whole disk with partitions means its partitions), or a directory
	// where a medium is mounted already.
	Path string
	// SerialNumber selects sztp/<serial-number>/.
	SerialNumber string
	// Timeout bounds how long "auto" waits for a medium with data to
	// appear (0: only look at the devices present).
	Timeout time.Duration
	// PollInterval is how often "auto" looks for new devices (default
	// 250ms).
	PollInterval time.Duration
	Logger       *slog.Logger

	// SysDir, DevDir and ProcFilesystems default to /sys, /dev and
	// /proc/filesystems (tests point them elsewhere).
	SysDir, DevDir, ProcFilesystems string
}

func (c *Config) defaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SysDir == "" {
		c.SysDir = "/sys"
	}
	if c.DevDir == "" {
		c.DevDir = "/dev"
	}
	if c.ProcFilesystems == "" {
		c.ProcFilesystems = "/proc/filesystems"
	}
}

// Read returns the bootstrapping data found, device-specific directories
// before device-independent ones, media in the order found. It fails with
// the reasons when no medium yielded any.
func Read(ctx context.Context, cfg Config) ([]Data, error) {
	cfg.defaults()
	if cfg.Path == "" {
		return nil, errors.New("no removable-storage path")
	}
	if cfg.Path == Auto {
		return readAuto(ctx, cfg)
	}
	st, err := os.Stat(cfg.Path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return ReadDir(cfg.Path, cfg.SerialNumber, warner(cfg, cfg.Path))
	case st.Mode().Type() == os.ModeDevice:
		devs := cfg.partitionsOf(cfg.Path)
		var out []Data
		var errs []error
		for _, dev := range devs {
			d, err := cfg.readDevice(dev)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, d...)
		}
		if len(out) == 0 {
			return nil, errors.Join(errs...)
		}
		return sortData(out), nil
	}
	return nil, fmt.Errorf("%s: neither a block device nor a directory", cfg.Path)
}

func warner(cfg Config, medium string) func(string, error) {
	return func(dir string, err error) {
		cfg.Logger.Warn("removable storage: refusing a directory", "medium", medium, "dir", dir, "err", err)
	}
}

// testHookMounted, when set by a test, sees the mount point while the
// medium is mounted.
var testHookMounted func(dir string)

// readDevice mounts dev, reads its layout and unmounts it (also when
// reading failed).
func (cfg Config) readDevice(dev string) (data []Data, err error) {
	pf, _ := os.ReadFile(cfg.ProcFilesystems)
	m, err := mountDevice(dev, Filesystems(pf))
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("removable storage mounted read-only", "device", dev, "fstype", m.fstype, "dir", m.dir)
	if testHookMounted != nil {
		testHookMounted(m.dir)
	}
	defer func() {
		if uerr := m.unmount(); uerr != nil {
			cfg.Logger.Error("removable storage: unmount failed", "device", dev, "err", uerr)
			err = errors.Join(err, uerr)
			data = nil
		} else {
			cfg.Logger.Debug("removable storage unmounted", "device", dev)
		}
	}()
	data, err = ReadDir(m.dir, cfg.SerialNumber, warner(cfg, dev))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", dev, m.fstype, err)
	}
	for i := range data {
		data[i].Medium = dev
	}
	return data, nil
}

// partitionsOf returns the partitions of a whole disk, or dev itself (a
// partition, or a disk without a partition table).
func (cfg Config) partitionsOf(dev string) []string {
	name := filepath.Base(dev)
	if real, err := filepath.EvalSymlinks(dev); err == nil {
		name = filepath.Base(real) // /dev/disk/by-id/... -> sdb
	}
	b, err := cfg.lookup(name)
	if err != nil || len(b.partitions) == 0 {
		return []string{dev}
	}
	out := make([]string, len(b.partitions))
	for i, p := range b.partitions {
		out[i] = filepath.Join(cfg.DevDir, p)
	}
	return out
}

// sortData puts device-specific data first, keeping the order otherwise.
func sortData(d []Data) []Data {
	out := make([]Data, 0, len(d))
	for _, specific := range []bool{true, false} {
		for _, x := range d {
			if x.DeviceSpecific == specific {
				out = append(out, x)
			}
		}
	}
	return out
}

// readAuto reads every removable or USB block device present, and those
// that appear until the timeout, until one yields data.
func readAuto(ctx context.Context, cfg Config) ([]Data, error) {
	var deadline <-chan time.Time
	if cfg.Timeout > 0 {
		t := time.NewTimer(cfg.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	tried := map[string]bool{}
	var errs []error
	tick := time.NewTicker(cfg.PollInterval)
	defer tick.Stop()
	for {
		devs, err := cfg.scan()
		if err != nil {
			return nil, err
		}
		var out []Data
		for _, b := range devs {
			if tried[b.name] || !b.candidate() {
				continue
			}
			tried[b.name] = true
			dev := filepath.Join(cfg.DevDir, b.name)
			cfg.Logger.Info("removable storage: looking at a block device", "device", dev, "removable", b.removable, "usb", b.usb)
			d, err := cfg.readDevice(dev)
			if err != nil {
				cfg.Logger.Info("removable storage: no usable data", "device", dev, "err", err)
				errs = append(errs, err)
				continue
			}
			out = append(out, d...)
		}
		if len(out) > 0 {
			return sortData(out), nil
		}
		if cfg.Timeout <= 0 {
			return nil, noMedium(tried, errs, 0)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, noMedium(tried, errs, cfg.Timeout)
		case <-tick.C:
		}
	}
}

func noMedium(tried map[string]bool, errs []error, waited time.Duration) error {
	names := make([]string, 0, len(tried))
	for n := range tried {
		names = append(names, n)
	}
	slices.Sort(names)
	msg := "no removable storage with SZTP data"
	if waited > 0 {
		msg += fmt.Sprintf(" appeared within %s", waited)
	}
	if len(names) == 0 {
		return errors.New(msg + " (no removable or USB block device found)")
	}
	return fmt.Errorf("%s (looked at %s): %w", msg, strings.Join(names, ", "), errors.Join(errs...))
}
