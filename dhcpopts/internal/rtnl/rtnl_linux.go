package rtnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

var seq atomic.Uint32

// request sends one rtnetlink request and waits for the kernel's
// acknowledgement.
func request(typ uint16, flags uint16, body []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink bind: %w", err)
	}
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("netlink timeout: %w", err)
	}
	s := seq.Add(1)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], s)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("netlink parse: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != s || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("netlink: short error message")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
				return os.NewSyscallError("netlink", unix.Errno(-code))
			}
			return nil
		}
	}
}

// attr appends one rtattr.
func attr(b []byte, typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.RTA_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// LinkUp sets IFF_UP on the link with index ifindex.
func LinkUp(ifindex int) error {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(ifindex))
	binary.NativeEndian.PutUint32(b[8:], unix.IFF_UP)  // flags
	binary.NativeEndian.PutUint32(b[12:], unix.IFF_UP) // change
	if err := request(unix.RTM_NEWLINK, 0, b); err != nil {
		return fmt.Errorf("setting link %d up: %w", ifindex, err)
	}
	return nil
}

func family(a netip.Addr) byte {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// AddAddr adds (or replaces) prefix's address with prefix's length on the
// link. For IPv4 a broadcast address is set when brd is valid; for IPv6
// duplicate address detection is skipped (the DHCPv6 server has just handed
// the address out), so the address is usable at once.
func AddAddr(ifindex int, prefix netip.Prefix, brd netip.Addr) error {
	a := prefix.Addr()
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = family(a)
	b[1] = byte(prefix.Bits())
	b[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(b[4:], uint32(ifindex))
	b = attr(b, unix.IFA_LOCAL, a.AsSlice())
	b = attr(b, unix.IFA_ADDRESS, a.AsSlice())
	if a.Is4() && brd.IsValid() {
		b = attr(b, unix.IFA_BROADCAST, brd.AsSlice())
	}
	if a.Is6() {
		b = attr(b, unix.IFA_FLAGS, u32(unix.IFA_F_NODAD))
	}
	if err := request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, b); err != nil {
		return fmt.Errorf("adding address %s to link %d: %w", prefix, ifindex, err)
	}
	return nil
}

// AddRoute adds (or replaces) a route to dst in the main table, through gw
// when gw is valid, else directly on the link. Routes carry protocol "dhcp".
func AddRoute(ifindex int, dst netip.Prefix, gw netip.Addr) error {
	b := make([]byte, unix.SizeofRtMsg)
	b[0] = family(dst.Addr())
	b[1] = byte(dst.Bits())
	b[4] = unix.RT_TABLE_MAIN
	b[5] = unix.RTPROT_DHCP
	b[6] = unix.RT_SCOPE_UNIVERSE
	if !gw.IsValid() {
		b[6] = unix.RT_SCOPE_LINK
	}
	b[7] = unix.RTN_UNICAST
	if dst.Bits() > 0 {
		b = attr(b, unix.RTA_DST, dst.Masked().Addr().AsSlice())
	}
	if gw.IsValid() {
		b = attr(b, unix.RTA_GATEWAY, gw.AsSlice())
	}
	b = attr(b, unix.RTA_OIF, u32(uint32(ifindex)))
	if err := request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, b); err != nil {
		via := "on-link"
		if gw.IsValid() {
			via = "via " + gw.String()
		}
		return fmt.Errorf("adding route %s %s on link %d: %w", dst, via, ifindex, err)
	}
	return nil
}
