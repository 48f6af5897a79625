package conveyed

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"testing"
)

const (
	jsonInputPrefix = `{"ietf-sztp-bootstrap-server:input":`
	bsNS            = ` xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"`
	csrNS           = ` xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-csr"`
)

func ji(body string) string { return jsonInputPrefix + "{" + body + "}}" }
func xi(body string) string { return `<input` + bsNS + `>` + body + `</input>` }
func jout(body string) string {
	return `{"ietf-sztp-bootstrap-server:output":{` + body + `}}`
}
func xout(body string) string { return `<output` + bsNS + `>` + body + `</output>` }

const (
	nonce16 = "AAECAwQFBgcICQoLDA0ODw==" // 16 octets
	cmsB64  = "Q01T"
)

func TestDecodeGetBootstrappingDataInputErrors(t *testing.T) {
	const formats = `"csr-generation":{"supported-formats":{"format-identifier":["ietf-ztp-types:p10-csr"]}}`
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		path string
		msg  string
	}{
		{"nonce 15 octets", JSON, ji(`"nonce":"AAECAwQFBgcICQoLDA0O"`), "input/nonce", "15 octets, want 16..32"},
		{"nonce 33 octets", JSON, ji(`"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"`), "input/nonce", "33 octets"},
		{"nonce empty", JSON, ji(`"nonce":""`), "input/nonce", "0 octets"},
		{"nonce bad base64", JSON, ji(`"nonce":"AAECAwQFBgcICQoLDA0ODw"`), "input/nonce", "bad base64"},
		{"signed-data-preferred true", JSON, ji(`"signed-data-preferred":true`), "input/signed-data-preferred", "[null]"},
		{"signed-data-preferred []", JSON, ji(`"signed-data-preferred":[]`), "input/signed-data-preferred", "[null]"},
		{"signed-data-preferred [null,null]", JSON, ji(`"signed-data-preferred":[null,null]`), "input/signed-data-preferred", "[null]"},
		{"signed-data-preferred null", JSON, ji(`"signed-data-preferred":null`), "input/signed-data-preferred", "[null]"},
		{"csr-support and p10-csr", JSON, ji(`"ietf-sztp-csr:csr-support":{` + formats + `},"ietf-sztp-csr:p10-csr":"` + cmsB64 + `"`), "input/p10-csr", "one choice"},
		{"cmc-csr and cmp-csr", JSON, ji(`"ietf-sztp-csr:cmc-csr":"` + cmsB64 + `","ietf-sztp-csr:cmp-csr":"` + cmsB64 + `"`), "input/cmp-csr", "one choice"},
		{"csr-support without formats", JSON, ji(`"ietf-sztp-csr:csr-support":{}`), "input/csr-support/csr-generation/supported-formats/format-identifier", "min-elements 1"},
		{"key-generation without algorithms", JSON, ji(`"ietf-sztp-csr:csr-support":{"key-generation":{},` + formats + `}`), "input/csr-support/key-generation/supported-algorithms/algorithm-identifier", "min-elements 1"},
		{"format not an identity", JSON, ji(`"ietf-sztp-csr:csr-support":{"csr-generation":{"supported-formats":{"format-identifier":["p10 csr"]}}}`), "input/csr-support/csr-generation/supported-formats/format-identifier[1]", "malformed identity"},
		{"csr-support unqualified", JSON, ji(`"csr-support":{}`), "input/csr-support", `must be module-qualified as "ietf-sztp-csr:csr-support"`},
		{"csr-support wrong module", JSON, ji(`"ietf-sztp-bootstrap-server:csr-support":{}`), "input/csr-support", `want "ietf-sztp-csr"`},
		{"unknown member", JSON, ji(`"serial-number":"X"`), "input/serial-number", "unknown member"},
		{"no input", JSON, `{}`, "", "missing ietf-sztp-bootstrap-server:input"},
		{"output instead of input", JSON, jout(``), "ietf-sztp-bootstrap-server:output", "unknown member"},
		{"input unqualified", JSON, `{"input":{}}`, "input", "must be module-qualified"},
		{"xml signed-data-preferred with content", XML, xi(`<signed-data-preferred>true</signed-data-preferred>`), "input/signed-data-preferred", "no content"},
		{"xml csr-support in bootstrap namespace", XML, xi(`<csr-support/>`), "input/csr-support", "ietf-sztp-csr"},
		{"xml input in conveyed-info namespace", XML, `<input` + xmlNS + `/>`, "input", "ietf-sztp-bootstrap-server"},
		{"xml p10-csr bad base64", XML, xi(`<p10-csr` + csrNS + `>!!</p10-csr>`), "input/p10-csr", "bad base64"},
		{"xml format undeclared prefix", XML, xi(`<csr-support` + csrNS + `><csr-generation><supported-formats><format-identifier>zt:p10-csr</format-identifier></supported-formats></csr-generation></csr-support>`), "input/csr-support/csr-generation/supported-formats/format-identifier[1]", "undeclared prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeGetBootstrappingDataInput([]byte(tt.doc), tt.enc)
			if err == nil {
				t.Fatalf("accepted %s: %#v", tt.doc, got)
			}
			assertPath(t, err, tt.path, tt.msg)
		})
	}
}

