package dnssrc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/dnssrc"
	"github.com/sztp/sztp/dnssrc/dnstest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// signedArtifacts makes signed bootstrapping data for serial.
func signedArtifacts(t *testing.T, serial string) trust.Artifacts {
	t.Helper()
	p, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"sztp.example.test","port":8443}]}}`)
	a, err := p.Artifacts(doc, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: serial})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Zone is the test zone: signed binary TXT data for SN-1 (each artifact
// larger than a UDP answer), a small TXT record for SN-2, and SRV records
// with three priorities.
func zone(a trust.Artifacts) string {
	return fmt.Sprintf(`$ORIGIN example.test.
$TTL 60
@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@ IN NS ns.example.test.
ns IN A 127.0.0.1
SN-1._sztp IN TXT %s
SN-1._sztp IN TXT %s
SN-1._sztp IN TXT %s
SN-1._sztp IN TXT "txtvers=1"
SN-2._sztp IN TXT %s
_sztp._tcp IN SRV 30 0 9003 backup.example.test.
_sztp._tcp IN SRV 10 60 9001 primary-a.example.test.
_sztp._tcp IN SRV 10 40 9002 primary-b.example.test.
_sztp._tcp IN SRV 20 0 9004 secondary.example.test.
primary-a IN A 192.0.2.10
primary-a IN AAAA 2001:db8::10
`, dnstest.TXT("ci", a.ConveyedInformation), dnstest.TXT("oc", a.OwnerCertificate), dnstest.TXT("ov", a.OwnershipVoucher),
		dnstest.TXT("ci", []byte{0, 1, 2, '"', '\\', 255}))
}

// Unicast DNS against NSD (C92, C93, C94, C95): binary TXT values written
// with \DDD escapes come back byte for byte; the answer is larger than 512
// (and 1232) octets, so the UDP answer is truncated and asked again over
// TCP; SRV records come in priority order; an unknown serial is NXDOMAIN.
func TestNSD(t *testing.T) {
	a := signedArtifacts(t, "SN-1")
	if n := len(a.ConveyedInformation) + len(a.OwnerCertificate) + len(a.OwnershipVoucher); n <= 1232 {
		t.Fatalf("artifacts are %d octets: too small for a truncated UDP answer", n)
	}
	addr := dnstest.NSD(t, "example.test", zone(a))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := dnssrc.Config{SerialNumber: "SN-1", Domains: []string{"example.test"}, Servers: []string{addr}, QueryTimeout: 10 * time.Second, Rand: rand.New(rand.NewPCG(1, 1))}
	res, err := dnssrc.Lookup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 {
		t.Fatalf("records %+v", res.Records)
	}
	txt, srv := res.Records[0], res.Records[1]
	if txt.Type != "TXT" || txt.Source != dnssrc.SourceUnicast || txt.Name != "SN-1._sztp.example.test." {
		t.Errorf("first record %+v, want the TXT record", txt)
	}
	got := txt.Artifacts
	if !bytes.Equal(got.ConveyedInformation, a.ConveyedInformation) || !bytes.Equal(got.OwnerCertificate, a.OwnerCertificate) || !bytes.Equal(got.OwnershipVoucher, a.OwnershipVoucher) {
		t.Error("TXT artifacts differ from the signed artifacts in the zone")
	}
	if res.TCPFallbacks != 1 {
		t.Errorf("%d TCP fallbacks, want 1 (the TXT answer)", res.TCPFallbacks)
	}
	if srv.Type != "SRV" || srv.Name != "_sztp._tcp.example.test." || len(srv.Servers) != 4 {
		t.Fatalf("second record %+v, want 4 SRV servers", srv)
	}
	primaries := srv.Servers[:2]
	slices.Sort(primaries)
	if !slices.Equal(primaries, []string{"https://primary-a.example.test:9001", "https://primary-b.example.test:9002"}) ||
		srv.Servers[2] != "https://secondary.example.test:9004" || srv.Servers[3] != "https://backup.example.test:9003" {
		t.Errorf("SRV servers %v not in priority order", srv.Servers)
	}

	// The SRV targets resolve through the same name server.
	addrs, err := dnssrc.LookupHost(ctx, cfg, "primary-a.example.test")
	if err != nil || !slices.Equal(addrs, []string{"192.0.2.10", "2001:db8::10"}) {
		t.Errorf("LookupHost primary-a: %v, %v", addrs, err)
	}
	if addrs, err := dnssrc.LookupHost(ctx, cfg, "nowhere.example.test"); err == nil {
		t.Errorf("LookupHost of a missing name: %v", addrs)
	}

	// A small binary TXT record fits in UDP: no TCP.
	cfg.SerialNumber = "SN-2"
	res, err = dnssrc.Lookup(ctx, cfg)
	if err != nil || len(res.Records) != 2 || !bytes.Equal(res.Records[0].Artifacts.ConveyedInformation, []byte{0, 1, 2, '"', '\\', 255}) || res.TCPFallbacks != 0 {
		t.Errorf("SN-2: %+v, err %v", res, err)
	}

	// An unknown serial: NXDOMAIN for the TXT name, the SRV records still.
	cfg.SerialNumber = "SN-404"
	res, err = dnssrc.Lookup(ctx, cfg)
	if err != nil || len(res.Records) != 1 || res.Records[0].Type != "SRV" {
		t.Errorf("SN-404: %+v, err %v", res, err)
	}
	cfg.Domains = []string{"nowhere.test"}
	_, err = dnssrc.Lookup(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "REFUSED") && !errors.Is(err, dnssrc.ErrNXDomain) {
		t.Errorf("a domain NSD does not serve: err %v", err)
	}
}
