// Package fleet simulates a fleet of devices bootstrapping at once against
// one bootstrap server of fixed capacity: every device is the real client
// package (client.Agent) with a software identity, over real TLS on
// loopback, against client/sztptest with a concurrency limit that answers
// 503 with Retry-After beyond it. It measures how fast the fleet completes
// and whether the agents' retry policy keeps the request rate near the
// server's capacity (no retry storm). Time constants are scaled down
// through the agents' configuration (backoff, timeouts), never through a
// second code path. The request rate is counted twice: by the devices'
// own schedules (offered: what the retry policy sends; the figure the 1.5x
// bound applies to) and on arrival at the server's handler, which adds the
// time the devices and the server wait for this machine's shared CPU.
// `make fleet` (cmd/sztp-fleet) runs it with 10,000 devices; its test with
// 500.
package fleet