func TestDecodeGetBootstrappingDataInputExamples(t *testing.T) {
	nonce, err := base64.StdEncoding.DecodeString("extralongbase64encodedvalue=")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		enc  Encoding
		want *GetBootstrappingDataInput
	}{
		{"ex-gbd-rpc-trusted.xml", XML, &GetBootstrappingDataInput{HWModel: "model-x", OSName: "vendor-os", OSVersion: "17.3R2.1", Nonce: nonce}},
		{"ex-gbd-rpc-trusted.json", JSON, &GetBootstrappingDataInput{HWModel: "model-x", OSName: "vendor-os", OSVersion: "17.3R2.1", Nonce: nonce}},
		{"ex-gbd-rpc-untrusted.xml", XML, &GetBootstrappingDataInput{SignedDataPreferred: true}},
		{"ex-gbd-with-csr-support.json", JSON, &GetBootstrappingDataInput{
			HWModel: "model-x", OSName: "vendor-os", OSVersion: "17.3R2.1", Nonce: nonce,
			CSRSupport: &CSRSupport{
				KeyGenerationAlgorithms: [][]byte{[]byte("Base64 alg1"), []byte("Base64 alg2")},
				CSRFormats:              []string{FormatP10CSR, FormatCMCCSR, FormatCMPCSR},
			},
		}},
		{"ex-gbd-with-csr.json", JSON, &GetBootstrappingDataInput{HWModel: "model-x", Nonce: nonce, P10CSR: []byte("Base64 CSR")}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := DecodeGetBootstrappingDataInput(readRFC(t, tt.file), tt.enc)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeGetBootstrappingDataOutput(t *testing.T) {
	cms := []byte("CMS")
	t.Run("accepts", func(t *testing.T) {
		tests := []struct {
			name string
			enc  Encoding
			doc  []byte
			want *GetBootstrappingDataOutput
		}{
			{"rfc xml", XML, readRFC(t, "ex-gbd-rpc-reply.xml"), &GetBootstrappingDataOutput{ReportingLevel: Verbose, ConveyedInformation: []byte("Base64 CMS placeholder")}},
			{"rfc json signed", JSON, readRFC(t, "ex-gbd-rpc-reply-signed.json"), &GetBootstrappingDataOutput{
				ConveyedInformation: []byte("Base64 CMS placeholder"), OwnerCertificate: []byte("Base64 CMS placeholder"), OwnershipVoucher: []byte("Base64 CMS placeholder")}},
			{"minimal", JSON, []byte(jout(`"reporting-level":"minimal","conveyed-information":"` + cmsB64 + `"`)), &GetBootstrappingDataOutput{ReportingLevel: Minimal, ConveyedInformation: cms}},
		}
		for _, tt := range tests {
			got, err := DecodeGetBootstrappingDataOutput(tt.doc, tt.enc)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %#v\nwant %#v", tt.name, got, tt.want)
			}
		}
		if l := (&GetBootstrappingDataOutput{}).EffectiveReportingLevel(); l != Minimal {
			t.Errorf("default reporting level %q, want minimal", l)
		}
	})
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		path string
		msg  string
	}{
		{"C57 missing conveyed-information", JSON, jout(`"reporting-level":"verbose"`), "output/conveyed-information", "missing mandatory"},
		{"C57 empty conveyed-information", JSON, jout(`"conveyed-information":""`), "output/conveyed-information", "missing mandatory"},
		{"C57 owner-certificate alone", JSON, jout(`"conveyed-information":"` + cmsB64 + `","owner-certificate":"` + cmsB64 + `"`), "output/ownership-voucher", "required when owner-certificate"},
		{"C57 ownership-voucher alone", XML, xout(`<conveyed-information>` + cmsB64 + `</conveyed-information><ownership-voucher>` + cmsB64 + `</ownership-voucher>`), "output/owner-certificate", "required when ownership-voucher"},
		{"unknown reporting-level", JSON, jout(`"reporting-level":"standard","conveyed-information":"` + cmsB64 + `"`), "output/reporting-level", `unknown value "standard"`},
		{"xml unknown reporting-level", XML, xout(`<reporting-level>debug</reporting-level><conveyed-information>` + cmsB64 + `</conveyed-information>`), "output/reporting-level", `unknown value "debug"`},
		{"C53 missing output", JSON, `{}`, "", "missing ietf-sztp-bootstrap-server:output"},
		{"C53 input instead of output", JSON, ji(``), "ietf-sztp-bootstrap-server:input", "unknown member"},
		{"C53 unqualified output", JSON, `{"output":{"conveyed-information":"Q01T"}}`, "output", "must be module-qualified"},
		{"bad base64", JSON, jout(`"conveyed-information":"Q01"`), "output/conveyed-information", "bad base64"},
		{"conveyed-information as object", JSON, jout(`"conveyed-information":{}`), "output/conveyed-information", "want a JSON string"},
		{"extra member", JSON, jout(`"conveyed-information":"Q01T","nonce":"Q01T"`), "output/nonce", "unknown member"},
		{"xml wrong root", XML, `<input` + bsNS + `/>`, "input", "unknown element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeGetBootstrappingDataOutput([]byte(tt.doc), tt.enc)
			if err == nil {
				t.Fatalf("accepted %s: %#v", tt.doc, got)
			}
			assertPath(t, err, tt.path, tt.msg)
		})
	}
}

