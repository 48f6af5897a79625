package dnssrc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Limits of what is read and looked at.
const (
	// MaxMessage is the largest DNS message (the TCP length prefix, and
	// RDLENGTH, are 16 bits).
	MaxMessage = 65535
	// MaxMDNSMessage is the largest multicast DNS packet (RFC 6762 17).
	MaxMDNSMessage = 9000
	// MaxAnswers caps the answer records of one message that are parsed.
	MaxAnswers = 64
	// udpPayload is the EDNS(0) UDP payload size the client announces
	// (the DNS flag day 2020 value).
	udpPayload = 1232
)

var (
	// ErrNXDomain: the name does not exist.
	ErrNXDomain = errors.New("no such name (NXDOMAIN)")
	// ErrNoRecords: the name exists but has no record of the type asked.
	ErrNoRecords = errors.New("no records of that type")
	// errTruncated: the UDP answer had the TC bit set.
	errTruncated = errors.New("truncated answer")
)

// answer is what one response says about the name and type asked.
type answer struct {
	txt [][]string
	srv []SRV
	ptr []dnsmessage.Name
	ip  []netip.Addr
}

func (a answer) empty() bool {
	return len(a.txt) == 0 && len(a.srv) == 0 && len(a.ptr) == 0 && len(a.ip) == 0
}

// newID returns a random query ID.
func newID() uint16 {
	var b [2]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:])
}

// buildQuery packs one question. edns adds an OPT record announcing
// udpPayload; unicastResponse sets the mDNS QU bit (RFC 6762 5.4).
func buildQuery(id uint16, name dnsmessage.Name, typ dnsmessage.Type, rd, edns, unicastResponse bool) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 128), dnsmessage.Header{ID: id, RecursionDesired: rd})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	class := dnsmessage.ClassINET
	if unicastResponse {
		class |= 1 << 15
	}
	if err := b.Question(dnsmessage.Question{Name: name, Type: typ, Class: class}); err != nil {
		return nil, err
	}
	if edns {
		if err := b.StartAdditionals(); err != nil {
			return nil, err
		}
		var rh dnsmessage.ResourceHeader
		if err := rh.SetEDNS0(udpPayload, dnsmessage.RCodeSuccess, false); err != nil {
			return nil, err
		}
		if err := b.OPTResource(rh, dnsmessage.OPTResource{}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// parseResponse checks that msg answers the query (id, and, when
// checkQuestion, the question) and returns the TXT or SRV records of name.
// Records of other names or types are skipped (an answer for another name
// is no answer). mdns relaxes what multicast responses differ in: the ID
// is zero and the question section may be empty (RFC 6762 18), and the
// cache-flush bit is set in the class.
func parseResponse(msg []byte, id uint16, name dnsmessage.Name, typ dnsmessage.Type, mdns bool) (answer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return answer{}, fmt.Errorf("malformed response: %w", err)
	}
	if !h.Response {
		return answer{}, errors.New("not a response")
	}
	if !mdns && h.ID != id {
		return answer{}, fmt.Errorf("response ID %d, query ID %d", h.ID, id)
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return answer{}, fmt.Errorf("malformed response: %w", err)
	}
	if !mdns {
		if len(qs) != 1 || !sameName(qs[0].Name, name) || qs[0].Type != typ {
			return answer{}, errors.New("response does not repeat the question")
		}
	}
	if h.Truncated && !mdns {
		return answer{}, errTruncated
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return answer{}, ErrNXDomain
	default:
		return answer{}, fmt.Errorf("server answered %s", rcodeString(h.RCode))
	}
	var a answer
	for n := 0; ; n++ {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return answer{}, fmt.Errorf("malformed answer: %w", err)
		}
		if n >= MaxAnswers {
			return answer{}, fmt.Errorf("more than %d answer records", MaxAnswers)
		}
		if rh.Type != typ || rh.Class&0x7fff != dnsmessage.ClassINET || !sameName(rh.Name, name) {
			if err := p.SkipAnswer(); err != nil {
				return answer{}, fmt.Errorf("malformed answer: %w", err)
			}
			continue
		}
		switch typ {
		case dnsmessage.TypeTXT:
			r, err := p.TXTResource()
			if err != nil {
				return answer{}, fmt.Errorf("malformed TXT record: %w", err)
			}
			a.txt = append(a.txt, r.TXT)
		case dnsmessage.TypeSRV:
			r, err := p.SRVResource()
			if err != nil {
				return answer{}, fmt.Errorf("malformed SRV record: %w", err)
			}
			a.srv = append(a.srv, SRV{Target: r.Target.String(), Port: r.Port, Priority: r.Priority, Weight: r.Weight})
		case dnsmessage.TypePTR:
			r, err := p.PTRResource()
			if err != nil {
				return answer{}, fmt.Errorf("malformed PTR record: %w", err)
			}
			a.ptr = append(a.ptr, r.PTR)
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return answer{}, fmt.Errorf("malformed A record: %w", err)
			}
			a.ip = append(a.ip, netip.AddrFrom4(r.A))
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return answer{}, fmt.Errorf("malformed AAAA record: %w", err)
			}
			a.ip = append(a.ip, netip.AddrFrom16(r.AAAA))
		default:
			if err := p.SkipAnswer(); err != nil {
				return answer{}, err
			}
		}
	}
	if a.empty() && !mdns {
		return a, ErrNoRecords
	}
	return a, nil
}

func sameName(a, b dnsmessage.Name) bool {
	return strings.EqualFold(a.String(), b.String())
}

func rcodeString(c dnsmessage.RCode) string {
	switch c {
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return fmt.Sprintf("RCODE %d", c)
}
