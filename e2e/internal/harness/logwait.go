package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"
)

// WaitForLog polls the file at path until it contains want, the process p
// (if not nil) exits, ctx ends or timeout passes.
func WaitForLog(ctx context.Context, p *Process, path, want string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var done <-chan struct{}
	if p != nil {
		done = p.Done()
	}
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(want)) {
			return nil
		}
		select {
		case <-done:
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(want)) {
				return nil
			}
			_, err := p.Exited()
			return fmt.Errorf("harness: %s exited (%v) before %s showed %q", p.Name, err, path, want)
		case <-ctx.Done():
			return fmt.Errorf("harness: %q did not appear in %s: %w", want, path, ctx.Err())
		case <-tick.C:
		}
	}
}