func TestDecodeReportProgressInput(t *testing.T) {
	t.Run("rfc example", func(t *testing.T) {
		got, err := DecodeReportProgressInput(readRFC(t, "ex-report-progress-rpc.xml"), XML)
		if err != nil {
			t.Fatal(err)
		}
		key := []byte("Base64 key placeholder")
		want := &ReportProgressInput{
			ProgressType: BootstrapComplete, Message: "example message",
			SSHHostKeys:      []SSHHostKey{{Algorithm: "ssh-rsa", KeyData: key}, {Algorithm: "rsa-sha2-256", KeyData: key}},
			TrustAnchorCerts: [][]byte{[]byte("Base64 CMS placeholder")},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v\nwant %#v", got, want)
		}
	})
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		path string
		msg  string
	}{
		{"missing progress-type", JSON, ji(`"message":"x"`), "input/progress-type", "missing mandatory"},
		{"unknown progress-type", JSON, ji(`"progress-type":"done"`), "input/progress-type", `unknown value "done"`},
		{"xml unknown progress-type", XML, xi(`<progress-type>bootstrap-finished</progress-type>`), "input/progress-type", `unknown value "bootstrap-finished"`},
		{"C66 ssh-host-keys with informational", JSON, ji(`"progress-type":"informational","ssh-host-keys":{"ssh-host-key":[{"algorithm":"ssh-ed25519","key-data":"AA=="}]}`), "input/ssh-host-keys", "C66"},
		{"C66 trust-anchor-certs with bootstrap-error", JSON, ji(`"progress-type":"bootstrap-error","trust-anchor-certs":{"trust-anchor-cert":["Q01T"]}`), "input/trust-anchor-certs", "C66"},
		{"C66 empty container", JSON, ji(`"progress-type":"bootstrap-initiated","ssh-host-keys":{}`), "input/ssh-host-keys", "C66"},
		{"C66 xml", XML, xi(`<progress-type>config-complete</progress-type><trust-anchor-certs><trust-anchor-cert>Q01T</trust-anchor-cert></trust-anchor-certs>`), "input/trust-anchor-certs", "C66"},
		{"ssh-host-key without key-data", JSON, ji(`"progress-type":"bootstrap-complete","ssh-host-keys":{"ssh-host-key":[{"algorithm":"ssh-ed25519"}]}`), "input/ssh-host-keys/ssh-host-key[1]/key-data", "missing mandatory"},
		{"ssh-host-key without algorithm", XML, xi(`<progress-type>bootstrap-complete</progress-type><ssh-host-keys><ssh-host-key><key-data>AA==</key-data></ssh-host-key><ssh-host-key><key-data>AA==</key-data></ssh-host-key></ssh-host-keys>`), "input/ssh-host-keys/ssh-host-key[1]/algorithm", "missing mandatory"},
		{"trust-anchor-cert bad base64", JSON, ji(`"progress-type":"bootstrap-complete","trust-anchor-certs":{"trust-anchor-cert":["Q01T","*"]}`), "input/trust-anchor-certs/trust-anchor-cert[2]", "bad base64"},
		{"trust-anchor-cert not a list", JSON, ji(`"progress-type":"bootstrap-complete","trust-anchor-certs":{"trust-anchor-cert":"Q01T"}`), "input/trust-anchor-certs/trust-anchor-cert", "want a JSON array"},
		{"message not a string", JSON, ji(`"progress-type":"informational","message":["a"]`), "input/message", "want a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReportProgressInput([]byte(tt.doc), tt.enc)
			if err == nil {
				t.Fatalf("accepted %s: %#v", tt.doc, got)
			}
			assertPath(t, err, tt.path, tt.msg)
		})
	}
}

