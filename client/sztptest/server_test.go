package sztptest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
)

func newTestServer(t *testing.T, password string) (*Server, *PKI, *http.Client) {
	t.Helper()
	p, err := NewPKI("T-1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Options{Certificate: p.Server.TLS(), ClientCAs: p.ClientCAs(), Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	roots := x509.NewCertPool()
	roots.AddCert(p.ServerCA.Cert)
	cert := p.Device.TLS(p.DeviceCA.Cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
	return s, p, hc
}

func post(t *testing.T, hc *http.Client, url, ctype, body string, auth ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerStatusCodes(t *testing.T) {
	s, _, hc := newTestServer(t, "pw")
	s.SetResponse("T-1", &Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
		BootstrapServers: []conveyed.BootstrapServer{{Address: "a.example"}}}}})
	gbd := s.URL + "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"
	rp := s.URL + "/restconf/operations/ietf-sztp-bootstrap-server:report-progress"
	in := `{"ietf-sztp-bootstrap-server:input":{}}`
	for _, tc := range []struct {
		name, url, ctype, body string
		auth                   []string
		want                   int
	}{
		{"ok", gbd, "application/yang-data+json", in, []string{"T-1", "pw"}, 200},
		{"no auth", gbd, "application/yang-data+json", in, nil, 401},
		{"wrong password", gbd, "application/yang-data+json", in, []string{"T-1", "nope"}, 401},
		{"user differs from certificate serial", gbd, "application/yang-data+json", in, []string{"T-2", "pw"}, 401},
		{"media type", gbd, "application/json", in, []string{"T-1", "pw"}, 415},
		{"unknown rpc", s.URL + "/restconf/operations/ietf-sztp-bootstrap-server:nope", "application/yang-data+json", in, []string{"T-1", "pw"}, 404},
		{"bad body", gbd, "application/yang-data+json", "{", []string{"T-1", "pw"}, 400},
		{"report", rp, "application/yang-data+json", `{"ietf-sztp-bootstrap-server:input":{"progress-type":"bootstrap-initiated"}}`, []string{"T-1", "pw"}, 204},
	} {
		if code, body := post(t, hc, tc.url, tc.ctype, tc.body, tc.auth...); code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, code, tc.want, body)
		}
	}
	if got := s.ProgressTypes(); len(got) != 1 || got[0] != conveyed.BootstrapInitiated {
		t.Errorf("reports %v", got)
	}
	// Requests to unknown paths and with a wrong media type are not RPCs.
	if n := len(s.Requests()); n != 6 {
		t.Errorf("%d requests recorded, want 6", n)
	}
}

func TestServerUnknownSerialAndFaultCount(t *testing.T) {
	s, _, hc := newTestServer(t, "")
	gbd := s.URL + "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"
	in := `{"ietf-sztp-bootstrap-server:input":{}}`
	if code, _ := post(t, hc, gbd, "application/yang-data+json", in); code != 404 {
		t.Errorf("unknown serial: %d, want 404", code)
	}
	s.SetResponse("", &Response{
		Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{{Address: "a"}}}},
		Fault:    &Fault{Status: 503, RetryAfter: "7", Count: 1},
	})
	code, _ := post(t, hc, gbd, "application/yang-data+json", in)
	if code != 503 {
		t.Errorf("first request %d, want 503", code)
	}
	if code, body := post(t, hc, gbd, "application/yang-data+json", in); code != 200 || !strings.Contains(body, "conveyed-information") {
		t.Errorf("second request %d %s, want 200 after the fault count", code, body)
	}
}
