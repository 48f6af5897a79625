package dhcpopts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sztp/sztp/dhcpopts/internal/rtnl"
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
		if cfg.TextURIs {
			l = l.WithTextURIs()
		}
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

func discover4(ctx context.Context, cfg Config, ifi *net.Interface) (Lease, error) {
	ack, err := dora(ctx, cfg, ifi)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv4 on %s: %w", ifi.Name, err)
	}
	l, err := LeaseFromV4Packet(ack)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv4 on %s: %w", ifi.Name, err)
	}
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
func linkLocalConn(ctx context.Context, cfg Config, ifi *net.Interface) (*net.UDPConn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.LinkTimeout)
	defer cancel()
	for {
		err := errors.New("no IPv6 link-local address")
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() != nil || !ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			var conn *net.UDPConn
			conn, err = net.ListenUDP("udp6", &net.UDPAddr{IP: ipn.IP, Port: 546, Zone: ifi.Name})
			if err == nil {
				return conn, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no usable link-local address after %s: %w", cfg.LinkTimeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func discover6(ctx context.Context, cfg Config, ifi *net.Interface) (Lease, error) {
	conn, err := linkLocalConn(ctx, cfg, ifi)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
	defer conn.Close()
	reply, err := solicit(ctx, cfg, ifi, conn, cfg.Logger.With("interface", ifi.Name, "family", FamilyIPv6))
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
	l, err := LeaseFromV6Packet(reply)
	if err != nil {
		return Lease{}, fmt.Errorf("dhcpv6 on %s: %w", ifi.Name, err)
	}
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
