package sztptest

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// Capacity makes the server behave like a real one with fixed resources:
// at most MaxConcurrent requests are served at once, each holding its slot
// for ServiceTime; a request beyond that is answered 503 at once, with a
// Retry-After that books the device a later turn.
type Capacity struct {
	MaxConcurrent int
	ServiceTime   time.Duration
	// RequestsPerBootstrap is how many requests a device admitted makes
	// (get-bootstrapping-data and its reports); turns are booked that far
	// apart. Zero means 1.
	RequestsPerBootstrap int
	// FixedRetryAfter, when set, is the Retry-After of every 503 instead
	// of a booked turn (a server that knows nothing about its load).
	FixedRetryAfter time.Duration
}

// Rate is the capacity in requests per second.
func (c Capacity) Rate() float64 {
	if c.ServiceTime <= 0 {
		return math.Inf(1)
	}
	return float64(c.MaxConcurrent) / c.ServiceTime.Seconds()
}

type admission struct {
	c        Capacity
	mu       sync.Mutex
	busy     int
	next     time.Time // when the next device may be admitted
	nextTurn time.Time // the last turn booked for a device turned away
}

func newAdmission(c Capacity) *admission { return &admission{c: c} }

// enter takes a slot and returns its release, or nil and the Retry-After
// value when the server is full. Devices are admitted (their
// get-bootstrapping-data served) at the capacity rate divided by the
// requests a bootstrap makes, and only while a slot is free; progress
// reports are never turned away (a device admitted finishes its
// bootstrap) but take their share of the capacity. A device turned away is
// booked the next free turn, and Retry-After says when that is (RFC 9110
// 10.2.3: how long the service is expected to be unavailable to it).
func (a *admission) enter(report bool) (func(), string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	per := max(1, a.c.RequestsPerBootstrap)
	step := time.Duration(float64(time.Second) * float64(per) / a.c.Rate())
	if report || (a.busy < a.c.MaxConcurrent && !now.Before(a.next.Add(-step))) {
		if !report {
			a.next = later(a.next, now).Add(step)
		}
		a.busy++
		return func() {
			time.Sleep(a.c.ServiceTime)
			a.mu.Lock()
			a.busy--
			a.mu.Unlock()
		}, ""
	}
	if a.c.FixedRetryAfter > 0 {
		return nil, strconv.Itoa(max(1, int(math.Ceil(a.c.FixedRetryAfter.Seconds()))))
	}
	a.nextTurn = later(later(a.nextTurn, a.next), now).Add(step)
	return nil, strconv.Itoa(max(1, int(math.Ceil(a.nextTurn.Sub(now).Seconds()))))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
