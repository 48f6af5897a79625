package trust

import (
	"encoding/asn1"
	"strings"
	"testing"
)

// TestHardening10_14_NonMinimalTag: a long-form tag below 31 (1f 02 is
// INTEGER written the long way) and a long-form tag with a leading zero
// septet are not DER, and encoding/asn1 rejects both; normalize used to
// rewrite 1f 02 to 02 and hand the result on (issue 10 item 14).
func TestHardening10_14_NonMinimalTag(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"long-form INTEGER", []byte{0x1f, 0x02, 0x01, 0x05}, false},
		{"long-form SEQUENCE in SEQUENCE", []byte{0x30, 0x04, 0x3f, 0x10, 0x01, 0x00}, false},
		{"long-form [30]", []byte{0x9f, 0x1e, 0x01, 0x00}, false},
		{"leading zero septet", []byte{0x9f, 0x80, 0x1f, 0x01, 0x00}, false},
		{"minimal [31]", []byte{0x9f, 0x1f, 0x01, 0x00}, true},
		{"minimal [200]", []byte{0x9f, 0x81, 0x48, 0x01, 0x00}, true},
		{"short INTEGER", []byte{0x02, 0x01, 0x05}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v asn1.RawValue
			_, stdErr := asn1.Unmarshal(tc.in, &v)
			if stdErr == nil && v.IsCompound {
				var inner asn1.RawValue
				_, stdErr = asn1.Unmarshal(v.Bytes, &inner)
			}
			if (stdErr == nil) != tc.ok {
				t.Fatalf("encoding/asn1 err = %v, the table says ok=%v", stdErr, tc.ok)
			}
			out, err := normalize(tc.in)
			if tc.ok {
				if err != nil || string(out) != string(tc.in) {
					t.Fatalf("normalize = %x, %v; want the input back", out, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "non-minimal ASN.1 tag") {
				t.Fatalf("normalize = %x, %v; want a non-minimal tag error", out, err)
			}
		})
	}
}
