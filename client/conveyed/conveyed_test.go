package conveyed

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readRFC(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rfc", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeRFCExamples decodes documents shaped like the RFC 8572 section
// 6.2 examples (our own equivalents, not copies).
func TestDecodeRFCExamples(t *testing.T) {
	ta := []byte("Base64 CMS placeholder")
	wantRedirect := &ConveyedInformation{Redirect: &RedirectInformation{BootstrapServers: []BootstrapServer{
		{Address: "sztp1.example.com", Port: 8443, TrustAnchor: ta},
		{Address: "sztp2.example.com", Port: 8443, TrustAnchor: ta},
	}}}
	hash, err := ParseHexString("ba:ec:cf:a5:67:82:b4:10:77:c6:67:a6:22:ab:7d:50:04:a7:8b:8f:0e:db:02:8b:f4:75:55:fb:c1:13:b2:33")
	if err != nil {
		t.Fatal(err)
	}
	onboarding := func(config string) *ConveyedInformation {
		return &ConveyedInformation{Onboarding: &OnboardingInformation{
			BootImage: &BootImage{
				OSName: "VendorOS", OSVersion: "17.2R1.6",
				DownloadURIs:      []string{"http://some/path/to/raw/file"},
				ImageVerification: []ImageVerification{{HashAlgorithm: HashSHA256, HashValue: hash}},
			},
			ConfigurationHandling:   Merge,
			PreConfigurationScript:  []byte("Script placeholder"),
			Configuration:           []byte(config),
			PostConfigurationScript: []byte("Script placeholder"),
		}}
	}
	rawConfig := `<!-- raw XML instead of base64: accepted as an interop leniency -->
    <system xmlns="urn:ietf:params:xml:ns:yang:ietf-system">
      <hostname>device-1</hostname>
    </system>`
	tests := []struct {
		file string
		enc  Encoding
		want *ConveyedInformation
	}{
		{"ex-redirect-information.json", JSON, wantRedirect},
		{"ex-redirect-information.xml", XML, wantRedirect},
		{"ex-onboarding-information.json", JSON, onboarding("Config placeholder")},
		{"ex-onboarding-information.xml", XML, onboarding(rawConfig)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readRFC(t, tt.file)
			if enc, err := Sniff(data); err != nil || enc != tt.enc {
				// XML documents starting with a comment sniff as XML too.
				t.Errorf("Sniff = %v, %v; want %v", enc, err, tt.enc)
			}
			got, err := Decode(data, tt.enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode:\n got %#v\nwant %#v", got, tt.want)
			}
			reenc, err := got.Encode(tt.enc)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			again, err := Decode(reenc, tt.enc)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip: %v\n got %#v", err, again)
			}
		})
	}
}

const (
	jsonRedirectPrefix   = `{"ietf-sztp-conveyed-info:redirect-information":`
	jsonOnboardingPrefix = `{"ietf-sztp-conveyed-info:onboarding-information":`
	xmlNS                = ` xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"`
)

func jr(servers string) string { return jsonRedirectPrefix + `{"bootstrap-server":[` + servers + `]}}` }
func jo(body string) string    { return jsonOnboardingPrefix + "{" + body + "}}" }
func jbi(body string) string {
	return jo(`"boot-image":{"download-uri":["https://x.example/img"],` + body + `}`)
}
func jiv(alg, value string) string {
	return jbi(`"image-verification":[{"hash-algorithm":` + alg + `,"hash-value":` + value + `}]`)
}
func xr(servers string) string {
	return `<redirect-information` + xmlNS + `>` + servers + `</redirect-information>`
}
func xo(body string) string {
	return `<onboarding-information` + xmlNS + `>` + body + `</onboarding-information>`
}
func xiv(iv string) string {
	return xo(`<boot-image><download-uri>https://x.example/img</download-uri><image-verification>` + iv + `</image-verification></boot-image>`)
}

