package dhcpopts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	"github.com/sztp/sztp/dhcpopts/internal/rtnl"
	"golang.org/x/sys/unix"
)

// Discover runs DHCPv4 and DHCPv6 on the configured links in parallel,
// asking for option 143 / 136 (C85), and returns every lease it got, those
// without SZTP URIs included (their Warnings say so), ordered by link (in the
// order given, or the kernel's) and IPv4 before IPv6. It renews nothing and
// returns when every exchange has answered or given up. It fails with
// ErrNoLease only when no exchange produced a lease.
func Discover(ctx context.Context, cfg Config) ([]Lease, error) {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if err := waitRandom(ctx, log); err != nil {
		return nil, err
	}
	names := cfg.Interfaces
	if len(names) == 0 {
		var err error
		if names, err = Links(); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: no usable links (need a non-loopback link with a hardware address)", ErrNoLease)
		}
	}
	type result struct {
		done  bool
		lease Lease
		err   error
	}
	// Slot 2i holds link i's IPv4 result, 2i+1 its IPv6 result; each is
	// written by one goroutine only.
	results := make([]result, 2*len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ifi, err := prepareLink(ctx, cfg, name)
			if err != nil {
				results[2*i] = result{done: true, err: err}
				return
			}
			var fw sync.WaitGroup
			if cfg.IPv4 {
				fw.Add(1)
				go func() {
					defer fw.Done()
					l, err := discover4(ctx, cfg, ifi)
					results[2*i] = result{done: true, lease: l, err: err}
				}()
			}
			if cfg.IPv6 {
				fw.Add(1)
				go func() {
					defer fw.Done()
					l, err := discover6(ctx, cfg, ifi)
					results[2*i+1] = result{done: true, lease: l, err: err}
				}()
			}
			fw.Wait()
		}()
	}
	wg.Wait()

	var leases []Lease
	var errs []error
	for _, r := range results {
		if !r.done {
			continue
		}
		if r.err != nil {
			errs = append(errs, r.err)
			log.Info("dhcp: no lease", "err", r.err)
			continue
		}
		l := r.lease
		for _, w := range l.Warnings {
			log.Warn("dhcp: "+w, "interface", l.Interface, "family", l.Family)
		}
		log.Info("dhcp: lease", "interface", l.Interface, "family", l.Family, "address", l.Address, "uris", l.URIs)
		leases = append(leases, l)
	}
	if len(leases) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoLease, errors.Join(errs...))
	}
	if cfg.Configure {
		if err := writeResolvConf(cfg.ResolvConf, leases, log); err != nil {
			log.Warn("dhcp: writing resolver configuration", "err", err)
		}
	}
	return leases, nil
}

// waitRandom returns once the kernel's random number generator is ready, or
// fails when ctx ends first. The DHCP library draws transaction IDs from
// crypto/rand, which blocks (beyond any timeout) until then; early in boot,
// on hardware without an RNG, that can take minutes.
func waitRandom(ctx context.Context, log *slog.Logger) error {
	buf := make([]byte, 1)
	logged := false
	for {
		_, err := unix.Getrandom(buf, unix.GRND_NONBLOCK)
		if err == nil || !errors.Is(err, unix.EAGAIN) {
			// ENOSYS (kernels before 3.17) and the like: nothing to wait for here.
			return nil
		}
		if !logged {
			log.Warn("dhcp: waiting for the kernel random number generator to initialise (add a hardware RNG, e.g. virtio-rng or -cpu max in QEMU)")
			logged = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kernel random number generator not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// prepareLink brings the link up and waits for carrier.
func prepareLink(ctx context.Context, cfg Config, name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		cfg.Logger.Info("dhcp: bringing link up", "interface", name)
		if err := rtnl.LinkUp(ifi.Index); err != nil {
			return nil, fmt.Errorf("link %s: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.LinkTimeout)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if ifi, err = net.InterfaceByName(name); err != nil {
			return nil, fmt.Errorf("link %s: %w", name, err)
		}
		if ifi.Flags&net.FlagRunning != 0 {
			return ifi, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("link %s: no carrier after %s: %w", name, cfg.LinkTimeout, ctx.Err())
		case <-t.C:
		}
	}
}

// recorder keeps the raw DHCPv4 replies, so that option 143 can be read
// with RFC 3396 option overload, which the decoded message loses.
type recorder struct {
	net.PacketConn
	mu      sync.Mutex
	packets [][]byte
}

func (r *recorder) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := r.PacketConn.ReadFrom(b)
	if err == nil && n > 0 {
		r.mu.Lock()
		if len(r.packets) == 16 {
			r.packets = r.packets[1:]
		}
		r.packets = append(r.packets, append([]byte(nil), b[:n]...))
		r.mu.Unlock()
	}
	return n, a, err
}

// find returns the last recorded ACK with the transaction ID.
func (r *recorder) find(xid dhcpv4.TransactionID) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.packets) - 1; i >= 0; i-- {
		m, err := dhcpv4.FromBytes(r.packets[i])
		if err == nil && m.TransactionID == xid && m.MessageType() == dhcpv4.MessageTypeAck {
			return r.packets[i]
		}
	}
	return nil
}

