package dnssrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// mDNS groups and port (RFC 6762 3).
var (
	mdnsV4 = netip.MustParseAddr("224.0.0.251")
	mdnsV6 = netip.MustParseAddr("ff02::fb")
)

const mdnsPort = 5353

// mdnsLinks returns the links mDNS is asked on: the configured ones, or every
// link that is up, not loopback, and multicast capable.
func (l *lookup) mdnsLinks() ([]net.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	var out []net.Interface
	for _, ifi := range ifs {
		if len(l.cfg.Interfaces) > 0 {
			if slices.Contains(l.cfg.Interfaces, ifi.Name) {
				out = append(out, ifi)
			}
			continue
		}
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 && ifi.Flags&net.FlagMulticast != 0 {
			out = append(out, ifi)
		}
	}
	return out, nil
}

// mdns asks every link, over IPv4 and IPv6, with a one-shot query from an
// ephemeral port with the QU bit set (RFC 6762 5.1, 5.4), so responders
// answer by unicast to that port. The first response that has records of
// name and type wins; the others are cancelled.
func (l *lookup) mdns(ctx context.Context, name dnsmessage.Name, typ dnsmessage.Type) (answer, string, error) {
	links, err := l.mdnsLinks()
	if err != nil {
		return answer{}, "", err
	}
	if len(links) == 0 {
		return answer{}, "", errors.New("no multicast link is up")
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.MDNSTimeout)
	defer cancel()
	type result struct {
		a    answer
		link string
		err  error
	}
	ch := make(chan result, 2*len(links))
	n := 0
	for _, ifi := range links {
		for _, group := range []netip.Addr{mdnsV4, mdnsV6} {
			n++
			go func() {
				a, err := l.mdnsLink(ctx, ifi, group, name, typ)
				ch <- result{a, ifi.Name, err}
			}()
		}
	}
	var errs []error
	for range n {
		r := <-ch
		if r.err == nil && !r.a.empty() {
			cancel()
			return r.a, r.link, nil
		}
		if r.err != nil && !errors.Is(r.err, context.DeadlineExceeded) && !errors.Is(r.err, context.Canceled) && !errors.Is(r.err, errMDNSTimeout) {
			errs = append(errs, fmt.Errorf("%s: %w", r.link, r.err))
		}
	}
	if len(errs) > 0 {
		l.log.Debug("dns: multicast query failed on some links", "name", name.String(), "err", errors.Join(errs...))
	}
	return answer{}, "", ErrNoRecords
}

var errMDNSTimeout = errors.New("no multicast DNS answer")

func (l *lookup) mdnsLink(ctx context.Context, ifi net.Interface, group netip.Addr, name dnsmessage.Name, typ dnsmessage.Type) (answer, error) {
	network, laddr := "udp4", &net.UDPAddr{IP: net.IPv4zero}
	dst := netip.AddrPortFrom(group, mdnsPort)
	if group.Is6() {
		network, laddr = "udp6", &net.UDPAddr{IP: net.IPv6unspecified}
		dst = netip.AddrPortFrom(group.WithZone(ifi.Name), mdnsPort)
	}
	conn, err := net.ListenUDP(network, laddr)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	if err := setMulticastIf(conn, ifi, group.Is6()); err != nil {
		return answer{}, err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	id := newID()
	q, err := buildQuery(id, name, typ, false, false, true)
	if err != nil {
		return answer{}, err
	}
	if _, err := conn.WriteToUDPAddrPort(q, dst); err != nil {
		return answer{}, err
	}
	buf := make([]byte, MaxMDNSMessage)
	for {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, errMDNSTimeout
			}
			return answer{}, err
		}
		a, err := parseResponse(buf[:n], id, name, typ, true)
		if err != nil || a.empty() {
			continue // another responder's answer, or none of ours
		}
		return a, nil
	}
}
