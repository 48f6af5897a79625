package dhcpopts

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestExchange: retries, matching and cancellation of one request/reply
// exchange, with a scripted transport.
func TestExchange(t *testing.T) {
	// recv hands out the queued replies, then times out.
	script := func(replies ...string) func(time.Time) ([]byte, error) {
		return func(deadline time.Time) ([]byte, error) {
			if len(replies) > 0 {
				r := replies[0]
				replies = replies[1:]
				if r != "" {
					return []byte(r), nil
				}
			}
			time.Sleep(time.Until(deadline))
			return nil, os.ErrDeadlineExceeded
		}
	}
	match := func(b []byte) bool { return string(b) == "ack" }
	tests := []struct {
		name     string
		replies  []string
		retries  int
		want     string
		err      error
		attempts int
	}{
		{"first reply matches", []string{"ack"}, 3, "ack", nil, 1},
		{"foreign replies are skipped", []string{"other", "noise", "ack"}, 3, "ack", nil, 1},
		{"reply after a retransmission", []string{"", "ack"}, 3, "ack", nil, 2},
		{"no reply", nil, 3, "", errNoReply, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attempts := 0
			got, err := exchange(context.Background(), time.Millisecond, tc.retries,
				func(int) error { attempts++; return nil }, script(tc.replies...), match)
			if !errors.Is(err, tc.err) || string(got) != tc.want || attempts != tc.attempts {
				t.Errorf("exchange = %q, %v after %d attempts; want %q, %v after %d", got, err, attempts, tc.want, tc.err, tc.attempts)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := exchange(ctx, time.Hour, 3, func(int) error { return nil }, script(), match)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("send error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := exchange(context.Background(), time.Millisecond, 3, func(int) error { return boom }, script(), match)
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
}
