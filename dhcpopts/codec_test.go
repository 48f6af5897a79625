package dhcpopts

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// entry frames one URI as in RFC 8572 §8.3.
func entry(u string) []byte {
	return append([]byte{byte(len(u) >> 8), byte(len(u))}, u...)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", ":", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseWire: C86, C88, C89 on raw option data.
func TestParseWire(t *testing.T) {
	long := "https://" + strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".example:8443"
	tests := []struct {
		name      string
		data      []byte
		want      []string
		warnings  int
		err       error
		roundTrip bool
		lenient   bool // ParseText (--dhcp-text-uris) instead of Parse
	}{
		{
			// The RFC 8572 §8.3 example value, https://sztp.example.com (0x18 octets).
			name:      "C86 RFC example",
			data:      mustHex(t, "0018 68747470733a2f2f737a74702e6578616d706c652e636f6d"),
			want:      []string{"https://sztp.example.com"},
			roundTrip: true,
		},
		{
			name:      "C86 two URIs keep option order",
			data:      cat(entry("https://192.0.2.1:8443"), entry("https://[2001:db8::1]")),
			want:      []string{"https://192.0.2.1:8443", "https://[2001:db8::1]"},
			roundTrip: true,
		},
		{
			name:      "C86 URI longer than 255 octets",
			data:      entry(long),
			want:      []string{long},
			roundTrip: true,
		},
		{
			name:      "C86 host name with trailing dot and port",
			data:      entry("https://bootstrap.example.com.:443"),
			want:      []string{"https://bootstrap.example.com.:443"},
			roundTrip: true,
		},
		{
			name: "scheme is case-insensitive and normalised",
			data: entry("HTTPS://sztp.example.com"),
			want: []string{"https://sztp.example.com"},
		},
		{
			name:     "C88 http ignored, https kept",
			data:     cat(entry("http://sztp.example.com"), entry("https://sztp.example.com")),
			want:     []string{"https://sztp.example.com"},
			warnings: 1,
		},
		{
			name:     "C88 path ignored",
			data:     cat(entry("https://sztp.example.com/restconf"), entry("https://192.0.2.7")),
			want:     []string{"https://192.0.2.7"},
			warnings: 1,
		},
		{
			name:     "C88 trailing slash is a path",
			data:     cat(entry("https://sztp.example.com/"), entry("https://192.0.2.7")),
			want:     []string{"https://192.0.2.7"},
			warnings: 1,
		},
		{
			name:     "C88 query, fragment, userinfo, bad port, bad host ignored",
			data:     cat(entry("https://a.example?x=1"), entry("https://a.example#f"), entry("https://u:p@a.example"), entry("https://a.example:0"), entry("https://a.example:70000"), entry("https://a.example:"), entry("https://a_b-.example"), entry("https://[192.0.2.1]"), entry("https://a.example"), entry("https://a example")),
			want:     []string{"https://a.example"},
			warnings: 9,
		},
		{
			name:     "C88 overrunning entry after a valid one",
			data:     cat(entry("https://192.0.2.1"), []byte{0x00, 0x40, 'h', 't'}),
			want:     []string{"https://192.0.2.1"},
			warnings: 1,
		},
		{
			name:     "C88 one stray octet",
			data:     cat(entry("https://192.0.2.1"), []byte{0x00}),
			want:     []string{"https://192.0.2.1"},
			warnings: 1,
		},
		{
			name:     "C89 only invalid entries: option discarded",
			data:     cat(entry("http://192.0.2.1"), entry("tftp://192.0.2.1")),
			warnings: 2,
			err:      ErrNoValidURI,
		},
		{
			name:     "C89 zero-length entry",
			data:     []byte{0, 0},
			warnings: 1,
			err:      ErrNoValidURI,
		},
		{
			name: "empty option",
			data: nil,
			err:  ErrEmpty,
		},
		{
			name:     "--dhcp-text-uris: plain text accepted with a warning",
			lenient:  true,
			data:     []byte("https://192.0.2.1:8443"),
			want:     []string{"https://192.0.2.1:8443"},
			warnings: 1,
		},
		{
			// The OPI lab form: dhcpd declares 143 as text holding the RPC URL.
			name:     "--dhcp-text-uris: plain text with RESTCONF path stripped, NUL-terminated",
			lenient:  true,
			data:     []byte("https://bootstrap:8080" + RESTCONFPath + "\x00"),
			want:     []string{"https://bootstrap:8080"},
			warnings: 2,
		},
		{
			name:     "--dhcp-text-uris: plain text list, comma and space separated, other paths ignored",
			lenient:  true,
			data:     []byte("https://a.example, https://b.example:1234 https://c.example/other"),
			want:     []string{"https://a.example", "https://b.example:1234"},
			warnings: 2,
		},
		{
			name:     "--dhcp-text-uris: plain text with only http",
			lenient:  true,
			data:     []byte("http://a.example"),
			warnings: 2,
			err:      ErrNoValidURI,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := Parse
			if tc.lenient {
				parse = ParseText
			}
			got, warnings, err := parse(tc.data)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse(%x) error = %v, want %v", tc.data, err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%x) = %q, want %q", tc.data, got, tc.want)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("Parse(%x) warnings = %q, want %d of them", tc.data, warnings, tc.warnings)
			}
			if tc.roundTrip {
				enc, err := Encode(got)
				if err != nil {
					t.Fatalf("Encode(%q): %v", got, err)
				}
				if !bytes.Equal(enc, tc.data) {
					t.Errorf("round trip: Encode(%q) = %x, want %x", got, enc, tc.data)
				}
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, uris := range [][]string{nil, {"http://a.example"}, {"https://a.example/path"}, {"https://a.example", ""}} {
		if b, err := Encode(uris); err == nil {
			t.Errorf("Encode(%q) = %x, want an error", uris, b)
		}
	}
}

// v4Packet builds a raw DHCPv4 packet with the given options field and, when
// non-nil, file and sname fields.
func v4Packet(options, file, sname []byte) []byte {
	p := make([]byte, v4OptionsOff)
	p[0] = 2 // BOOTREPLY
	copy(p[v4SnameOff:v4FileOff], sname)
	copy(p[v4FileOff:v4CookieOff], file)
	copy(p[v4CookieOff:], magicCookie[:])
	return append(p, options...)
}

// TestConcatV4: C87, RFC 3396 concatenation with instance boundaries inside
// an entry, and option overload into file and sname.
func TestConcatV4(t *testing.T) {
	payload := cat(entry("https://192.0.2.1:8443"), entry("https://bootstrap.example.com"))
	a, b, c := payload[:5], payload[5:30], payload[30:]
	opt := func(code byte, v []byte) []byte { return append([]byte{code, byte(len(v))}, v...) }
	tests := []struct {
		name   string
		packet []byte
		want   []byte
		ok     bool
		err    bool
	}{
		{"single instance", v4Packet(cat(opt(53, []byte{5}), opt(143, payload), []byte{255}), nil, nil), payload, true, false},
		{"split in options field", v4Packet(cat(opt(143, a), opt(3, []byte{192, 0, 2, 1}), opt(143, b), opt(143, c), []byte{255}), nil, nil), payload, true, false},
		{"overload file then sname", v4Packet(cat(opt(52, []byte{3}), opt(143, a), []byte{255}), cat(opt(143, b), []byte{255}), cat([]byte{0}, opt(143, c), []byte{255})), payload, true, false},
		{"overload file only ignores sname", v4Packet(cat(opt(52, []byte{1}), opt(143, a), []byte{255}), cat(opt(143, b), opt(143, c), []byte{255}), opt(143, []byte("junk"))), payload, true, false},
		{"no overload ignores file", v4Packet(cat(opt(143, payload), []byte{255}), opt(143, []byte("junk")), nil), payload, true, false},
		{"absent", v4Packet(cat(opt(53, []byte{5}), []byte{255}), nil, nil), nil, false, false},
		{"truncated option", v4Packet([]byte{143, 10, 0, 1}, nil, nil), nil, false, true},
		{"short packet", make([]byte, 100), nil, false, true},
		{"bad cookie", make([]byte, 300), nil, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ConcatV4(tc.packet, OptionV4SZTPRedirect)
			if (err != nil) != tc.err {
				t.Fatalf("ConcatV4 error = %v, want error %v", err, tc.err)
			}
			if ok != tc.ok || !bytes.Equal(got, tc.want) {
				t.Errorf("ConcatV4 = %x, %v; want %x, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	uris, _, err := URIsV4Packet(tests[2].packet)
	if err != nil || !reflect.DeepEqual(uris, []string{"https://192.0.2.1:8443", "https://bootstrap.example.com"}) {
		t.Errorf("URIsV4Packet(overloaded) = %q, %v", uris, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(cat(entry("https://192.0.2.1:8443"), entry("https://[2001:db8::1]")))
	f.Add([]byte("https://bootstrap:8080" + RESTCONFPath))
	f.Add([]byte{0, 0xff, 'h'})
	f.Fuzz(func(t *testing.T, data []byte) {
		uris, _, err := Parse(data)
		if err != nil {
			if len(uris) != 0 {
				t.Fatalf("Parse returned %q with error %v", uris, err)
			}
			return
		}
		if len(uris) == 0 {
			t.Fatal("Parse returned no URIs and no error")
		}
		// Every accepted URI is valid, and re-encoding and re-parsing is stable.
		enc, err := Encode(uris)
		if err != nil {
			t.Fatalf("Encode(%q) of parsed URIs: %v", uris, err)
		}
		again, w, err := Parse(enc)
		if err != nil || len(w) != 0 || !reflect.DeepEqual(again, uris) {
			t.Fatalf("re-parse of %q = %q, %q, %v", uris, again, w, err)
		}
	})
}

func FuzzConcatV4(f *testing.F) {
	f.Add(v4Packet(append([]byte{52, 1, 3, 143, 2, 0, 4}, 255), []byte{143, 4, 'h', 't', 't', 'p', 255}, nil))
	f.Fuzz(func(t *testing.T, packet []byte) {
		data, ok, err := ConcatV4(packet, OptionV4SZTPRedirect)
		if err != nil && (ok || data != nil) {
			t.Fatalf("ConcatV4 returned data with error %v", err)
		}
		if len(data) > len(packet) {
			t.Fatalf("ConcatV4 returned %d octets from a %d-octet packet", len(data), len(packet))
		}
	})
}

// Issue 10 item 8, C88: a plain-text option value is not used unless asked
// for (--dhcp-text-uris): Parse returns ErrPlainText and one warning naming
// the opt-in; a lease keeps its URIs aside until WithTextURIs. Before the
// fix Parse accepted plain text by default.
func TestHardening10_8_PlainTextNeedsOptIn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		lenient  []string
		warnings int // with WithTextURIs
	}{
		{"one URI", []byte("https://192.0.2.1:8443"), []string{"https://192.0.2.1:8443"}, 1},
		{"RESTCONF path, NUL", []byte("https://bootstrap:8080" + RESTCONFPath + "\x00"), []string{"https://bootstrap:8080"}, 2},
		{"only http", []byte("http://a.example"), nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uris, warnings, err := Parse(tc.data)
			if !errors.Is(err, ErrPlainText) || !errors.Is(err, ErrNoValidURI) || uris != nil {
				t.Errorf("Parse = %q, %v; want ErrPlainText", uris, err)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "--dhcp-text-uris") {
				t.Errorf("Parse warnings %q, want one naming --dhcp-text-uris", warnings)
			}
			var l Lease
			l.takeOption(tc.data, OptionV4SZTPRedirect)
			if len(l.URIs) != 0 || len(l.Warnings) != 1 || !reflect.DeepEqual(l.TextURIs, tc.lenient) {
				t.Errorf("strict lease %+v", l)
			}
			o := l.WithTextURIs()
			if !reflect.DeepEqual(o.URIs, tc.lenient) || len(o.Warnings) != tc.warnings || o.TextURIs != nil {
				t.Errorf("lenient lease %+v, want URIs %q and %d warnings", o, tc.lenient, tc.warnings)
			}
			for _, w := range o.Warnings {
				if strings.Contains(w, "ignored (sztp --dhcp-text-uris") {
					t.Errorf("lenient lease keeps the strict warning: %q", o.Warnings)
				}
			}
		})
	}
}
