package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Clock is the time source; tests supply a fake.
type Clock interface {
	Now() time.Time
	// After returns a channel that fires after d.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Backoff yields successive delays: Initial, doubling up to Max, each with
// up to Jitter (a fraction, e.g. 0.2) randomly added or removed. A Max
// below Initial (e.g. unset) caps at Initial, so a misconfigured Max never
// turns the retry loop into a busy loop; delays never overflow.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Jitter  float64
	// Rand returns a float in [0,1); nil means math/rand/v2.
	Rand func() float64

	n int
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	limit := max(b.Max, b.Initial)
	d := b.Initial
	for i := 0; i < b.n && d < limit; i++ {
		if d > limit/2 { // doubling would pass the limit (or overflow)
			d = limit
			break
		}
		d *= 2
	}
	d = min(d, limit)
	b.n++
	if b.Jitter > 0 {
		r := b.Rand
		if r == nil {
			r = rand.Float64
		}
		f := float64(d) * (1 + b.Jitter*(2*r()-1))
		switch {
		case f <= 0:
			d = 0
		case f >= math.MaxInt64:
			d = math.MaxInt64
		default:
			d = time.Duration(f)
		}
	}
	return d
}

// Reset starts again from Initial.
func (b *Backoff) Reset() { b.n = 0 }

// Sleep waits for d on clock, or until ctx is done.
func Sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}
