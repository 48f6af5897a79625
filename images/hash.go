package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseSHA256 parses an expected SHA-256 value as a person or a conveyed
// information document writes it: plain hex ("baeccf..."), YANG hex-string
// with colons ("ba:ec:cf:..."), either case, optionally prefixed with
// "sha-256:" (the form `sztp image fetch --hash` takes; C74). The result is
// always 32 bytes.
func ParseSHA256(s string) ([]byte, error) {
	v := strings.TrimSpace(s)
	if len(v) >= 8 && strings.EqualFold(v[:8], "sha-256:") {
		v = v[8:]
	}
	if i := strings.IndexByte(v, ':'); i > 2 {
		return nil, fmt.Errorf("hash %q: unsupported hash algorithm %q (only sha-256)", s, v[:i])
	}
	if strings.Contains(v, ":") {
		parts := strings.Split(v, ":")
		for _, p := range parts {
			if len(p) != 2 {
				return nil, fmt.Errorf("hash %q: colon-separated hex needs two digits per octet", s)
			}
		}
		v = strings.Join(parts, "")
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("hash %q: %w", s, err)
	}
	if len(b) != sha256.Size {
		return nil, fmt.Errorf("hash %q: %d octets, a sha-256 has %d", s, len(b), sha256.Size)
	}
	return b, nil
}

// MismatchError says the bytes downloaded from URI do not hash to any of
// the expected values (C73).
type MismatchError struct {
	URI  string
	Got  []byte
	Want [][]byte
}

func (e *MismatchError) Error() string {
	want := make([]string, len(e.Want))
	for i, w := range e.Want {
		want[i] = hex.EncodeToString(w)
	}
	return fmt.Sprintf("sha-256 mismatch: got %x, want %s", e.Got, strings.Join(want, " or "))
}
