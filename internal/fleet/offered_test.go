package fleet

import (
	"slices"
	"testing"
	"time"

	"github.com/sztp/sztp/client/sztptest"
)

// The offered rate's model: attempts count when their round started;
// progress reports of an admitted device one service time apart after its
// admission, or on arrival when that was sooner or it was never admitted.
func TestOffered(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const service = 80 * time.Millisecond
	tests := []struct {
		name     string
		attempts []time.Time
		reqs     []sztptest.Request
		want     []time.Time
	}{
		{"attempts only", []time.Time{at(5), at(900)}, nil, []time.Time{at(5), at(900)}},
		{
			"reports after a CPU stall count when due",
			nil,
			[]sztptest.Request{
				{Time: at(100), RPC: "get-bootstrapping-data", Serial: "A", Status: 200},
				{Time: at(2000), RPC: "report-progress", Serial: "A"},
				{Time: at(2001), RPC: "report-progress", Serial: "A"},
				{Time: at(2002), RPC: "report-progress", Serial: "A"},
			},
			[]time.Time{at(180), at(260), at(340)},
		},
		{
			"a report sooner than due counts on arrival",
			nil,
			[]sztptest.Request{
				{Time: at(100), RPC: "get-bootstrapping-data", Serial: "A", Status: 200},
				{Time: at(150), RPC: "report-progress", Serial: "A"},
			},
			[]time.Time{at(150)},
		},
		{
			"a turned-away request is not an admission",
			[]time.Time{at(0)},
			[]sztptest.Request{
				{Time: at(100), RPC: "get-bootstrapping-data", Serial: "B", Status: 503},
				{Time: at(700), RPC: "report-progress", Serial: "B"},
			},
			[]time.Time{at(0), at(700)},
		},
		{
			"a second admission restarts the count",
			nil,
			[]sztptest.Request{
				{Time: at(100), RPC: "get-bootstrapping-data", Serial: "C", Status: 200},
				{Time: at(900), RPC: "report-progress", Serial: "C"},
				{Time: at(5000), RPC: "get-bootstrapping-data", Serial: "C", Status: 200},
				{Time: at(9000), RPC: "report-progress", Serial: "C"},
			},
			[]time.Time{at(180), at(5080)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := offered(tc.attempts, tc.reqs, service)
			if !slices.EqualFunc(got, tc.want, time.Time.Equal) {
				t.Errorf("offered = %v, want %v", got, tc.want)
			}
		})
	}
}

// A wait that ends after the agent stopped (the deadline) started no round.
func TestRoundClock(t *testing.T) {
	start := time.Now()
	c := &roundClock{starts: []time.Time{start}}
	<-c.After(time.Millisecond)
	end := time.Now()
	c.After(time.Hour)
	got := c.rounds(end)
	if len(got) != 2 || !got[0].Equal(start) || got[1].After(end) || got[1].Before(start) {
		t.Errorf("rounds = %v, want the power-on and the one wait that ended", got)
	}
}

// The peak ignores the first second and names its window.
func TestPeak(t *testing.T) {
	rate := make([]int, 15)
	rate[3] = 100 // inside the first second: the power-on herd
	rate[12] = 30
	rate[13] = 10
	p, at := peak(rate, 20)
	if p != 1.5 || at != 1200*time.Millisecond {
		t.Errorf("peak = %v at %v, want 1.5 at 1.2s", p, at)
	}
}

// The herd has arrived when the last device's first request has; the
// server's clock is calm after the last window above the bound.
func TestHerdArrived(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	reqs := []sztptest.Request{
		{Time: t0.Add(100 * time.Millisecond), Serial: "A"},
		{Time: t0.Add(3 * time.Second), Serial: "B"},
		{Time: t0.Add(9 * time.Second), Serial: "A"}, // A's second request
	}
	if got := herdArrived(reqs, t0); got != 3*time.Second {
		t.Errorf("herdArrived = %v, want 3s", got)
	}
	if got := herdArrived(nil, t0); got != 0 {
		t.Errorf("herdArrived(nil) = %v, want 0", got)
	}
	rate := make([]int, 40)
	rate[5] = 100
	rate[29] = 31 // the last window above 1.5x capacity (20 per window)
	rate[30] = 30
	if got := calmAfter(rate, 30); got != 3*time.Second {
		t.Errorf("calmAfter = %v, want 3s", got)
	}
	if got := calmAfter(make([]int, 10), 30); got != 0 {
		t.Errorf("calmAfter with no window above = %v, want 0", got)
	}
}

// At reads both series, zero past the end of the shorter one.
func TestResultAt(t *testing.T) {
	r := &Result{Rate: []int{3, 4, 5}, Arrived: []int{1}}
	if r.Windows() != 3 {
		t.Errorf("Windows = %d, want 3", r.Windows())
	}
	for _, tc := range []struct{ w, sent, arrived int }{{0, 3, 1}, {2, 5, 0}, {7, 0, 0}} {
		if s, a := r.At(tc.w); s != tc.sent || a != tc.arrived {
			t.Errorf("At(%d) = %d, %d, want %d, %d", tc.w, s, a, tc.sent, tc.arrived)
		}
	}
}
