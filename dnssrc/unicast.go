package dnssrc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// unicast asks one name server (host:port) over UDP, and again over TCP when
// the UDP answer is truncated (RFC 7766, C95). Each exchange is bounded by
// timeout and by ctx.
func (l *lookup) unicast(ctx context.Context, server string, name dnsmessage.Name, typ dnsmessage.Type) (answer, error) {
	a, err := l.exchange(ctx, "udp", server, name, typ)
	if errors.Is(err, errTruncated) {
		l.log.Debug("dns: truncated UDP answer, asking again over TCP", "server", server, "name", name.String(), "type", typ.String())
		l.tcpFallbacks.Add(1)
		a, err = l.exchange(ctx, "tcp", server, name, typ)
	}
	return a, err
}

func (l *lookup) exchange(ctx context.Context, network, server string, name dnsmessage.Name, typ dnsmessage.Type) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.QueryTimeout)
	defer cancel()
	id := newID()
	q, err := buildQuery(id, name, typ, true, true, false)
	if err != nil {
		return answer{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if network == "tcp" {
		msg := make([]byte, 2+len(q))
		binary.BigEndian.PutUint16(msg, uint16(len(q)))
		copy(msg[2:], q)
		if _, err := conn.Write(msg); err != nil {
			return answer{}, err
		}
		var lb [2]byte
		if _, err := io.ReadFull(conn, lb[:]); err != nil {
			return answer{}, fmt.Errorf("reading TCP answer: %w", err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(lb[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return answer{}, fmt.Errorf("reading TCP answer: %w", err)
		}
		return parseResponse(buf, id, name, typ, false)
	}
	if _, err := conn.Write(q); err != nil {
		return answer{}, err
	}
	buf := make([]byte, MaxMessage)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return answer{}, err
		}
		a, err := parseResponse(buf[:n], id, name, typ, false)
		if err != nil && !errors.Is(err, errTruncated) && !errors.Is(err, ErrNXDomain) && !errors.Is(err, ErrNoRecords) && isForgery(buf[:n], id) {
			// An answer to another query (or spoofed): keep waiting
			// for ours until the timeout.
			continue
		}
		return a, err
	}
}

// isForgery reports whether msg is not a response to query id at all.
func isForgery(msg []byte, id uint16) bool {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	return err != nil || !h.Response || h.ID != id
}
