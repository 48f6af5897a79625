//go:build !sztp_demo

package main

import "github.com/spf13/cobra"

// runDemo in the agent build: the embedded servers are not linked (see
// demo_cmd.go), so the command says how to get them.
func runDemo(*cobra.Command, demoOptions) error {
	return usagef("this sztp was built without the demo (its embedded bootstrap servers cost about 0.45 MiB that a device never needs): run 'make demo', or build with 'go build -tags sztp_demo ./cmd/sztp'")
}
