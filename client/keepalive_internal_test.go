package client

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/httpx"
)

// Issue 13 item 2: a request that failed on a reused connection is sent
// again once on a fresh one only when that cannot duplicate it:
// get-bootstrapping-data always (it only reads), report-progress only when
// it never reached the connection.
func TestIssue13_2_RetryOnFreshConnection(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		idempotent bool
		want       bool
	}{
		{"gbd, closed before sending", &httpx.ReuseError{Err: io.EOF}, true, true},
		{"gbd, closed after sending", &httpx.ReuseError{Written: true, Err: io.EOF}, true, true},
		{"report, closed before sending", fmt.Errorf("wrapped: %w", &httpx.ReuseError{Err: io.EOF}), false, true},
		{"report, closed after sending", &httpx.ReuseError{Written: true, Err: io.EOF}, false, false},
		{"gbd, other error", errors.New("no response headers within 30s"), true, false},
		{"report, other error", io.ErrUnexpectedEOF, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryOnFresh(tc.err, tc.idempotent); got != tc.want {
				t.Errorf("retryOnFresh(%v, %v) = %v, want %v", tc.err, tc.idempotent, got, tc.want)
			}
		})
	}
}

// Issue 13 item 4: Retry-After is honoured (never a shorter wait) and
// spread over one more Retry-After period, so that a fleet turned away in
// the same second does not come back in the same instant; a negative
// MaxRetryAfter ignores it (the naive policy of the fleet simulation).
// Before, every device told "Retry-After: 10" waited exactly 10 s.
func TestIssue13_4_RetryAfterIsSpread(t *testing.T) {
	tests := []struct {
		name    string
		backoff time.Duration
		ra      time.Duration
		maxRA   time.Duration
		r       float64
		want    time.Duration
	}{
		{"no Retry-After", time.Second, 0, 0, 0.5, time.Second},
		{"Retry-After longer, earliest draw", time.Second, 10 * time.Second, 0, 0, 10 * time.Second},
		{"Retry-After longer, middle draw", time.Second, 10 * time.Second, 0, 0.5, 15 * time.Second},
		{"backoff longer still spread", 20 * time.Second, 10 * time.Second, 0, 0.5, 25 * time.Second},
		{"capped", time.Second, 10 * time.Hour, 0, 0, MaxRetryAfter},
		{"configured cap", time.Second, 10 * time.Second, 2 * time.Second, 0.5, 3 * time.Second},
		{"ignored", time.Second, 10 * time.Second, -1, 0.5, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{cfg: Config{MaxRetryAfter: tc.maxRA}, retryAfter: tc.ra}
			if got := a.retryDelay(tc.backoff, tc.r); got != tc.want {
				t.Errorf("retryDelay(%v, %v) with Retry-After %v = %v, want %v", tc.backoff, tc.r, tc.ra, got, tc.want)
			}
		})
	}
}
