package dnssrc_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sztp/sztp/dnssrc"
	"github.com/sztp/sztp/dnssrc/dnstest"
)

// startResponder serves r on a UDP port of 127.0.0.1 (no TCP: a TCP
// fallback to it fails to connect).
func startResponder(t *testing.T, r *dnstest.Responder) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go r.Serve(pc, false)
	return pc.LocalAddr().String()
}

// What a server answers besides records: each is no data, named in the
// error, and never mistaken for records (SERVFAIL, NXDOMAIN, a truncated
// answer whose TCP retry fails, an answer for another name).
func TestUnicastAnswersWithoutData(t *testing.T) {
	const domain = "example.test"
	txt := "SN-1._sztp." + domain
	srv := "_sztp._tcp." + domain
	for _, tc := range []struct {
		name    string
		reply   dnstest.Reply
		wantErr string
		tcp     int
	}{
		{"SERVFAIL", dnstest.Reply{RCode: dnsmessage.RCodeServerFailure}, "SERVFAIL", 0},
		{"NXDOMAIN", dnstest.Reply{RCode: dnsmessage.RCodeNameError}, "NXDOMAIN", 0},
		{"truncated", dnstest.Reply{Truncated: true}, "connect", 1},
		{"other name", dnstest.Reply{OtherName: "SN-2._sztp." + domain, TXT: [][]string{{"ci=x"}}}, "no records", 0},
		{"too many records", dnstest.Reply{TXT: make([][]string, dnssrc.MaxAnswers+1)}, "more than 64 answer records", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dnstest.NewResponder()
			r.Set(txt, dnsmessage.TypeTXT, tc.reply)
			r.Set(srv, dnsmessage.TypeSRV, tc.reply)
			addr := startResponder(t, r)
			res, err := dnssrc.Lookup(context.Background(), dnssrc.Config{
				SerialNumber: "SN-1", Domains: []string{domain}, Servers: []string{addr}, QueryTimeout: 5 * time.Second,
			})
			if err == nil || len(res.Records) != 0 {
				t.Fatalf("records %+v, err %v; want none", res.Records, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not say %q", err, tc.wantErr)
			}
			if res.TCPFallbacks != 2*tc.tcp {
				t.Errorf("%d TCP fallbacks, want %d", res.TCPFallbacks, 2*tc.tcp)
			}
			if r.Queries() != 2 {
				t.Errorf("%d queries, want 2 (TXT, SRV)", r.Queries())
			}
		})
	}
}

// A server that fails (SERVFAIL) does not end the lookup: the next name
// server is asked.
func TestUnicastNextServerAfterFailure(t *testing.T) {
	bad, good := dnstest.NewResponder(), dnstest.NewResponder()
	name := "SN-1._sztp.example.test"
	bad.Set(name, dnsmessage.TypeTXT, dnstest.Reply{RCode: dnsmessage.RCodeServerFailure})
	good.Set(name, dnsmessage.TypeTXT, dnstest.Reply{TXT: [][]string{{"ci=\x00\x01"}}})
	res, err := dnssrc.Lookup(context.Background(), dnssrc.Config{
		SerialNumber: "SN-1", Domains: []string{"example.test"}, Servers: []string{startResponder(t, bad), startResponder(t, good)},
	})
	if err != nil || len(res.Records) != 1 || string(res.Records[0].Artifacts.ConveyedInformation) != "\x00\x01" {
		t.Fatalf("records %+v, err %v", res, err)
	}
}

// A silent server costs one query timeout, not more: the lookup ends.
func TestUnicastQueryTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = dnssrc.Lookup(ctx, dnssrc.Config{
		SerialNumber: "SN-1", Domains: []string{"example.test"}, Servers: []string{pc.LocalAddr().String()}, QueryTimeout: 200 * time.Millisecond,
	})
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err %v (ctx %v); want a query timeout", err, ctx.Err())
	}
}
