package client

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/sztp/sztp/internal/httpx"
)

// roundTrip sends req over the Conn's persistent connection, so that a run
// costs one TLS client-authentication signature per server (a TPM signs in
// 50-300 ms). When that connection can no longer be used (the server
// closed it, or the last response was not reusable), a fresh one is dialled
// and verified as strictly as the first: a trusted Conn requires the server
// to authenticate again (Verify), and a resumable TLS session spares the
// device another signature.
//
// A request that fails on a reused connection before any byte of the
// response arrived is sent again once on a fresh connection when that is
// safe: always for get-bootstrapping-data (idempotent: it only reads); for
// report-progress when the request was never handed to the connection (the
// server cannot have seen it), or when the server closed the connection
// without a byte of answer. That is how a server's idle close crosses a
// request on the wire (RFC 9112 9.3.1): the server closes without reading
// it. Leaving it would lose the report, and a lost bootstrap-complete rolls
// back the configuration; sending it again risks at worst a duplicate
// report, which the RFC's progress log tolerates. A server that stays
// silent until the header timeout may be working on the report, so that
// report is not sent again.
func (c *Conn) roundTrip(ctx context.Context, req *httpx.Request, idempotent bool) (*httpx.Response, error) {
	pc, err := c.session(ctx, false)
	if err != nil {
		return nil, err
	}
	resp, err := pc.Do(req, c.timeouts.ResponseHeader)
	if err == nil || ctx.Err() != nil || !retryOnFresh(err, idempotent) {
		return resp, err
	}
	c.log.Debug("reused connection failed; retrying once on a fresh connection", "server", c.base.Host, "err", err)
	if pc, err = c.session(ctx, true); err != nil {
		return nil, err
	}
	return pc.Do(req, c.timeouts.ResponseHeader)
}

// retryOnFresh says whether a request that failed with err may be sent
// again on a fresh connection.
func retryOnFresh(err error, idempotent bool) bool {
	var re *httpx.ReuseError
	return errors.As(err, &re) && (idempotent || !re.Written || re.Closed)
}

// session returns the persistent connection, or replaces it with a fresh
// one when it cannot carry another request (or fresh is set).
func (c *Conn) session(ctx context.Context, fresh bool) (*httpx.PersistentConn, error) {
	c.mu.Lock()
	pc := c.pc
	mode := c.mode
	if c.trusted {
		mode = Verify
	}
	c.mu.Unlock()
	if pc != nil && !fresh && pc.Usable() {
		return pc, nil
	}
	if pc != nil {
		pc.Close()
	}
	conn, _, err := c.dialTLS(ctx, mode)
	if err != nil {
		return nil, err
	}
	pc = httpx.NewPersistentConn(conn)
	c.mu.Lock()
	c.pc = pc
	c.mu.Unlock()
	return pc, nil
}

// sessionCaches holds one TLS session cache per trust decision, so that a
// session is resumed only for a connection authenticated the same way: a
// server contacted provisionally and the same address reached later
// through a redirect with a trust anchor never share one (the second
// makes a full handshake and verifies the server to its anchor).
type sessionCaches struct {
	mu     sync.Mutex
	caches map[string]tls.ClientSessionCache
}

// maxSessionCaches bounds the caches of one agent (one per distinct server
// and trust decision; redirect loops are bounded by MaxConnections anyway).
const maxSessionCaches = 256

func (s *sessionCaches) get(addr, host string, mode TLSMode, anchors []*x509.Certificate) tls.ClientSessionCache {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00", mode, addr, host)
	for _, a := range anchors {
		fmt.Fprintf(h, "%d\x00", len(a.Raw))
		h.Write(a.Raw)
	}
	key := hex.EncodeToString(h.Sum(nil))
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.caches[key]; ok {
		return c
	}
	if s.caches == nil || len(s.caches) >= maxSessionCaches {
		s.caches = map[string]tls.ClientSessionCache{}
	}
	c := tls.NewLRUClientSessionCache(1)
	s.caches[key] = c
	return c
}
