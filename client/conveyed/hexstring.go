package conveyed

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseHexString parses a yang:hex-string: colon-separated octets in any case,
// e.g. "ba:ec:cf". The empty string is the empty value.
func ParseHexString(s string) ([]byte, error) {
	if s == "" {
		return []byte{}, nil
	}
	parts := strings.Split(s, ":")
	out := make([]byte, len(parts))
	for i, p := range parts {
		if len(p) != 2 {
			return nil, fmt.Errorf("bad yang:hex-string %q: octet %d is %q, want two hex digits", s, i+1, p)
		}
		b, err := hex.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("bad yang:hex-string %q: octet %d %q is not hex", s, i+1, p)
		}
		out[i] = b[0]
	}
	return out, nil
}

// FormatHexString formats b as a lowercase yang:hex-string.
func FormatHexString(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	return sb.String()
}