type logAdapter struct {
	log    *slog.Logger
	family string
}

func (a logAdapter) Printf(format string, v ...any) {
	a.log.Debug(fmt.Sprintf(format, v...), "family", a.family)
}

func (a logAdapter) PrintMessage(prefix string, m *dhcpv4.DHCPv4) {
	a.log.Debug("dhcp: "+prefix, "family", a.family, "message", m.String())
}

func discover4(ctx context.Context, cfg Config, ifi *net.Interface) (Lease, error) {
	conn, err := nclient4.NewRawUDPConn(ifi.Name, nclient4.ClientPort)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv4 on %s: %w", ifi.Name, err)
	}
	rec := &recorder{PacketConn: conn}
	c, err := nclient4.NewWithConn(rec, ifi.HardwareAddr,
		nclient4.WithTimeout(cfg.Timeout), nclient4.WithRetry(cfg.Retries),
		nclient4.WithLogger(logAdapter{cfg.Logger, FamilyIPv4}))
	if err != nil {
		conn.Close()
		return Lease{}, fmt.Errorf("dhcpv4 on %s: %w", ifi.Name, err)
	}
	defer c.Close()
	cfg.Logger.Debug("dhcp: discover", "interface", ifi.Name, "family", FamilyIPv4)
	nl, err := c.Request(ctx, RequestV4())
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv4 on %s: %w", ifi.Name, err)
	}
	l := LeaseFromV4(nl.ACK, rec.find(nl.ACK.TransactionID))
	l.Interface, l.Source = ifi.Name, "dhcp"
	if cfg.Configure {
		// A lease that cannot be applied still names the servers; the
		// warning says why they may be unreachable.
		if err := configure4(ifi.Index, l); err != nil {
			l.Warnings = append(l.Warnings, fmt.Sprintf("configuring the lease: %v", err))
		} else {
			l.Configured = true
			cfg.Logger.Info("dhcp: configured", "interface", ifi.Name, "address", l.Address, "routers", l.Routers, "routes", len(l.Routes))
		}
	}
	return l, nil
}

// linkLocalConn opens the DHCPv6 client socket on the link-local address,
// retrying while the address is missing or still tentative.
func linkLocalConn(ctx context.Context, cfg Config, name string) (net.PacketConn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.LinkTimeout)
	defer cancel()
	for {
		conn, err := nclient6.NewIPv6UDPConn(name, dhcpv6.DefaultClientPort)
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no usable link-local address after %s: %w", cfg.LinkTimeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func discover6(ctx context.Context, cfg Config, ifi *net.Interface) (Lease, error) {
	conn, err := linkLocalConn(ctx, cfg, ifi.Name)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
	c, err := nclient6.NewWithConn(conn, ifi.HardwareAddr,
		nclient6.WithTimeout(cfg.Timeout), nclient6.WithRetry(cfg.Retries))
	if err != nil {
		conn.Close()
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
	defer c.Close()
	cfg.Logger.Debug("dhcp: solicit", "interface", ifi.Name, "family", FamilyIPv6)
	reply, err := c.RapidSolicit(ctx, RequestV6())
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
	l := LeaseFromV6(reply)
	l.Interface, l.Source = ifi.Name, "dhcp"
	if cfg.Configure && l.Address.IsValid() {
		if err := rtnl.AddAddr(ifi.Index, l.Address, netip.Addr{}); err != nil {
			l.Warnings = append(l.Warnings, fmt.Sprintf("configuring the lease: %v", err))
		} else {
			l.Configured = true
			cfg.Logger.Info("dhcp: configured", "interface", ifi.Name, "address", l.Address)
		}
	}
	return l, nil
}

// configure4 applies an IPv4 lease: the address, then the classless static
// routes, or, without them, a default route through the first router
// (RFC 3442 §1).
func configure4(ifindex int, l Lease) error {
	if !l.Address.IsValid() {
		return errors.New("the lease has no address")
	}
	brd := l.Broadcast
	if !brd.IsValid() && l.Address.Bits() < 31 {
		b := l.Address.Masked().Addr().As4()
		host := ^uint32(0) >> l.Address.Bits()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
		brd = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	if err := rtnl.AddAddr(ifindex, l.Address, brd); err != nil {
		return err
	}
	routes := l.Routes
	if len(routes) == 0 && len(l.Routers) > 0 {
		routes = []Route{{Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: l.Routers[0]}}
	}
	for _, r := range routes {
		gw := r.Gateway
		if gw.IsValid() && gw.IsUnspecified() {
			gw = netip.Addr{}
		}
		if gw.IsValid() && !l.Address.Masked().Contains(gw) {
			// A router outside the leased subnet must first be made
			// reachable on the link.
			if err := rtnl.AddRoute(ifindex, netip.PrefixFrom(gw, 32), netip.Addr{}); err != nil {
				return err
			}
		}
		if err := rtnl.AddRoute(ifindex, r.Dst, gw); err != nil {
			return err
		}
	}
	return nil
}
