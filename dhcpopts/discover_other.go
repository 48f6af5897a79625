//go:build !linux

package dhcpopts

import (
	"context"
	"errors"
)

// Discover needs Linux (raw sockets and rtnetlink); elsewhere it fails.
// Lease files can still be read.
func Discover(ctx context.Context, cfg Config) ([]Lease, error) {
	return nil, errors.New("live dhcp is only implemented on linux")
}
