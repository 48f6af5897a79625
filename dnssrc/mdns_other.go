//go:build !linux

package dnssrc

import "net"

// setMulticastIf is a no-op off Linux: the system picks the link.
func setMulticastIf(*net.UDPConn, net.Interface, bool) error { return nil }
