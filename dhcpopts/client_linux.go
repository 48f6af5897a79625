package dhcpopts

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// errNoReply is returned when an exchange got no matching reply within its
// retries.
var errNoReply = errors.New("no reply")

// exchange sends msg (rebuilt by build for every attempt, so that the
// elapsed time is current) and waits for a reply accepted by match. The
// wait starts at timeout and doubles per attempt, retries attempts in all,
// always bounded by ctx.
func exchange(ctx context.Context, timeout time.Duration, retries int,
	send func(attempt int) error, recv func(deadline time.Time) ([]byte, error), match func([]byte) bool) ([]byte, error) {
	wait := timeout
	for attempt := 0; attempt < retries; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := send(attempt); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		for {
			// Wait in short slices so that a cancelled ctx (SIGTERM)
			// ends the exchange promptly.
			slice := time.Now().Add(250 * time.Millisecond)
			if deadline.Before(slice) {
				slice = deadline
			}
			b, err := recv(slice)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if time.Now().Before(deadline) {
					continue
				}
				break
			}
			if err != nil {
				return nil, err
			}
			if match(b) {
				return b, nil
			}
		}
		wait *= 2
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, errNoReply
}

// rawConn4 sends and receives DHCPv4 over an AF_PACKET socket, so that it
// works before the link has an address and whatever else holds UDP port 68.
type rawConn4 struct {
	fd      int
	ifindex int
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openRaw4(ifindex int) (*rawConn4, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding packet socket: %w", err)
	}
	return &rawConn4{fd: fd, ifindex: ifindex}, nil
}

func (c *rawConn4) Close() error { return unix.Close(c.fd) }

func checksum(b []byte, sum uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// send broadcasts payload from 0.0.0.0:68 to 255.255.255.255:67.
func (c *rawConn4) send(payload []byte) error {
	const ipLen, udpLen = 20, 8
	p := make([]byte, ipLen+udpLen+len(payload))
	p[0] = 0x45 // IPv4, 5-word header
	p[1] = 0x10 // low delay
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64 // TTL
	p[9] = unix.IPPROTO_UDP
	copy(p[16:20], []byte{255, 255, 255, 255})
	binary.BigEndian.PutUint16(p[10:], checksum(p[:ipLen], 0))
	u := p[ipLen:]
	binary.BigEndian.PutUint16(u[0:], 68)
	binary.BigEndian.PutUint16(u[2:], 67)
	binary.BigEndian.PutUint16(u[4:], uint16(udpLen+len(payload)))
	copy(u[udpLen:], payload)
	// Pseudo header: source 0, destination 255.255.255.255, protocol, length.
	pseudo := uint32(0xffff+0xffff) + unix.IPPROTO_UDP + uint32(udpLen+len(payload))
	cs := checksum(u, pseudo)
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], cs)
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: c.ifindex, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	if err := unix.Sendto(c.fd, p, 0, to); err != nil {
		return fmt.Errorf("sending dhcpv4: %w", err)
	}
	return nil
}

// recv returns the payload of the next UDP datagram to port 68, or
// os.ErrDeadlineExceeded.
func (c *rawConn4) recv(deadline time.Time) ([]byte, error) {
	buf := make([]byte, 4096)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return nil, os.ErrDeadlineExceeded
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, min(ms, 200))
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll: %w", err)
		}
		n, _, err = unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receiving dhcpv4: %w", err)
		}
		p := buf[:n]
		if len(p) < 20 || p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP {
			continue
		}
		ihl := int(p[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(p[2:]))
		if ihl < 20 || total > len(p) || total < ihl+8 || binary.BigEndian.Uint16(p[6:])&0x3fff != 0 {
			continue // short, or a fragment
		}
		u := p[ihl:total]
		if binary.BigEndian.Uint16(u[2:]) != 68 {
			continue
		}
		ulen := int(binary.BigEndian.Uint16(u[4:]))
		if ulen < 8 || ulen > len(u) {
			continue
		}
		return append([]byte(nil), u[8:ulen]...), nil
	}
}

