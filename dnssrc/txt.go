package dnssrc

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/sztp/sztp/trust"
)

// ErrNoArtifacts: the TXT records carry none of the keys ci, oc, ov.
var ErrNoArtifacts = errors.New("no ci, oc or ov key in the TXT records")

// MaxTXTRecords caps the TXT resource records of one name that are looked at.
const MaxTXTRecords = 32

// ParseTXT decodes the TXT resource records of <serial-number>._sztp.<domain>
// (RFC 8572 4.2.2, C93). Each element of rrs is one TXT RR as its list of
// character-strings. The character-strings of one RR are concatenated first
// (a binary CMS value is larger than one 255-octet character-string), then
// split at the first '=' into key and value (RFC 6763 6.3; keys compare
// case-insensitively). The keys ci (conveyed information), oc (owner
// certificate) and ov (ownership voucher) carry raw binary CMS; unknown keys
// are ignored. A key given twice, or one of the three keys without a value,
// is an error; so is conveyed information missing when oc or ov is present.
func ParseTXT(rrs [][]string) (*trust.Artifacts, error) {
	if len(rrs) > MaxTXTRecords {
		return nil, fmt.Errorf("%d TXT records (at most %d)", len(rrs), MaxTXTRecords)
	}
	var a trust.Artifacts
	seen := map[string]bool{}
	for _, rr := range rrs {
		var b bytes.Buffer
		for _, s := range rr {
			b.WriteString(s)
		}
		raw := b.Bytes()
		i := bytes.IndexByte(raw, '=')
		key := raw
		if i >= 0 {
			key = raw[:i]
		}
		k := strings.ToLower(string(key))
		var dst *[]byte
		switch k {
		case "ci":
			dst = &a.ConveyedInformation
		case "oc":
			dst = &a.OwnerCertificate
		case "ov":
			dst = &a.OwnershipVoucher
		default:
			continue // RFC 8572 4.2.2: other keys MUST be ignored
		}
		if seen[k] {
			return nil, fmt.Errorf("TXT key %q appears in more than one record", k)
		}
		seen[k] = true
		if i < 0 || i == len(raw)-1 {
			return nil, fmt.Errorf("TXT key %q has no value", k)
		}
		*dst = bytes.Clone(raw[i+1:])
	}
	if len(seen) == 0 {
		return nil, ErrNoArtifacts
	}
	if a.ConveyedInformation == nil {
		return nil, errors.New("TXT records carry oc or ov but no ci (conveyed information)")
	}
	return &a, nil
}
