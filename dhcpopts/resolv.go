package dhcpopts

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sztp/sztp/internal/atomicfile"
)

// ResolvConf renders a resolv.conf from the name servers and search domains
// of leases (in lease order, duplicates dropped). It returns nil when no
// lease has a name server.
func ResolvConf(leases []Lease) []byte {
	var servers, search []string
	for _, l := range leases {
		for _, d := range l.DNS {
			servers = appendUnique(servers, d.String())
		}
		search = appendUnique(search, l.Search...)
	}
	if len(servers) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("# written by sztp from DHCP leases\n")
	if len(search) > 0 {
		b.WriteString("search")
		for _, s := range search {
			b.WriteString(" " + s)
		}
		b.WriteString("\n")
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	return b.Bytes()
}

// writeResolvConf writes path atomically when the leases carry name servers.
// A symbolic link is followed (its target is replaced), and a file that is a
// mount point (as in containers and under `ip netns exec`) is rewritten in
// place, since nothing can be renamed over it.
func writeResolvConf(path string, leases []Lease, log *slog.Logger) error {
	data := ResolvConf(leases)
	if data == nil {
		return nil
	}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	err := atomicfile.WriteFile(path, data, 0o644)
	if errors.Is(err, syscall.EBUSY) {
		err = writeInPlace(path, data)
	}
	if err != nil {
		return err
	}
	if log != nil {
		log.Info("dhcp: wrote resolver configuration", "path", path)
	}
	return nil
}

func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return f.Close()
}
