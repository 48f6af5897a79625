package dnssrc

import (
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
)

// MaxSRVRecords caps the SRV resource records of one name that are used.
const MaxSRVRecords = 32

// SRV is one SRV resource record (RFC 2782).
type SRV struct {
	Target   string // host name, absolute or not; "." means no service
	Port     uint16
	Priority uint16
	Weight   uint16
}

// OrderSRV returns the records in the order RFC 2782 says to try them
// (C94): by ascending priority; within one priority, by a weighted random
// pick, where a record is chosen with probability proportional to its
// weight and records of weight 0 have a small chance (they are placed first
// before the running sums are taken, as RFC 2782 describes). Records whose
// target is "." or whose port is 0 are dropped; at most MaxSRVRecords are
// kept. r supplies the randomness (nil: a fresh generator).
func OrderSRV(recs []SRV, r *rand.Rand) []SRV {
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	var in []SRV
	for _, s := range recs {
		if s.Target == "." || s.Target == "" || s.Port == 0 {
			continue
		}
		if len(in) == MaxSRVRecords {
			break
		}
		in = append(in, s)
	}
	slices.SortStableFunc(in, func(a, b SRV) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		// weight 0 first within a priority (RFC 2782)
		return min(int(a.Weight), 1) - min(int(b.Weight), 1)
	})
	out := make([]SRV, 0, len(in))
	for i := 0; i < len(in); {
		j := i
		for j < len(in) && in[j].Priority == in[i].Priority {
			j++
		}
		group := slices.Clone(in[i:j])
		for len(group) > 0 {
			total := 0
			for _, s := range group {
				total += int(s.Weight)
			}
			pick := r.IntN(total + 1)
			k, sum := 0, 0
			for k = range group {
				sum += int(group[k].Weight)
				if sum >= pick {
					break
				}
			}
			out = append(out, group[k])
			group = slices.Delete(group, k, k+1)
		}
		i = j
	}
	return out
}

// ServerURL is the bootstrap server URI of an SRV target: https://target:port
// (RFC 8572 4.2.3), or "" when the target is not a usable host name.
func ServerURL(s SRV) string {
	host := strings.TrimSuffix(s.Target, ".")
	if !validHost(host) || s.Port == 0 {
		return ""
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(int(s.Port)))
}

// validHost accepts LDH host names (with '_' tolerated) of at most 253
// octets.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
