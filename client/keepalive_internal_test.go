package client

import (
	"errors"
	"fmt"
	"io"
	"testing"

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
