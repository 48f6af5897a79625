package backoff

import (
	"math"
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

// Misconfiguration cannot make a busy loop or a negative delay: a Max below
// Initial (or unset) caps at Initial, and a huge Max with jitter does not
// overflow.
func TestNextLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Backoff
		want time.Duration // every delay of the first 100
	}{
		{"max-unset", Backoff{Initial: 5 * time.Second}, 5 * time.Second},
		{"max-below-initial", Backoff{Initial: 5 * time.Second, Max: time.Second}, 5 * time.Second},
	} {
		for i := range 100 {
			if got := tc.b.Next(); got != tc.want {
				t.Fatalf("%s: step %d: %v, want %v", tc.name, i, got, tc.want)
			}
		}
	}
	huge := Backoff{Initial: time.Second, Max: math.MaxInt64, Jitter: 0.5, Rand: func() float64 { return 0.999 }}
	prev := time.Duration(0)
	for i := range 100 {
		d := huge.Next()
		if d <= 0 || d < prev/2 {
			t.Fatalf("huge max: step %d: %v after %v (overflow)", i, d, prev)
		}
		prev = d
	}
}
