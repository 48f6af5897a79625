package images

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

const sumHex = "baeccf0123456789abcdef0123456789abcdef0123456789abcdef012345b233"

func colon(s string) string {
	var parts []string
	for i := 0; i < len(s); i += 2 {
		parts = append(parts, s[i:i+2])
	}
	return strings.Join(parts, ":")
}

// TestParseSHA256: C74 hex-string with colons, any case; plain hex and the
// sha-256: prefix of `sztp image fetch --hash`.
func TestParseSHA256(t *testing.T) {
	want, _ := hex.DecodeString(sumHex)
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: sumHex},
		{in: strings.ToUpper(sumHex)},
		{in: colon(sumHex)},
		{in: strings.ToUpper(colon(sumHex))},
		{in: "sha-256:" + sumHex},
		{in: "SHA-256:" + colon(sumHex)},
		{in: "  " + sumHex + "\n"},
		{in: "", wantErr: "0 octets"},
		{in: "sha-256:", wantErr: "0 octets"},
		{in: sumHex[:62], wantErr: "31 octets"},
		{in: sumHex + "00", wantErr: "33 octets"},
		{in: sumHex[:63], wantErr: "odd length"},
		{in: colon(sumHex)[1:], wantErr: "two digits per octet"},
		{in: colon(sumHex) + ":", wantErr: "two digits per octet"},
		{in: "zz" + sumHex[2:], wantErr: "invalid byte"},
		{in: "sha-512:" + sumHex, wantErr: "unsupported hash algorithm"},
		{in: "ba:ec:cf" + sumHex[6:], wantErr: "two digits per octet"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSHA256(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSHA256(%q) err = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ParseSHA256(%q) = %x, %v; want %x", tc.in, got, err, want)
			}
		})
	}
}

func FuzzParseSHA256(f *testing.F) {
	f.Add(sumHex)
	f.Add(colon(sumHex))
	f.Add("sha-256:" + strings.ToUpper(sumHex))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSHA256(s)
		if err != nil {
			return
		}
		if len(b) != 32 {
			t.Fatalf("ParseSHA256(%q) gave %d octets", s, len(b))
		}
		back, err := ParseSHA256(colon(hex.EncodeToString(b)))
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of %q: %x, %v", s, back, err)
		}
	})
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                string
		start, end, total int64
		wantErr           bool
	}{
		{in: "bytes 0-99/100", start: 0, end: 99, total: 100},
		{in: "bytes 100-199/*", start: 100, end: 199, total: -1},
		{in: "bytes 5-5/6", start: 5, end: 5, total: 6},
		{in: "bytes 5-4/6", wantErr: true},
		{in: "bytes 0-100/100", wantErr: true},
		{in: "bytes */100", wantErr: true},
		{in: "items 0-1/2", wantErr: true},
		{in: "bytes -1-5/6", wantErr: true},
		{in: "bytes +1-5/6", wantErr: true},
		{in: "bytes 0-5", wantErr: true},
		{in: "bytes 0-99999999999999999999/100000000000000000000", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, e, tot, err := parseContentRange(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseContentRange(%q) = %d %d %d, want an error", tc.in, s, e, tot)
				}
				return
			}
			if err != nil || s != tc.start || e != tc.end || tot != tc.total {
				t.Fatalf("parseContentRange(%q) = %d %d %d %v, want %d %d %d", tc.in, s, e, tot, err, tc.start, tc.end, tc.total)
			}
		})
	}
}

func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 0-99/100")
	f.Add("bytes 100-199/*")
	f.Fuzz(func(t *testing.T, s string) {
		start, end, total, err := parseContentRange(s)
		if err != nil {
			return
		}
		if start < 0 || end < start || (total >= 0 && end >= total) || total < -1 {
			t.Fatalf("parseContentRange(%q) = %d %d %d: inconsistent", s, start, end, total)
		}
	})
}