// TestDecodeConveyedErrors: every rejection names the offending member.
func TestDecodeConveyedErrors(t *testing.T) {
	const (
		bsPath = "redirect-information/bootstrap-server"
		ivPath = "onboarding-information/boot-image/image-verification[1]"
	)
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		path string
		msg  string
	}{
		// JSON
		{"missing choice", JSON, `{}`, "", "missing mandatory choice"},
		{"both choices", JSON, `{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"a.example"}]},"ietf-sztp-conveyed-info:onboarding-information":{}}`, "", "both"},
		{"C80 configuration without handling", JSON, jo(`"configuration":"eA=="`), "onboarding-information/configuration", "requires configuration-handling"},
		{"C80 handling without configuration", JSON, jo(`"configuration-handling":"replace"`), "onboarding-information/configuration-handling", "requires configuration"},
		{"C84 image-verification without download-uri", JSON, jo(`"boot-image":{"image-verification":[{"hash-algorithm":"sha-256","hash-value":"01"}]}`), "onboarding-information/boot-image/image-verification", "requires download-uri"},
		{"bad hex digit", JSON, jiv(`"sha-256"`, `"ba:zz"`), ivPath + "/hash-value", "not hex"},
		{"bad hex octet length", JSON, jiv(`"sha-256"`, `"bae:cf"`), ivPath + "/hash-value", "two hex digits"},
		{"hex without colons", JSON, jiv(`"sha-256"`, `"baec"`), ivPath + "/hash-value", "two hex digits"},
		{"hash-value missing", JSON, jbi(`"image-verification":[{"hash-algorithm":"sha-256"}]`), ivPath + "/hash-value", "missing mandatory"},
		{"hash-algorithm missing", JSON, jbi(`"image-verification":[{"hash-value":"01"}]`), ivPath + "/hash-algorithm", "missing mandatory"},
		{"hash-algorithm malformed", JSON, jiv(`"a:b:c"`, `"01"`), ivPath + "/hash-algorithm", "malformed identity"},
		{"hash-algorithm number", JSON, jiv(`256`, `"01"`), ivPath + "/hash-algorithm", "want a JSON string"},
		{"duplicate hash-algorithm key", JSON, jbi(`"image-verification":[{"hash-algorithm":"sha-256","hash-value":"01"},{"hash-algorithm":"ietf-sztp-conveyed-info:sha-256","hash-value":"02"}]`), "onboarding-information/boot-image/image-verification[2]/hash-algorithm", "duplicate list key"},
		{"port too large", JSON, jr(`{"address":"a.example","port":65536}`), bsPath + "[1]/port", "out of range"},
		{"port negative", JSON, jr(`{"address":"a.example","port":-1}`), bsPath + "[1]/port", "not a non-negative integer"},
		{"port fraction", JSON, jr(`{"address":"a.example","port":443.5}`), bsPath + "[1]/port", "not a non-negative integer"},
		{"port exponent", JSON, jr(`{"address":"a.example","port":4e2}`), bsPath + "[1]/port", "not a non-negative integer"},
		{"port as string", JSON, jr(`{"address":"a.example","port":"443"}`), bsPath + "[1]/port", "want a JSON number"},
		{"port zero", JSON, jr(`{"address":"a.example","port":0}`), bsPath + "[1]/port", "port 0"},
		{"unknown top-level member", JSON, `{"ietf-sztp-conveyed-info:foo":{}}`, "ietf-sztp-conveyed-info:foo", "unknown member"},
		{"unknown nested member", JSON, jr(`{"address":"a.example","weight":1}`), bsPath + "[1]/weight", "unknown member"},
		{"wrong top-level module", JSON, `{"ietf-sztp-bootstrap-server:redirect-information":{}}`, "redirect-information", `want "ietf-sztp-conveyed-info"`},
		{"unqualified top-level", JSON, `{"redirect-information":{}}`, "redirect-information", "must be module-qualified"},
		{"nested wrong module", JSON, jr(`{"ietf-sztp-csr:address":"a.example"}`), bsPath + "[1]/address", `qualified with module "ietf-sztp-csr"`},
		{"duplicate member", JSON, jr(`{"address":"a.example","address":"b.example"}`), bsPath + "[1]/address", "duplicate member"},
		{"duplicate member qualified", JSON, jr(`{"address":"a.example","ietf-sztp-conveyed-info:address":"b.example"}`), bsPath + "[1]/address", "duplicate member"},
		{"duplicate top-level", JSON, `{"ietf-sztp-conveyed-info:onboarding-information":{},"ietf-sztp-conveyed-info:onboarding-information":{}}`, "onboarding-information", "duplicate member"},
		{"bad base64", JSON, jr(`{"address":"a.example","trust-anchor":"not base64!"}`), bsPath + "[1]/trust-anchor", "bad base64"},
		{"unknown configuration-handling", JSON, jo(`"configuration-handling":"overwrite","configuration":"eA=="`), "onboarding-information/configuration-handling", `unknown value "overwrite"`},
		{"empty bootstrap-server list", JSON, jr(``), bsPath, "min-elements 1"},
		{"redirect without list", JSON, jsonRedirectPrefix + `{}}`, bsPath, "min-elements 1"},
		{"address missing", JSON, jr(`{"port":8443}`), bsPath + "[1]/address", "missing mandatory leaf address"},
		{"address not a host", JSON, jr(`{"address":"sztp.example.com:8443"}`), bsPath + "[1]/address", "neither an IP address nor a domain name"},
		{"duplicate address key", JSON, jr(`{"address":"a.example"},{"address":"b.example"},{"address":"a.example","port":1}`), bsPath + "[3]/address", "duplicate list key"},
		{"list given as object", JSON, jsonRedirectPrefix + `{"bootstrap-server":{"address":"a.example"}}}`, bsPath, "want a JSON array"},
		{"container given as array", JSON, jo(`"boot-image":[]`), "onboarding-information/boot-image", "want a JSON object"},
		{"string given as number", JSON, jo(`"boot-image":{"os-name":5}`), "onboarding-information/boot-image/os-name", "want a JSON string"},
		{"control character", JSON, jo(`"boot-image":{"os-name":"a\u0001b"}`), "onboarding-information/boot-image/os-name", "not allowed in a YANG string"},
		{"relative download-uri", JSON, jo(`"boot-image":{"download-uri":["https://ok.example/a","img.bin"]}`), "onboarding-information/boot-image/download-uri[2]", "not an absolute URI"},
		{"trailing data", JSON, jo(``) + `{}`, "", "after the document"},
		{"syntax error", JSON, `{"ietf-sztp-conveyed-info:onboarding-information":{,}}`, "onboarding-information", "bad JSON"},
		{"truncated", JSON, `{"ietf-sztp-conveyed-info:onboarding-information":{`, "onboarding-information", ""},
		{"not an object", JSON, `[]`, "", "want a JSON object"},

		// XML
		{"xml no namespace", XML, `<redirect-information><bootstrap-server><address>a.example</address></bootstrap-server></redirect-information>`, "redirect-information", "no namespace"},
		{"xml wrong namespace", XML, `<redirect-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"/>`, "redirect-information", "want \"urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info\""},
		{"xml unknown root", XML, `<conveyed-information` + xmlNS + `/>`, "conveyed-information", "unknown element"},
		{"xml unknown child", XML, xr(`<bootstrap-server><address>a.example</address><weight>1</weight></bootstrap-server>`), bsPath + "[1]/weight", "unknown element"},
		{"xml child in other namespace", XML, xr(`<bootstrap-server><address xmlns="urn:example">a.example</address></bootstrap-server>`), bsPath + "[1]/address", `"urn:example"`},
		{"xml duplicate leaf", XML, xr(`<bootstrap-server><address>a.example</address><address>b.example</address></bootstrap-server>`), bsPath + "[1]/address", "duplicate element"},
		{"xml duplicate container", XML, xo(`<boot-image/><boot-image/>`), "onboarding-information/boot-image", "duplicate element"},
		{"xml bad hex", XML, xiv(`<hash-algorithm>sha-256</hash-algorithm><hash-value>0g</hash-value>`), ivPath + "/hash-value", "not hex"},
		{"xml port too large", XML, xr(`<bootstrap-server><address>a.example</address><port>99999</port></bootstrap-server>`), bsPath + "[1]/port", "out of range"},
		{"xml port negative", XML, xr(`<bootstrap-server><address>a.example</address><port>-5</port></bootstrap-server>`), bsPath + "[1]/port", "not a non-negative integer"},
		{"xml port fraction", XML, xr(`<bootstrap-server><address>a.example</address><port>80.0</port></bootstrap-server>`), bsPath + "[1]/port", "not a non-negative integer"},
		{"xml port zero", XML, xr(`<bootstrap-server><address>a.example</address><port>0</port></bootstrap-server>`), bsPath + "[1]/port", "port 0"},
		{"xml bad base64", XML, xr(`<bootstrap-server><address>a.example</address><trust-anchor>%%%</trust-anchor></bootstrap-server>`), bsPath + "[1]/trust-anchor", "bad base64"},
		{"xml unknown enum", XML, xo(`<configuration-handling>append</configuration-handling><configuration>eA==</configuration>`), "onboarding-information/configuration-handling", `unknown value "append"`},
		{"xml empty redirect", XML, xr(``), bsPath, "min-elements 1"},
		{"xml address missing", XML, xr(`<bootstrap-server><port>1</port></bootstrap-server>`), bsPath + "[1]/address", "missing mandatory"},
		{"xml duplicate address key", XML, xr(`<bootstrap-server><address>a.example</address></bootstrap-server><bootstrap-server><address>a.example</address></bootstrap-server>`), bsPath + "[2]/address", "duplicate list key"},
		{"xml C80", XML, xo(`<configuration>eA==</configuration>`), "onboarding-information/configuration", "requires configuration-handling"},
		{"xml C84", XML, xo(`<boot-image><image-verification><hash-algorithm>sha-256</hash-algorithm><hash-value>01</hash-value></image-verification></boot-image>`), "onboarding-information/boot-image/image-verification", "requires download-uri"},
		{"xml text in container", XML, xo(`hello<boot-image/>`), "onboarding-information", "unexpected text"},
		{"xml unknown attribute", XML, xo(`<boot-image foo="bar"/>`), "onboarding-information/boot-image", `unexpected attribute "foo"`},
		{"xml element in leaf", XML, xo(`<boot-image><os-name><b>x</b></os-name></boot-image>`), "onboarding-information/boot-image/os-name", "unexpected element <b>"},
		{"xml undeclared identity prefix", XML, xiv(`<hash-algorithm>h:sha-256</hash-algorithm><hash-value>01</hash-value>`), ivPath + "/hash-algorithm", `undeclared prefix "h"`},
		{"xml malformed identity", XML, xiv(`<hash-algorithm>sha 256</hash-algorithm><hash-value>01</hash-value>`), ivPath + "/hash-algorithm", "malformed identity"},
		{"xml two roots", XML, xo(``) + xo(``), "onboarding-information", "second top-level element"},
		{"xml DTD", XML, `<!DOCTYPE x [<!ENTITY a "b">]>` + xo(``), "", "DTD"},
		{"xml text outside root", XML, `junk` + xo(``), "", "text outside"},
		{"xml empty document", XML, ``, "", "no top-level element"},
		{"xml unclosed", XML, `<onboarding-information` + xmlNS + `><boot-image>`, "onboarding-information/boot-image", "bad XML"},
		{"xml mismatched tags", XML, `<onboarding-information` + xmlNS + `><boot-image></os-name></onboarding-information>`, "onboarding-information/boot-image", "bad XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.doc), tt.enc)
			if err == nil {
				t.Fatalf("Decode accepted %s:\n%#v", tt.doc, got)
			}
			assertPath(t, err, tt.path, tt.msg)
		})
	}
}

