package settings

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Values
		err      string
	}{
		{"scalars", "bootstrap-url: https://a.example\nonce: true\n", Values{"bootstrap-url": {"https://a.example"}, "once": {"true"}}, ""},
		{"comments and blanks", "# device config\n\nstate-dir: /var/lib/sztp # trailing\n", Values{"state-dir": {"/var/lib/sztp"}}, ""},
		{"hash inside value", "os-name: os#1\n", Values{"os-name": {"os#1"}}, ""},
		{"quoted", "os-name: \"My OS # 1\"\nos-version: 'it''s 2'\n", Values{"os-name": {"My OS # 1"}, "os-version": {"it's 2"}}, ""},
		{"flow list", "bootstrap-url: [https://a, \"https://b:8443\"]\n", Values{"bootstrap-url": {"https://a", "https://b:8443"}}, ""},
		{"empty flow list", "bootstrap-url: []\n", Values{"bootstrap-url": {}}, ""},
		{"block list", "server-trust-anchor:\n  - /etc/sztp/a.pem\n  - \"/etc/sztp/b.pem\"\nonce: false\n", Values{"server-trust-anchor": {"/etc/sztp/a.pem", "/etc/sztp/b.pem"}, "once": {"false"}}, ""},
		{"crlf", "once: true\r\n", Values{"once": {"true"}}, ""},
		{"exec hook with colon", "image-hook: exec:/usr/lib/vendor/install\n", Values{"image-hook": {"exec:/usr/lib/vendor/install"}}, ""},
		{"duplicate", "once: true\nonce: false\n", nil, "line 2: key \"once\" given twice"},
		{"no colon", "once\n", nil, "line 1: want \"key: value\""},
		{"nested map", "tpm:\n  path: /dev/tpm0\n", nil, "line 2: unexpected indentation"},
		{"indented key", "  once: true\n", nil, "line 1: unexpected indentation"},
		{"tab", "\tonce: true\n", nil, "line 1: tabs"},
		{"bad key", "Bootstrap_URL: x\n", nil, "line 1: bad key"},
		{"anchor", "once: &a true\n", nil, "unsupported YAML syntax"},
		{"unterminated list", "bootstrap-url: [a, b\n", nil, "unterminated list"},
		{"bad quote", "os-name: \"abc\n", nil, "bad double-quoted string"},
		{"empty item", "bootstrap-url: [a,,b]\n", nil, "empty list item"},
		{"stray list item", "- a\n", nil, "line 1: list item outside a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfigFile([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseCmdline(t *testing.T) {
	in := `BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet sztp.url=https://a,https://b:8443 sztp.url=https://c ` +
		`sztp.disable sztp.tpm=tcp://127.0.0.1:2321 "sztp.os-name=Vendor OS" sztp.= sztpx.y=1 sztp.state-dir=/run/sztp` + "\n"
	want := Values{
		"bootstrap-url": {"https://a", "https://b:8443", "https://c"},
		"disable":       {"true"},
		"tpm":           {"tcp://127.0.0.1:2321"},
		"os-name":       {"Vendor OS"},
		"state-dir":     {"/run/sztp"},
	}
	if got := ParseCmdline(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func FuzzParseConfigFile(f *testing.F) {
	for _, s := range []string{"once: true\n", "a: [x, 'y', \"z\"]\n", "k:\n  - a\n  - b\n", "# c\nk: 'it''s'\n", "k: \"\\u00e9\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseConfigFile(data)
		if err != nil {
			return
		}
		for k := range s {
			if !validKey(k) {
				t.Errorf("accepted bad key %q", k)
			}
		}
	})
}

func FuzzParseCmdline(f *testing.F) {
	f.Add("root=/dev/sda sztp.url=https://a,https://b sztp.disable \"sztp.os-name=A B\"")
	f.Fuzz(func(t *testing.T, s string) {
		for k, vs := range ParseCmdline(s) {
			if k == "" || strings.ContainsAny(k, " \t\n") {
				t.Errorf("bad key %q", k)
			}
			for _, v := range vs {
				if ListKeys[k] && (v == "" || strings.Contains(v, ",")) {
					t.Errorf("list value %q of %s not split", v, k)
				}
			}
		}
	})
}
