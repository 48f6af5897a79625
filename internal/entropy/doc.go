// Package entropy makes sure the kernel's random pool is ready before the
// agent needs randomness. In an early initramfs on hardware (or a VM) without
// a CPU RNG the pool may take long to initialise; Go's crypto/rand then blocks
// in getrandom() and TLS or DHCP hang with no message. Wait checks with
// getrandom(GRND_NONBLOCK), logs that it is waiting, and gives up at a
// deadline.
package entropy
