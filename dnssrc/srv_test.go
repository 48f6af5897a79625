package dnssrc

import (
	"math/rand/v2"
	"testing"
)

// C94: SRV records are tried by ascending priority, and within a priority
// in weighted random order (RFC 2782); "." targets and port 0 are dropped.
func TestOrderSRV(t *testing.T) {
	recs := []SRV{
		{Target: "c.example.", Port: 3, Priority: 20, Weight: 0},
		{Target: "a.example.", Port: 1, Priority: 10, Weight: 90},
		{Target: ".", Port: 9, Priority: 0},
		{Target: "b.example.", Port: 2, Priority: 10, Weight: 10},
		{Target: "z.example.", Port: 0, Priority: 1},
		{Target: "d.example.", Port: 4, Priority: 5, Weight: 0},
	}
	r := rand.New(rand.NewPCG(1, 2))
	firstA := 0
	const runs = 1000
	for range runs {
		got := OrderSRV(recs, r)
		if len(got) != 4 {
			t.Fatalf("got %d records, want 4: %+v", len(got), got)
		}
		if got[0].Target != "d.example." || got[3].Target != "c.example." {
			t.Fatalf("priority order broken: %+v", got)
		}
		if got[1].Target == "a.example." {
			firstA++
		}
	}
	// Weight 90 against 10: a comes first about 9 times in 10.
	if firstA < runs*8/10 || firstA > runs*97/100 {
		t.Errorf("weight 90 of 100 came first %d of %d times", firstA, runs)
	}
}

func TestOrderSRVCapsCount(t *testing.T) {
	recs := make([]SRV, MaxSRVRecords*2)
	for i := range recs {
		recs[i] = SRV{Target: "h.example.", Port: uint16(i + 1)}
	}
	if got := OrderSRV(recs, nil); len(got) != MaxSRVRecords {
		t.Errorf("kept %d records, want %d", len(got), MaxSRVRecords)
	}
}

func TestServerURL(t *testing.T) {
	for _, tc := range []struct {
		s    SRV
		want string
	}{
		{SRV{Target: "sztp.example.com.", Port: 8443}, "https://sztp.example.com:8443"},
		{SRV{Target: "sztp.local", Port: 443}, "https://sztp.local:443"},
		{SRV{Target: "bad host.", Port: 1}, ""},
		{SRV{Target: "-x.example.", Port: 1}, ""},
		{SRV{Target: "a..b.", Port: 1}, ""},
	} {
		if got := ServerURL(tc.s); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}
