package dnssrc

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzParseTXT: any character-strings (split at 0x00 into strings and at
// 0x01 into records) decode or fail without panicking, and a decoded
// artifact is what followed the first '=' of its record.
func FuzzParseTXT(f *testing.F) {
	f.Add([]byte("ci=\x30\x82\x01\x00abc\x01oc=x\x00y\x01ov=z"))
	f.Add([]byte("ci\x00=\x00value\x01ci=again"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rrs [][]string
		for _, rec := range bytes.Split(data, []byte{1}) {
			var rr []string
			for _, s := range bytes.Split(rec, []byte{0}) {
				rr = append(rr, string(s))
			}
			rrs = append(rrs, rr)
		}
		a, err := ParseTXT(rrs)
		if err != nil {
			return
		}
		if a.ConveyedInformation == nil {
			t.Fatal("decoded without conveyed information")
		}
		found := false
		for _, rr := range rrs {
			joined := []byte{}
			for _, s := range rr {
				joined = append(joined, s...)
			}
			if _, v, ok := bytes.Cut(joined, []byte("=")); ok && bytes.Equal(v, a.ConveyedInformation) {
				found = true
			}
		}
		if !found {
			t.Fatalf("ci %q is no record's value", a.ConveyedInformation)
		}
	})
}

// FuzzOrderSRV: every 8 octets are one record (priority, weight, port,
// target letter); the order is by priority, keeps every usable record once,
// and never panics.
func FuzzOrderSRV(f *testing.F) {
	f.Add([]byte{0, 10, 0, 60, 0x20, 0xfb, 'a', 0, 0, 10, 0, 20, 0x20, 0xfb, 'b', 0, 0, 5, 0, 0, 1, 0, 'c', 0}, uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		var recs []SRV
		for len(data) >= 8 {
			recs = append(recs, SRV{
				Priority: binary.BigEndian.Uint16(data), Weight: binary.BigEndian.Uint16(data[2:]),
				Port: binary.BigEndian.Uint16(data[4:]), Target: string(data[6:7]) + ".example.",
			})
			data = data[8:]
		}
		got := OrderSRV(recs, rand.New(rand.NewPCG(seed, seed)))
		want := 0
		for _, r := range recs {
			if r.Port != 0 {
				want++
			}
		}
		if len(got) != min(want, MaxSRVRecords) && len(recs) <= MaxSRVRecords {
			t.Fatalf("%d records out of %d usable", len(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Priority < got[i-1].Priority {
				t.Fatalf("priority %d after %d", got[i].Priority, got[i-1].Priority)
			}
		}
	})
}

// FuzzParseResponse: any message parses or fails without panicking, and
// never yields more than MaxAnswers records.
func FuzzParseResponse(f *testing.F) {
	name := dnsmessage.MustNewName("SN-1._sztp.example.test.")
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET})
	b.StartAnswers()
	b.TXTResource(dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET}, dnsmessage.TXTResource{TXT: []string{"ci=\x00\x01"}})
	msg, _ := b.Finish()
	f.Add(msg, false)
	f.Fuzz(func(t *testing.T, msg []byte, mdns bool) {
		for _, typ := range []dnsmessage.Type{dnsmessage.TypeTXT, dnsmessage.TypeSRV} {
			a, err := parseResponse(msg, 7, name, typ, mdns)
			if err == nil && len(a.txt)+len(a.srv) > MaxAnswers {
				t.Fatalf("%d records", len(a.txt)+len(a.srv))
			}
		}
	})
}
