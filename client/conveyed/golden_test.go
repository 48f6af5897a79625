package conveyed

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and fuzz seed corpora under testdata/")

var encodings = []Encoding{JSON, XML}

// codec abstracts the five document kinds so tables can mix them.
type codec interface {
	Encode(Encoding) ([]byte, error)
}

// decodeAs decodes data into the same kind of value as like.
func decodeAs(like codec, data []byte, enc Encoding) (codec, error) {
	switch like.(type) {
	case *ConveyedInformation:
		return Decode(data, enc)
	case *GetBootstrappingDataInput:
		return DecodeGetBootstrappingDataInput(data, enc)
	case *GetBootstrappingDataOutput:
		return DecodeGetBootstrappingDataOutput(data, enc)
	case *ReportProgressInput:
		return DecodeReportProgressInput(data, enc)
	case *Errors:
		return DecodeErrors(data, enc)
	}
	panic("unknown codec")
}

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

var sha256Example = seq(32, 0xa0)

// goldenFixtures are representative documents; testdata/golden/<name>.{json,xml}
// hold their encodings.
var goldenFixtures = []struct {
	name string
	v    codec
}{
	{"redirect-information", &ConveyedInformation{Redirect: &RedirectInformation{BootstrapServers: []BootstrapServer{
		{Address: "sztp1.example.com", Port: 8443, TrustAnchor: []byte("degenerate CMS SignedData placeholder")},
		{Address: "192.0.2.11"},
		{Address: "2001:db8::12", Port: 443},
	}}}},
	{"onboarding-information", &ConveyedInformation{Onboarding: &OnboardingInformation{
		BootImage: &BootImage{
			OSName:    "VendorOS",
			OSVersion: "17.2R1.6",
			DownloadURIs: []string{
				"https://images.example.com/vendoros-17.2R1.6.img",
				"https://mirror.example.net/img?name=vendoros&ver=17.2R1.6",
			},
			ImageVerification: []ImageVerification{{HashAlgorithm: HashSHA256, HashValue: sha256Example}},
		},
		ConfigurationHandling:   Merge,
		PreConfigurationScript:  []byte("#!/bin/sh\necho pre\n"),
		Configuration:           []byte("<system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>dpu-1</hostname></system>"),
		PostConfigurationScript: []byte("#!/bin/sh\necho post\n"),
	}}},
	{"gbd-input-trusted", &GetBootstrappingDataInput{
		HWModel: "model-x", OSName: "vendor-os", OSVersion: "17.3R2.1", Nonce: seq(16, 1),
	}},
	{"gbd-input-untrusted", &GetBootstrappingDataInput{SignedDataPreferred: true, Nonce: seq(32, 0x40)}},
	{"gbd-input-csr-support", &GetBootstrappingDataInput{
		HWModel: "model-x",
		CSRSupport: &CSRSupport{
			KeyGenerationAlgorithms: [][]byte{{0x30, 0x13, 0x06, 0x07}, {0x30, 0x05, 0x06, 0x03}},
			CSRFormats:              []string{FormatP10CSR, FormatCMCCSR, FormatCMPCSR},
		},
	}},
	{"gbd-input-p10-csr", &GetBootstrappingDataInput{HWModel: "model-x", P10CSR: []byte("DER CertificationRequest placeholder")}},
	{"gbd-output", &GetBootstrappingDataOutput{
		ReportingLevel:      Verbose,
		ConveyedInformation: []byte("CMS conveyed-information placeholder"),
		OwnerCertificate:    []byte("CMS owner-certificate placeholder"),
		OwnershipVoucher:    []byte("CMS ownership-voucher placeholder"),
	}},
	{"gbd-output-unsigned", &GetBootstrappingDataOutput{ConveyedInformation: []byte("CMS conveyed-information placeholder")}},
	{"report-progress", &ReportProgressInput{
		ProgressType: BootstrapComplete,
		Message:      "bootstrap complete",
		SSHHostKeys: []SSHHostKey{
			{Algorithm: "ssh-ed25519", KeyData: []byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + string(seq(32, 0)))},
			{Algorithm: "ecdsa-sha2-nistp256", KeyData: []byte("ecdsa key blob placeholder")},
		},
		TrustAnchorCerts: [][]byte{[]byte("degenerate CMS SignedData placeholder")},
	}},
	{"report-progress-error", &ReportProgressInput{ProgressType: BootImageError, Message: "hash mismatch\nfor every URI"}},
	{"errors-csr-request", &Errors{Error: []RESTCONFError{{
		Type: "application", Tag: ErrorTagMissingAttribute, Message: "Missing input parameter",
		CSRRequest: &CSRRequest{
			KeyGenerationAlgorithm: []byte{0x30, 0x13, 0x06, 0x07},
			Format:                 FormatP10CSR,
			CertReqInfo:            []byte("DER CertificationRequestInfo placeholder"),
		},
	}}}},
	{"errors-access-denied", &Errors{Error: []RESTCONFError{{
		Type: "protocol", Tag: "access-denied", Path: "/ietf-sztp-bootstrap-server:get-bootstrapping-data",
		Message: "unknown device",
	}}}},
}

func goldenPath(name string, enc Encoding) string {
	return filepath.Join("testdata", "golden", name+"."+enc.String())
}

func TestGolden(t *testing.T) {
	for _, f := range goldenFixtures {
		for _, enc := range encodings {
			t.Run(f.name+"."+enc.String(), func(t *testing.T) {
				got, err := f.v.Encode(enc)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				path := goldenPath(f.name, enc)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run go test -update): %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Encode(%s) differs from %s:\n got:\n%s\nwant:\n%s", enc, path, got, want)
				}
				dec, err := decodeAs(f.v, want, enc)
				if err != nil {
					t.Fatalf("decode %s: %v", path, err)
				}
				if !reflect.DeepEqual(dec, f.v) {
					t.Errorf("decode %s:\n got %#v\nwant %#v", path, dec, f.v)
				}
			})
		}
	}
}

// TestRoundTripCrossEncoding: a value encoded in one encoding and decoded
// equals the value encoded in the other and decoded.
func TestRoundTripCrossEncoding(t *testing.T) {
	for _, f := range goldenFixtures {
		t.Run(f.name, func(t *testing.T) {
			j, err := f.v.Encode(JSON)
			if err != nil {
				t.Fatal(err)
			}
			x, err := f.v.Encode(XML)
			if err != nil {
				t.Fatal(err)
			}
			fromJ, err := decodeAs(f.v, j, JSON)
			if err != nil {
				t.Fatal(err)
			}
			fromX, err := decodeAs(f.v, x, XML)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromJ, fromX) {
				t.Errorf("JSON and XML decode differ:\n json %#v\n  xml %#v", fromJ, fromX)
			}
		})
	}
}

// assertPath checks err is a *ValidationError with the given member path and
// a message containing msg.
func assertPath(t *testing.T, err error, path, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one at %q containing %q", path, msg)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %q (%T) is not a *ValidationError", err, err)
	}
	if ve.Path != path {
		t.Errorf("error %q: path %q, want %q", err, ve.Path, path)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(msg)) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
}
