package entropy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotReady is returned when the pool is still not ready at the deadline.
var ErrNotReady = errors.New("kernel random pool not ready")

// source is the kernel interface, replaceable in tests.
type source struct {
	// ready reports whether getrandom would not block (nil), would block
	// (unix.EAGAIN), or something else.
	ready func() error
	// block waits in getrandom until the pool is ready. Blocking, unlike
	// polling, lets the kernel (5.4+) generate jitter entropy itself.
	block func() error
}

var kernel = source{
	ready: func() error { return getrandom(unix.GRND_NONBLOCK) },
	block: func() error { return getrandom(0) },
}

func getrandom(flags int) error {
	var b [1]byte
	for {
		_, err := unix.Getrandom(b[:], flags)
		if err != unix.EINTR {
			return err
		}
	}
}

// Wait returns once the kernel random pool is ready, or ErrNotReady after
// deadline, or ctx's error. It logs at warn level when it has to wait and
// again when the pool becomes ready. A kernel without getrandom (ENOSYS) is
// treated as ready: there is nothing to wait on.
func Wait(ctx context.Context, deadline time.Duration, log *slog.Logger) error {
	return kernel.wait(ctx, deadline, log)
}

func (s source) wait(ctx context.Context, deadline time.Duration, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	err := s.ready()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS):
		log.Debug("getrandom not available; not checking the random pool")
		return nil
	case !errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("checking the kernel random pool: %w", err)
	}
	start := time.Now()
	log.Warn("kernel random pool not ready; waiting (TLS and DHCP need it)", "deadline", deadline)
	done := make(chan error, 1)
	// The goroutine ends when the pool becomes ready, even after we gave up.
	go func() { done <- s.block() }()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("waiting for the kernel random pool: %w", err)
		}
		log.Info("kernel random pool ready", "waited", time.Since(start).Round(time.Millisecond))
		return nil
	case <-timer.C:
		return fmt.Errorf("%w after %v (no hardware RNG? try a CPU with RDRAND, virtio-rng, or rng-tools)", ErrNotReady, deadline)
	case <-ctx.Done():
		return ctx.Err()
	}
}
