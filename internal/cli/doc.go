// Package cli is a small subcommand framework over pflag: commands with
// local and persistent flags, positional-argument checks, and plain-text
// help. It mirrors the part of cobra's API that sztp uses, without its
// text/template help renderer, whose reflection keeps every exported method
// of the program in the binary and costs the agent more than half a MiB.
package cli
