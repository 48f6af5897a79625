package client

import (
	"strings"
	"testing"
	"time"
)

// Issue 2 item 3: a bare https://host[:port] gets the RESTCONF root, a URI
// that already has it (or a full operation path) keeps it.
func TestServerURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://sztp.example", "https://sztp.example/restconf", ""},
		{"https://sztp.example:8443/", "https://sztp.example:8443/restconf", ""},
		{"https://10.0.0.1:8443/restconf", "https://10.0.0.1:8443/restconf", ""},
		{"https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443/restconf", ""},
		{"https://h/custom/restconf/", "https://h/custom/restconf", ""},
		{"https://h/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data", "https://h/restconf", ""},
		{"  https://h  ", "https://h/restconf", ""},
		{"http://h", "", "scheme must be https"},
		{"https://", "", "no host"},
		{"https://user:pw@h", "", "user info"},
		{"https://h/?q=1", "", "query"},
		{"sztp.example", "", "scheme must be https"},
	} {
		u, err := ServerURL(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case u.String() != tc.want:
			t.Errorf("%q: %s, want %s", tc.in, u, tc.want)
		}
	}
}

func TestServerURLFor(t *testing.T) {
	for _, tc := range []struct {
		addr string
		port uint16
		want string
	}{
		{"sztp.example", 0, "https://sztp.example:443/restconf"}, // C50
		{"192.0.2.1", 8443, "https://192.0.2.1:8443/restconf"},
		{"2001:db8::1", 443, "https://[2001:db8::1]:443/restconf"},
	} {
		if got := ServerURLFor(tc.addr, tc.port).String(); got != tc.want {
			t.Errorf("%s %d: %s, want %s", tc.addr, tc.port, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"120", 2 * time.Minute},
		{" 0 ", 0},
		{"-5", 0},
		{"Mon, 30 Nov 2026 12:01:30 GMT", 90 * time.Second},
		{"Mon, 30 Nov 2026 11:00:00 GMT", 0}, // in the past
		{"soon", 0},
		{"", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzServerURL(f *testing.F) {
	for _, s := range []string{"https://h", "https://[::1]:1/restconf", "https://h/a/operations/x", "http://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ServerURL(s)
		if err != nil {
			return
		}
		if u.Scheme != "https" || u.Hostname() == "" || strings.Contains(u.Path, "/operations/") {
			t.Errorf("%q accepted as %v", s, u)
		}
		again, err := ServerURL(u.String())
		if err != nil || again.String() != u.String() {
			t.Errorf("%q: not idempotent: %v -> %v (%v)", s, u, again, err)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Mon, 30 Nov 2026 12:01:30 GMT", "Monday, 30-Nov-26 12:01:30 GMT", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 {
			t.Errorf("%q: negative delay %v", s, d)
		}
	})
}