func TestProgressTypes(t *testing.T) {
	all := ProgressTypes()
	if len(all) != 27 || all[0] != BootstrapInitiated || all[26] != Informational {
		t.Fatalf("ProgressTypes() = %d values, first %q, last %q", len(all), all[0], all[len(all)-1])
	}
	all[0] = "mutated"
	if ProgressTypes()[0] != BootstrapInitiated {
		t.Error("ProgressTypes returns the internal slice")
	}
	var errs, terms int
	for _, p := range ProgressTypes() {
		if !p.Valid() {
			t.Errorf("%q not Valid", p)
		}
		isErr := bytes.HasSuffix([]byte(p), []byte("-error"))
		if p.IsError() != isErr {
			t.Errorf("%q.IsError() = %v", p, p.IsError())
		}
		if p.IsError() {
			errs++
		}
		if p.IsTerminating() {
			terms++
		}
		// Every value encodes and decodes in both encodings.
		for _, enc := range encodings {
			b, err := (&ReportProgressInput{ProgressType: p}).Encode(enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeReportProgressInput(b, enc)
			if err != nil || got.ProgressType != p {
				t.Errorf("%s %q: %v, %v", enc, p, got, err)
			}
		}
	}
	if errs != 6 || terms != 8 {
		t.Errorf("%d error types and %d terminating types, want 6 and 8 (C64)", errs, terms)
	}
	if ProgressType("done").Valid() || BootstrapWarning.IsTerminating() || !BootImageInstalledRebooting.IsTerminating() {
		t.Error("Valid/IsTerminating misclassify")
	}
}

func TestErrors(t *testing.T) {
	t.Run("rfc 9646 csr-request", func(t *testing.T) {
		got, err := DecodeErrors(readRFC(t, "ex-csr-request-reply.json"), JSON)
		if err != nil {
			t.Fatal(err)
		}
		want := &CSRRequest{KeyGenerationAlgorithm: []byte("Base64 alg1"), Format: FormatP10CSR, CertReqInfo: []byte("Base64 cri")}
		if r := got.CSRRequest(); !reflect.DeepEqual(r, want) {
			t.Errorf("CSRRequest() = %#v, want %#v", r, want)
		}
		if s := got.String(); s != `application/missing-attribute: "Missing input parameter" (csr-request ietf-ztp-types:p10-csr)` {
			t.Errorf("String() = %q", s)
		}
	})
	t.Run("xml skips unknown error-info", func(t *testing.T) {
		doc := `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>protocol</error-type><error-tag>access-denied</error-tag>` +
			`<error-info><detail xmlns="urn:example"><nested>x</nested></detail></error-info></error></errors>`
		got, err := DecodeErrors([]byte(doc), XML)
		if err != nil {
			t.Fatal(err)
		}
		want := &Errors{Error: []RESTCONFError{{Type: "protocol", Tag: "access-denied"}}}
		if !reflect.DeepEqual(got, want) || got.CSRRequest() != nil {
			t.Errorf("got %#v", got)
		}
	})
	tests := []struct {
		name string
		enc  Encoding
		doc  string
		path string
		msg  string
	}{
		{"missing error-type", JSON, `{"ietf-restconf:errors":{"error":[{"error-tag":"x"}]}}`, "errors/error[1]/error-type", "missing mandatory"},
		{"unknown error-type", JSON, `{"ietf-restconf:errors":{"error":[{"error-type":"app","error-tag":"x"}]}}`, "errors/error[1]/error-type", `unknown value "app"`},
		{"missing error-tag", XML, `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>rpc</error-type></error></errors>`, "errors/error[1]/error-tag", "missing mandatory"},
		{"csr-request without format", JSON, `{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":"missing-attribute","error-info":{"ietf-sztp-csr:csr-request":{}}}]}}`,
			"errors/error[1]/error-info/csr-request/csr-generation/selected-format/format-identifier", "missing mandatory"},
		{"key-generation without algorithm", JSON, `{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":"missing-attribute","error-info":{"ietf-sztp-csr:csr-request":{"key-generation":{}}}}]}}`,
			"errors/error[1]/error-info/csr-request/key-generation/selected-algorithm/algorithm-identifier", "missing mandatory"},
		{"csr-request unknown member", JSON, `{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":"missing-attribute","error-info":{"ietf-sztp-csr:csr-request":{"x":1}}}]}}`,
			"errors/error[1]/error-info/csr-request/x", "unknown member"},
		{"unknown error member", JSON, `{"ietf-restconf:errors":{"error":[{"error-type":"rpc","error-tag":"x","error-severity":"error"}]}}`, "errors/error[1]/error-severity", "unknown member"},
		{"no errors", JSON, `{}`, "", "missing ietf-restconf:errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeErrors([]byte(tt.doc), tt.enc)
			if err == nil {
				t.Fatalf("accepted %s: %#v", tt.doc, got)
			}
			assertPath(t, err, tt.path, tt.msg)
		})
	}
}