// TestDecodeConveyedAccepts covers documents that must be accepted, with
// the normalised value they yield.
func TestDecodeConveyedAccepts(t *testing.T) {
	iv := func(alg string) *ConveyedInformation {
		return &ConveyedInformation{Onboarding: &OnboardingInformation{BootImage: &BootImage{
			DownloadURIs:      []string{"https://x.example/img"},
			ImageVerification: []ImageVerification{{HashAlgorithm: alg, HashValue: []byte{0xab, 0xcd}}},
		}}}
	}
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		want *ConveyedInformation
	}{
		{"C74 bare sha-256", JSON, jiv(`"sha-256"`, `"AB:cd"`), iv(HashSHA256)},
		{"C74 qualified sha-256", JSON, jiv(`"ietf-sztp-conveyed-info:sha-256"`, `"ab:CD"`), iv(HashSHA256)},
		{"unknown algorithm kept", JSON, jiv(`"example-hash:sha-512"`, `"ab:cd"`), iv("example-hash:sha-512")},
		{"nested member qualified with own module", JSON, jsonOnboardingPrefix + `{"ietf-sztp-conveyed-info:boot-image":{"ietf-sztp-conveyed-info:download-uri":["https://x.example/img"],"image-verification":[{"hash-algorithm":"sha-256","ietf-sztp-conveyed-info:hash-value":"ab:cd"}]}}}`, iv(HashSHA256)},
		{"xml default namespace", XML, xiv(`<hash-algorithm>sha-256</hash-algorithm><hash-value>ab:cd</hash-value>`), iv(HashSHA256)},
		{"xml any prefix bound to conveyed-info", XML, xiv(`<hash-algorithm xmlns:ci="` + NamespaceConveyedInfo + `">ci:sha-256</hash-algorithm><hash-value> ab:cd </hash-value>`), iv(HashSHA256)},
		{"xml prefix declared on root", XML, `<x:onboarding-information xmlns:x="` + NamespaceConveyedInfo + `"><x:boot-image><x:download-uri>https://x.example/img</x:download-uri><x:image-verification><x:hash-algorithm>x:sha-256</x:hash-algorithm><x:hash-value>ab:cd</x:hash-value></x:image-verification></x:boot-image></x:onboarding-information>`, iv(HashSHA256)},
		{"xml IETF-namespace algorithm", XML, xiv(`<hash-algorithm xmlns:h="urn:ietf:params:xml:ns:yang:example-hash">h:sha-512</hash-algorithm><hash-value>ab:cd</hash-value>`), iv("example-hash:sha-512")},
		{"xml other-namespace algorithm", XML, xiv(`<hash-algorithm xmlns:h="http://example.com/ns/hash">h:sha-512</hash-algorithm><hash-value>ab:cd</hash-value>`), iv("{http://example.com/ns/hash}sha-512")},
		{"xml declaration and comments", XML, `<?xml version="1.0" encoding="UTF-8"?>` + "\n<!-- c -->" + xr(`<!-- c --><bootstrap-server><address>192.0.2.1</address><port>0443</port></bootstrap-server>`) + "\n<!-- end -->\n",
			&ConveyedInformation{Redirect: &RedirectInformation{BootstrapServers: []BootstrapServer{{Address: "192.0.2.1", Port: 443}}}}},
		{"empty onboarding", JSON, jo(``), &ConveyedInformation{Onboarding: &OnboardingInformation{}}},
		{"byte order mark json", JSON, "\ufeff" + jo(``), &ConveyedInformation{Onboarding: &OnboardingInformation{}}},
		{"byte order mark xml", XML, "\ufeff" + xo(`<configuration-handling>merge</configuration-handling><configuration><a/></configuration>`),
			&ConveyedInformation{Onboarding: &OnboardingInformation{ConfigurationHandling: Merge, Configuration: []byte("<a/>")}}},
		{"ipv6 with zone and trailing-dot name", JSON, jr(`{"address":"fe80::1%eth0"},{"address":"sztp.example.com."}`),
			&ConveyedInformation{Redirect: &RedirectInformation{BootstrapServers: []BootstrapServer{{Address: "fe80::1%eth0"}, {Address: "sztp.example.com."}}}}},
		{"xml raw configuration", XML, xo(`<configuration-handling>replace</configuration-handling><configuration>
  <cfg xmlns="urn:example:cfg"><a>1</a></cfg>
</configuration>`), &ConveyedInformation{Onboarding: &OnboardingInformation{ConfigurationHandling: Replace, Configuration: []byte(`<cfg xmlns="urn:example:cfg"><a>1</a></cfg>`)}}},
		{"xml wrapped base64 configuration", XML, xo(`<configuration-handling>merge</configuration-handling><configuration>
  PGNm
  Zy8+
</configuration>`), &ConveyedInformation{Onboarding: &OnboardingInformation{ConfigurationHandling: Merge, Configuration: []byte(`<cfg/>`)}}},
		{"xml empty configuration", XML, xo(`<configuration-handling>merge</configuration-handling><configuration/>`), &ConveyedInformation{Onboarding: &OnboardingInformation{ConfigurationHandling: Merge, Configuration: []byte{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.doc), tt.enc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode:\n got %#v\nwant %#v", got, tt.want)
			}
			for _, enc := range encodings {
				b, err := got.Encode(enc)
				if strings.HasPrefix(got.hashAlgorithm(), "{") && enc == JSON {
					// A namespace without a module name has no JSON form.
					assertPath(t, err, ivPathFirst, "cannot be encoded as JSON")
					continue
				}
				if err != nil {
					t.Fatalf("Encode(%s): %v", enc, err)
				}
				again, err := Decode(b, enc)
				if err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("round trip via %s: %v\n%s", enc, err, b)
				}
			}
		})
	}
}

