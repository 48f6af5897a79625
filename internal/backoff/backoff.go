// Package backoff computes capped exponential backoff with jitter, driven by
// an injectable clock so tests never sleep.
package backoff

import (
	"context"
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
// up to Jitter (a fraction, e.g. 0.2) randomly added or removed.
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
	d := b.Initial
	for i := 0; i < b.n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	b.n++
	if b.Jitter > 0 {
		r := b.Rand
		if r == nil {
			r = rand.Float64
		}
		d = time.Duration(float64(d) * (1 + b.Jitter*(2*r()-1)))
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
