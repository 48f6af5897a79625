package backoff

import (
	"testing"
	"time"
)

func TestNextDoublesAndCaps(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Second}
	want := []time.Duration{1, 2, 4, 5, 5}
	for i, w := range want {
		if got := b.Next(); got != w*time.Second {
			t.Errorf("step %d: %v, want %v", i, got, w*time.Second)
		}
	}
	b.Reset()
	if got := b.Next(); got != time.Second {
		t.Errorf("after reset: %v", got)
	}
}

func TestJitterBounds(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		b := Backoff{Initial: 10 * time.Second, Max: time.Minute, Jitter: 0.2, Rand: func() float64 { return r }}
		d := b.Next()
		if d < 8*time.Second || d > 12*time.Second {
			t.Errorf("rand %v: %v outside [8s,12s]", r, d)
		}
	}
}
