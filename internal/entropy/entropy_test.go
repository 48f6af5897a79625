package entropy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWait(t *testing.T) {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	for _, tc := range []struct {
		name     string
		src      source
		cancel   bool
		wantErr  error
		wantLogs []string
	}{
		{name: "ready", src: source{ready: func() error { return nil }}},
		{name: "no getrandom", src: source{ready: func() error { return unix.ENOSYS }}},
		{name: "becomes ready", src: source{
			ready: func() error { return unix.EAGAIN },
			block: func() error { return nil },
		}, wantLogs: []string{"not ready; waiting", "pool ready"}},
		{name: "never ready", src: source{
			ready: func() error { return unix.EAGAIN },
			block: func() error { <-never; return nil },
		}, wantErr: ErrNotReady, wantLogs: []string{"not ready; waiting"}},
		{name: "cancelled", src: source{
			ready: func() error { return unix.EAGAIN },
			block: func() error { <-never; return nil },
		}, cancel: true, wantErr: context.Canceled},
		{name: "other error", src: source{ready: func() error { return unix.EFAULT }}, wantErr: unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			deadline := time.Hour
			if tc.wantErr == ErrNotReady {
				deadline = time.Millisecond
			}
			if tc.cancel {
				cancel()
			}
			err := tc.src.wait(ctx, deadline, log)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("wait = %v, want %v", err, tc.wantErr)
			}
			for _, l := range tc.wantLogs {
				if !strings.Contains(buf.String(), l) {
					t.Errorf("log %q lacks %q", buf.String(), l)
				}
			}
		})
	}
}

// On this machine the pool is ready long ago: Wait returns at once.
func TestWaitKernel(t *testing.T) {
	if err := Wait(context.Background(), time.Minute, nil); err != nil {
		t.Fatal(err)
	}
}
