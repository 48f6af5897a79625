package safetext

import "testing"

// Issue 10 item 12: terminal escapes, C1 controls, bidi overrides and
// invalid UTF-8 are escaped; newlines and tabs stay.
func TestHardening10_12_Escape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\nlines\tand tab", "two\nlines\tand tab"},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"cr\roverwrite", `cr\x0doverwrite`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"grüße ✓", "grüße ✓"},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Issue 10 item 12: credentials in URIs are redacted wherever they occur
// in a text.
func TestHardening10_12_RedactURIs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://host/x", "https://host/x"},
		{"get https://alice:s3cret@img.example/a.img: 404", "get https://alice:xxxxx@img.example/a.img: 404"},
		{`"http://token@h:8080/p" and ftp://u:p@h`, `"http://xxxxx@h:8080/p" and ftp://u:xxxxx@h`},
		{"mail me@example.com, https://h/?a=b@c", "mail me@example.com, https://h/?a=b@c"},
		{"https://u:p:q@h/", "https://u:xxxxx@h/"},
		{"no scheme user:pass@host", "no scheme user:pass@host"},
	} {
		if got := RedactURIs(tc.in); got != tc.want {
			t.Errorf("RedactURIs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("https://a:b@c/\x1b[0m")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		for _, r := range out {
			if unsafe(r) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}
