package harness

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// DHCPConfig is what dnsmasq serves on the namespace's tap device.
type DHCPConfig struct {
	// First and Last bound the address range handed out.
	First, Last netip.Addr
	// BootstrapURIs go into DHCPv4 option 143 with RFC 8572 section 8.3
	// framing. dnsmasq sends the option only to clients that ask for it in
	// their parameter request list.
	BootstrapURIs []string
	// NoPing turns off dnsmasq's check that an address is unused before
	// offering it (an ICMP echo and a 3 s wait for the reply): on the
	// test's own link no other host can hold the address.
	NoPing bool
}

// Option143 encodes URIs as the value of DHCPv4 option 143 (RFC 8572 8.3):
// each URI as a 16-bit big-endian length followed by its bytes.
func Option143(uris []string) ([]byte, error) {
	var b []byte
	for _, u := range uris {
		if len(u) == 0 || len(u) > 0xffff {
			return nil, fmt.Errorf("harness: URI %q: length %d out of range", u, len(u))
		}
		b = append(b, byte(len(u)>>8), byte(len(u)))
		b = append(b, u...)
	}
	if len(b) > 255 {
		return nil, fmt.Errorf("harness: option 143 is %d bytes, more than one DHCP option holds", len(b))
	}
	return b, nil
}

// dnsmasqHex is dnsmasq's hex notation for option data: colon-separated
// octets.
func dnsmasqHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

// StartDNSMasq runs dnsmasq in the namespace as a DHCP server only (DNS off)
// on its tap device, with its files and log in dir, and waits until it
// serves.
func StartDNSMasq(ctx context.Context, n *Netns, dir string, cfg DHCPConfig) (*Process, error) {
	opt, err := Option143(cfg.BootstrapURIs)
	if err != nil {
		return nil, err
	}
	if len(opt) == 0 {
		return nil, errors.New("harness: no bootstrap URIs for option 143")
	}
	log := filepath.Join(dir, "dnsmasq.log")
	mask := netipMask(n.Host)
	argv := n.Exec("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
		"--user=root", "--interface="+n.Tap, "--bind-interfaces", "--except-interface=lo",
		fmt.Sprintf("--dhcp-range=%s,%s,%s,10m", cfg.First, cfg.Last, mask),
		"--dhcp-option=143,"+dnsmasqHex(opt),
		"--dhcp-leasefile="+filepath.Join(dir, "dnsmasq.leases"),
		"--pid-file="+filepath.Join(dir, "dnsmasq.pid"),
		"--log-dhcp", "--log-facility="+log)
	if cfg.NoPing {
		argv = append(argv, "--no-ping")
	}
	p, err := Start("dnsmasq", filepath.Join(dir, "dnsmasq.out"), argv...)
	if err != nil {
		return nil, err
	}
	if err := WaitForLog(ctx, p, log, "DHCP, IP range", 10*time.Second); err != nil {
		p.Stop(2 * time.Second)
		return nil, err
	}
	return p, nil
}

func netipMask(p netip.Prefix) string {
	bits := p.Bits()
	var m [4]byte
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}