// dora runs DISCOVER, OFFER, REQUEST, ACK on the link and returns the raw
// ACK.
func dora(ctx context.Context, cfg Config, ifi *net.Interface) ([]byte, error) {
	c, err := openRaw4(ifi.Index)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	xid := rand.Uint32()
	start := time.Now()
	secs := func() uint16 { return uint16(min(time.Since(start)/time.Second, 0xffff)) }
	log := cfg.Logger.With("interface", ifi.Name, "family", FamilyIPv4)
	var offer *msg4
	_, err = exchange(ctx, cfg.Timeout, cfg.Retries,
		func(attempt int) error {
			log.Debug("dhcp: DISCOVER", "xid", xid, "attempt", attempt+1)
			return c.send(discover4Msg(xid, secs(), ifi.HardwareAddr))
		},
		c.recv,
		func(b []byte) bool {
			m, err := parseMsg4(b)
			if err != nil || m.op != 2 || m.xid != xid || m.typ() != dhcpOffer || m.yiaddr.IsUnspecified() {
				return false
			}
			offer = m
			return true
		})
	if err != nil {
		return nil, fmt.Errorf("no offer: %w", err)
	}
	log.Debug("dhcp: OFFER", "address", offer.yiaddr, "server", offer.addr(opt4ServerID))
	var nak bool
	ack, err := exchange(ctx, cfg.Timeout, cfg.Retries,
		func(attempt int) error {
			log.Debug("dhcp: REQUEST", "xid", xid, "attempt", attempt+1)
			return c.send(request4Msg(xid, secs(), ifi.HardwareAddr, offer))
		},
		c.recv,
		func(b []byte) bool {
			m, err := parseMsg4(b)
			if err != nil || m.op != 2 || m.xid != xid {
				return false
			}
			if sid := offer.addr(opt4ServerID); sid.IsValid() && m.addr(opt4ServerID) != sid {
				return false
			}
			switch m.typ() {
			case dhcpAck:
				return true
			case dhcpNak:
				nak = true
				return true
			}
			return false
		})
	if err != nil {
		return nil, fmt.Errorf("no ack: %w", err)
	}
	if nak {
		return nil, errors.New("the server refused the request (DHCPNAK)")
	}
	return ack, nil
}

// solicit runs SOLICIT (with rapid commit), ADVERTISE, REQUEST, REPLY on
// the link and returns the raw REPLY.
func solicit(ctx context.Context, cfg Config, ifi *net.Interface, conn *net.UDPConn, log *slog.Logger) ([]byte, error) {
	var xid [3]byte
	binary.BigEndian.PutUint16(xid[1:], uint16(rand.Uint32()))
	xid[0] = byte(rand.Uint32())
	start := time.Now()
	elapsed := func() uint16 { return uint16(min(time.Since(start)/(10*time.Millisecond), 0xffff)) }
	dst := &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547, Zone: ifi.Name}
	send := func(b []byte) error {
		if _, err := conn.WriteToUDP(b, dst); err != nil {
			return fmt.Errorf("sending dhcpv6: %w", err)
		}
		return nil
	}
	buf := make([]byte, 65536)
	recv := func(deadline time.Time) ([]byte, error) {
		conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), buf[:n]...), nil
	}
	clientID := duidLL(ifi.HardwareAddr)
	mine := func(b []byte, types ...byte) *msg6 {
		m, err := parseMsg6(b)
		if err != nil || m.xid != xid {
			return nil
		}
		if cid, ok := m.one(opt6ClientID); !ok || string(cid) != string(clientID) {
			return nil
		}
		for _, t := range types {
			if m.typ == t {
				return m
			}
		}
		return nil
	}
	var adv *msg6
	first, err := exchange(ctx, cfg.Timeout, cfg.Retries,
		func(attempt int) error {
			log.Debug("dhcp: SOLICIT", "attempt", attempt+1)
			return send(build6(dhcp6Solicit, xid, elapsed(), ifi.HardwareAddr, nil))
		},
		recv,
		func(b []byte) bool {
			m := mine(b, dhcp6Advertise, dhcp6Reply)
			if m == nil {
				return false
			}
			if m.typ == dhcp6Reply {
				_, rapid := m.one(opt6RapidCommit)
				return rapid
			}
			adv = m
			return true
		})
	if err != nil {
		return nil, fmt.Errorf("no advertise: %w", err)
	}
	if adv == nil {
		return first, nil // rapid commit
	}
	log.Debug("dhcp: ADVERTISE")
	return exchange(ctx, cfg.Timeout, cfg.Retries,
		func(attempt int) error {
			log.Debug("dhcp: REQUEST", "attempt", attempt+1)
			return send(build6(dhcp6Request, xid, elapsed(), ifi.HardwareAddr, adv))
		},
		recv,
		func(b []byte) bool { return mine(b, dhcp6Reply) != nil })
}