const ivPathFirst = "onboarding-information/boot-image/image-verification[1]/hash-algorithm"

func (ci *ConveyedInformation) hashAlgorithm() string {
	if ci.Onboarding == nil || ci.Onboarding.BootImage == nil || len(ci.Onboarding.BootImage.ImageVerification) == 0 {
		return ""
	}
	return ci.Onboarding.BootImage.ImageVerification[0].HashAlgorithm
}

// TestEncodeValidates: Encode refuses values that violate the model.
func TestEncodeValidates(t *testing.T) {
	tests := []struct {
		name string
		v    codec
		path string
		msg  string
	}{
		{"empty", &ConveyedInformation{}, "", "missing mandatory choice"},
		{"both", &ConveyedInformation{Redirect: &RedirectInformation{}, Onboarding: &OnboardingInformation{}}, "", "both"},
		{"no servers", &ConveyedInformation{Redirect: &RedirectInformation{}}, "redirect-information/bootstrap-server", "min-elements"},
		{"bad handling", &ConveyedInformation{Onboarding: &OnboardingInformation{ConfigurationHandling: "overwrite", Configuration: []byte("x")}}, "onboarding-information/configuration-handling", "unknown value"},
		{"bad identity", &ConveyedInformation{Onboarding: &OnboardingInformation{BootImage: &BootImage{
			DownloadURIs: []string{"https://a.example/"}, ImageVerification: []ImageVerification{{HashAlgorithm: "sha 256", HashValue: []byte{1}}}}}}, ivPathFirst, "malformed identity"},
		{"short nonce", &GetBootstrappingDataInput{Nonce: make([]byte, 15)}, "input/nonce", "15 octets"},
		{"C66", &ReportProgressInput{ProgressType: Informational, TrustAnchorCerts: [][]byte{{1}}}, "input/trust-anchor-certs", "C66"},
		{"errors without type", &Errors{Error: []RESTCONFError{{Tag: "x"}}}, "errors/error[1]/error-type", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range encodings {
				b, err := tt.v.Encode(enc)
				if err == nil {
					t.Fatalf("Encode(%s) accepted an invalid value:\n%s", enc, b)
				}
				assertPath(t, err, tt.path, tt.msg)
			}
		})
	}
}

