package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"
)

// Netns is a network namespace created for one test, with a tap device for
// the guest. All test traffic stays inside it.
type Netns struct {
	Name string
	Tap  string
	// Host is the address of the host side (the tap) inside the namespace.
	Host netip.Prefix
}

// DefaultHost is the host address inside test namespaces: 192.0.2.0/24 is a
// documentation range, used only inside the namespace.
var DefaultHost = netip.MustParsePrefix("192.0.2.1/24")

// NewNetns creates a namespace named prefix-<random>, brings up its loopback
// and a tap device with host address DefaultHost. On error it removes what it
// created.
func NewNetns(ctx context.Context, prefix string) (*Netns, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	suffix := hex.EncodeToString(b[:])
	n := &Netns{Name: prefix + "-" + suffix, Tap: "tap" + suffix, Host: DefaultHost}
	if _, err := run(ctx, "ip", "netns", "add", n.Name); err != nil {
		return nil, fmt.Errorf("harness: creating namespace: %w", err)
	}
	steps := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "tuntap", "add", "dev", n.Tap, "mode", "tap"},
		{"ip", "addr", "add", n.Host.String(), "dev", n.Tap},
		{"ip", "link", "set", n.Tap, "up"},
	}
	for _, s := range steps {
		if _, err := run(ctx, n.Exec(s...)...); err != nil {
			n.Close()
			return nil, fmt.Errorf("harness: setting up namespace %s: %w", n.Name, err)
		}
	}
	return n, nil
}

// Exec returns argv prefixed so that it runs inside the namespace. `ip netns
// exec` execs the program in place, so the PID of the started process is the
// program's own.
func (n *Netns) Exec(argv ...string) []string {
	return append([]string{"ip", "netns", "exec", n.Name}, argv...)
}

// Close removes the namespace (and with it the tap device). Processes still
// running in it must be stopped first.
func (n *Netns) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = run(ctx, n.Exec("ip", "tuntap", "del", "dev", n.Tap, "mode", "tap")...)
	if _, err := run(ctx, "ip", "netns", "del", n.Name); err != nil {
		return fmt.Errorf("harness: removing namespace: %w", err)
	}
	return nil
}
