package dnstest

import (
	"net"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// Reply is what the Responder sends for one name and type.
type Reply struct {
	RCode dnsmessage.RCode
	// Truncated sets the TC bit (and sends no records).
	Truncated bool
	// OtherName answers with the records under this name instead.
	OtherName string
	TXT       [][]string
	SRV       []dnsmessage.SRVResource
	PTR       []string
}

// Responder answers DNS queries over UDP from a table. It also answers
// multicast DNS one-shot queries: the reply goes to the query's source.
type Responder struct {
	mu      sync.Mutex
	replies map[string]Reply
	queries int
}

// NewResponder returns an empty responder.
func NewResponder() *Responder { return &Responder{replies: map[string]Reply{}} }

func key(name string, typ dnsmessage.Type) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + "/" + typ.String()
}

// Set makes the responder answer name/typ with r.
func (s *Responder) Set(name string, typ dnsmessage.Type, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[key(name, typ)] = r
}

// Queries is the number of queries received.
func (s *Responder) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// Serve answers on pc until it is closed. Unknown names get NXDOMAIN on
// unicast, and no answer at all over mDNS (mdns true).
func (s *Responder) Serve(pc net.PacketConn, mdns bool) {
	buf := make([]byte, 9000)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		resp := s.answer(buf[:n], mdns)
		if resp != nil {
			pc.WriteTo(resp, from)
		}
	}
}

func (s *Responder) answer(msg []byte, mdns bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	q.Class &^= 1 << 15 // the mDNS QU bit
	s.mu.Lock()
	s.queries++
	r, ok := s.replies[key(q.Name.String(), q.Type)]
	s.mu.Unlock()
	if !ok {
		if mdns {
			return nil
		}
		r = Reply{RCode: dnsmessage.RCodeNameError}
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: r.RCode, Truncated: r.Truncated})
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	name := q.Name
	if r.OtherName != "" {
		name = dnsmessage.MustNewName(strings.TrimSuffix(r.OtherName, ".") + ".")
	}
	if !r.Truncated {
		rh := dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: 10}
		for _, txt := range r.TXT {
			if err := b.TXTResource(rh, dnsmessage.TXTResource{TXT: txt}); err != nil {
				return nil
			}
		}
		for _, srv := range r.SRV {
			if err := b.SRVResource(rh, srv); err != nil {
				return nil
			}
		}
		for _, ptr := range r.PTR {
			if err := b.PTRResource(rh, dnsmessage.PTRResource{PTR: dnsmessage.MustNewName(strings.TrimSuffix(ptr, ".") + ".")}); err != nil {
				return nil
			}
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