func TestEncodeNormalisesHashAlgorithm(t *testing.T) {
	ci := &ConveyedInformation{Onboarding: &OnboardingInformation{BootImage: &BootImage{
		DownloadURIs:      []string{"https://a.example/"},
		ImageVerification: []ImageVerification{{HashAlgorithm: "ietf-sztp-conveyed-info:sha-256", HashValue: []byte{1}}},
	}}}
	for _, enc := range encodings {
		b, err := ci.Encode(enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b, enc)
		if err != nil {
			t.Fatal(err)
		}
		if alg := got.hashAlgorithm(); alg != HashSHA256 || !got.Onboarding.BootImage.ImageVerification[0].Supported() {
			t.Errorf("%s: hash-algorithm %q, want %q", enc, alg, HashSHA256)
		}
	}
}

func TestHexString(t *testing.T) {
	tests := []struct {
		in      string
		want    []byte
		wantErr bool
	}{
		{"", []byte{}, false},
		{"00", []byte{0}, false},
		{"BA:ec:Cf", []byte{0xba, 0xec, 0xcf}, false},
		{"ba:", nil, true},
		{":ba", nil, true},
		{"b", nil, true},
		{"bae", nil, true},
		{"ba::ec", nil, true},
		{"g0", nil, true},
		{"ba-ec", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseHexString(tt.in)
		if (err != nil) != tt.wantErr || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseHexString(%q) = %x, %v; want %x, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && !strings.EqualFold(FormatHexString(got), tt.in) {
			t.Errorf("FormatHexString(%x) = %q, want %q (any case)", got, FormatHexString(got), tt.in)
		}
	}
}

func TestEncodingHelpers(t *testing.T) {
	if JSON.MediaType() != "application/yang-data+json" || XML.MediaType() != "application/yang-data+xml" {
		t.Errorf("media types %q %q", JSON.MediaType(), XML.MediaType())
	}
	for _, tt := range []struct {
		in   string
		want Encoding
		err  bool
	}{{"json", JSON, false}, {"xml", XML, false}, {"", JSON, false}, {"yaml", JSON, true}} {
		got, err := ParseEncoding(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseEncoding(%q) = %v, %v", tt.in, got, err)
		}
	}
	for _, tt := range []struct {
		in   string
		want Encoding
		err  bool
	}{{" \n{}", JSON, false}, {"\ufeff<a/>", XML, false}, {"", JSON, true}, {"x", JSON, true}} {
		got, err := Sniff([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Sniff(%q) = %v, %v", tt.in, got, err)
		}
	}
	if (BootstrapServer{}).EffectivePort() != 443 || (BootstrapServer{Port: 8443}).EffectivePort() != 8443 {
		t.Error("EffectivePort")
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"sztp.example.com", true},
		{"sztp.example.com.", true},
		{"_sztp.example", true},
		{"192.0.2.1", true},
		{"2001:db8::1", true},
		{"fe80::1%eth0", true},
		{"localhost", true},
		{"", false},
		{"[2001:db8::1]", false},
		{"a..b", false},
		{"-a.example", false},
		{"a-.example", false},
		{"a b", false},
		{"host:443", false},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("a.", 127) + "aa", false}, // 256 octets
	}
	for _, tt := range tests {
		err := checkHost("address", tt.host)
		if (err == nil) != tt.ok {
			t.Errorf("checkHost(%q) = %v, want ok=%v", tt.host, err, tt.ok)
		}
	}
}

func TestValidationErrorUnwraps(t *testing.T) {
	_, err := Decode([]byte(jr(`{"address":"a.example","trust-anchor":"!!!!"}`)), JSON)
	var corrupt base64.CorruptInputError
	if !errors.As(err, &corrupt) {
		t.Errorf("error %v does not unwrap to base64.CorruptInputError", err)
	}
}
