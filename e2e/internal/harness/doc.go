// Package harness starts and stops the real parts of the QEMU end-to-end test:
// a network namespace with a tap device, dnsmasq serving DHCP option 143,
// swtpm as the guest's TPM (provisioned with an IDevID by tpm2-tools and the
// openssl command line), and QEMU itself.
//
// Every process is a child of the test process and is stopped by its PID;
// the namespace is removed with `ip netns del`. Callers register the Close
// and Stop methods with t.Cleanup so that teardown also happens on failure.
// The package never prints: it writes each process's output to a log file
// the caller names, so a failing test can show it.
package harness
