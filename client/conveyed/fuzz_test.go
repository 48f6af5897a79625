package conveyed

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets check that decoding never panics and that anything
// decoded re-encodes (same encoding) and decodes to the same value. JSON
// values must also survive a trip through XML. Seed corpora live in
// testdata/fuzz/<FuzzName>/ (written by TestWriteFuzzSeeds -update).

func FuzzDecodeJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := Decode(data, JSON)
		if err != nil {
			return
		}
		checkRoundTrip(t, ci, JSON, Decode)
		checkRoundTrip(t, ci, XML, Decode)
	})
}

func FuzzDecodeXML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := Decode(data, XML)
		if err != nil {
			return
		}
		checkRoundTrip(t, ci, XML, Decode)
		if !ci.hasNamespaceOnlyIdentity() { // those have no JSON form
			checkRoundTrip(t, ci, JSON, Decode)
		}
	})
}

// FuzzDecodeOutput covers what a bootstrap server sends back: the
// get-bootstrapping-data output and RESTCONF errors.
func FuzzDecodeOutput(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, isXML bool) {
		enc := JSON
		if isXML {
			enc = XML
		}
		if out, err := DecodeGetBootstrappingDataOutput(data, enc); err == nil {
			checkRoundTrip(t, out, enc, DecodeGetBootstrappingDataOutput)
		}
		if e, err := DecodeErrors(data, enc); err == nil {
			checkRoundTrip(t, e, enc, DecodeErrors)
		}
	})
}

// FuzzDecodeInput covers the RPC inputs (what a test server parses).
func FuzzDecodeInput(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, isXML bool) {
		enc := JSON
		if isXML {
			enc = XML
		}
		if in, err := DecodeGetBootstrappingDataInput(data, enc); err == nil {
			checkRoundTrip(t, in, enc, DecodeGetBootstrappingDataInput)
		}
		if in, err := DecodeReportProgressInput(data, enc); err == nil {
			checkRoundTrip(t, in, enc, DecodeReportProgressInput)
		}
	})
}

func checkRoundTrip[T codec](t *testing.T, v T, enc Encoding, decode func([]byte, Encoding) (T, error)) {
	t.Helper()
	b, err := v.Encode(enc)
	if err != nil {
		t.Fatalf("decoded value does not encode as %s: %v\n%#v", enc, err, v)
	}
	again, err := decode(b, enc)
	if err != nil {
		t.Fatalf("re-encoded %s does not decode: %v\n%s", enc, err, b)
	}
	if !reflect.DeepEqual(again, v) {
		t.Fatalf("%s round trip changed the value:\n got %#v\nwant %#v\n%s", enc, again, v, b)
	}
}

func (ci *ConveyedInformation) hasNamespaceOnlyIdentity() bool {
	if ci.Onboarding == nil || ci.Onboarding.BootImage == nil {
		return false
	}
	for _, v := range ci.Onboarding.BootImage.ImageVerification {
		if strings.HasPrefix(v.HashAlgorithm, "{") {
			return true
		}
	}
	return false
}

// TestWriteFuzzSeeds writes the seed corpora from the golden files and the
// RFC-shaped examples (with -update), and otherwise checks they exist.
func TestWriteFuzzSeeds(t *testing.T) {
	type seed struct {
		name  string
		data  []byte
		isXML bool
	}
	corpora := map[string][]seed{}
	add := func(target, name string, data []byte, isXML bool) {
		corpora[target] = append(corpora[target], seed{name, data, isXML})
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, g := range goldenFixtures {
		for _, enc := range encodings {
			data := read(goldenPath(g.name, enc))
			name := "golden-" + g.name + "-" + enc.String()
			switch g.v.(type) {
			case *ConveyedInformation:
				if enc == JSON {
					add("FuzzDecodeJSON", name, data, false)
				} else {
					add("FuzzDecodeXML", name, data, true)
				}
			case *GetBootstrappingDataOutput, *Errors:
				add("FuzzDecodeOutput", name, data, enc == XML)
			default:
				add("FuzzDecodeInput", name, data, enc == XML)
			}
		}
	}
	rfc, err := filepath.Glob(filepath.Join("testdata", "rfc", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rfc {
		base := filepath.Base(p)
		data, isXML := read(p), strings.HasSuffix(base, ".xml")
		name := "rfc-" + strings.TrimSuffix(base, filepath.Ext(base)) + "-" + strings.TrimPrefix(filepath.Ext(base), ".")
		switch {
		case strings.Contains(base, "information"):
			if isXML {
				add("FuzzDecodeXML", name, data, true)
			} else {
				add("FuzzDecodeJSON", name, data, false)
			}
		case strings.Contains(base, "reply"):
			add("FuzzDecodeOutput", name, data, isXML)
		default:
			add("FuzzDecodeInput", name, data, isXML)
		}
	}
	// A few tricky shapes the golden files do not have.
	add("FuzzDecodeXML", "tricky-prefixes", []byte(`<x:onboarding-information xmlns:x="`+NamespaceConveyedInfo+`"><x:boot-image><x:download-uri>https://a.example/</x:download-uri>`+
		`<x:image-verification><x:hash-algorithm xmlns:h="http://example.com/h">h:sha-512</x:hash-algorithm><x:hash-value>01</x:hash-value></x:image-verification></x:boot-image>`+
		`<x:configuration-handling>merge</x:configuration-handling><x:configuration><a xmlns="urn:a">&amp;<!--c--></a></x:configuration></x:onboarding-information>`), true)
	add("FuzzDecodeJSON", "tricky-qualified", []byte(jsonOnboardingPrefix+`{"ietf-sztp-conveyed-info:boot-image":{"os-name":"\u00e9\r\n","download-uri":["https://a.example/?a=<b>&c"],"image-verification":[{"hash-algorithm":"x:y","hash-value":""}]}}}`), false)
	add("FuzzDecodeInput", "tricky-empty", []byte(ji(`"signed-data-preferred":[null],"nonce":"`+nonce16+`"`)), false)
	add("FuzzDecodeOutput", "tricky-anydata", readRFC(t, "ex-csr-request-reply.json"), false)

	for target, seeds := range corpora {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range seeds {
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\n"
			if target == "FuzzDecodeOutput" || target == "FuzzDecodeInput" {
				content += fmt.Sprintf("bool(%t)\n", s.isXML)
			}
			path := filepath.Join(dir, s.name)
			if *update {
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != content {
				t.Errorf("seed %s is missing or stale (run go test -run TestWriteFuzzSeeds -update)", path)
			}
		}
	}
}
