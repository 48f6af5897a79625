package removable

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// blockDev is what sysfs says about one block device.
type blockDev struct {
	name string
	// removable: the disk's removable attribute is 1 (card readers, some
	// sticks); usb: its device path goes through a USB bus.
	removable, usb bool
	partition      bool
	// partitions of a whole disk, by name (sdb1, sdb2).
	partitions []string
	// size in 512-byte sectors (0: no medium, e.g. an empty card reader).
	size int64
}

// candidate reports whether auto mode reads the device: removable or on
// USB, with a medium, and not a disk whose partitions are read instead.
func (b blockDev) candidate() bool {
	return (b.removable || b.usb) && b.size > 0 && len(b.partitions) == 0
}

// scan lists the block devices of /sys/class/block, by name (os.ReadDir
// sorts).
func (cfg Config) scan() ([]blockDev, error) {
	ents, err := os.ReadDir(filepath.Join(cfg.SysDir, "class", "block"))
	if err != nil {
		return nil, err
	}
	var out []blockDev
	for _, e := range ents {
		b, err := cfg.lookup(e.Name())
		if err != nil {
			continue // gone meanwhile
		}
		out = append(out, b)
	}
	return out, nil
}

// lookup reads /sys/class/block/<name>.
func (cfg Config) lookup(name string) (blockDev, error) {
	real, err := filepath.EvalSymlinks(filepath.Join(cfg.SysDir, "class", "block", name))
	if err != nil {
		return blockDev{}, err
	}
	b := blockDev{name: name, usb: strings.Contains(real, "/usb")}
	disk := real
	if exists(filepath.Join(real, "partition")) {
		b.partition = true
		disk = filepath.Dir(real)
	} else if ents, err := os.ReadDir(real); err == nil {
		for _, e := range ents {
			if e.IsDir() && exists(filepath.Join(real, e.Name(), "partition")) {
				b.partitions = append(b.partitions, e.Name())
			}
		}
	}
	b.removable = readAttr(filepath.Join(disk, "removable")) == "1"
	b.size, _ = strconv.ParseInt(readAttr(filepath.Join(real, "size")), 10, 64)
	return b, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readAttr(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
