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
// again once on a fresh one: get-bootstrapping-data always (it only reads),
// report-progress when it never reached the connection or when the server
// closed the connection without answering (an idle close crossing the
// request), never when the server stayed silent (it may be working on it).
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
		{"report, closed after sending", &httpx.ReuseError{Written: true, Closed: true, Err: io.EOF}, false, true},
		{"report, silent after sending", &httpx.ReuseError{Written: true, Err: errors.New("no response headers within 30s")}, false, false},
		{"gbd, silent after sending", &httpx.ReuseError{Written: true, Err: errors.New("no response headers within 30s")}, true, true},
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
// spread over one more Retry-After period, within the cap it was held to,
// so that a fleet turned away in the same second does not come back in the
// same instant; a negative MaxRetryAfter ignores it (the naive policy of
// the fleet simulation). Before, every device told "Retry-After: 10"
// waited exactly 10 s.
func TestIssue13_4_RetryAfterIsSpread(t *testing.T) {
	tests := []struct {
		name    string
		maxRA   time.Duration
		header  time.Duration // the server's Retry-After
		backoff time.Duration
		r       float64
		want    time.Duration
	}{
		{"no Retry-After", 0, 0, time.Second, 0.5, time.Second},
		{"Retry-After longer, earliest draw", 0, 10 * time.Second, time.Second, 0, 10 * time.Second},
		{"Retry-After longer, middle draw", 0, 10 * time.Second, time.Second, 0.5, 15 * time.Second},
		{"backoff longer, still spread", 0, 10 * time.Second, 20 * time.Second, 0.5, 25 * time.Second},
		{"at the cap, not beyond", 0, 10 * time.Hour, time.Second, 0.5, MaxRetryAfter},
		{"configured cap", 2 * time.Second, 10 * time.Second, time.Second, 0.5, 2 * time.Second},
		{"ignored", -1, 10 * time.Second, time.Second, 0.5, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{cfg: Config{MaxRetryAfter: tc.maxRA}}
			if tc.header > 0 {
				a.noteRetryAfter(&StatusError{Code: 503, RetryAfter: tc.header}, true)
			}
			if got := a.retryDelay(tc.backoff, tc.r); got != tc.want {
				t.Errorf("retryDelay(%v, %v) with Retry-After %v = %v, want %v", tc.backoff, tc.r, tc.header, got, tc.want)
			}
		})
	}
}
