package main

import (
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newDemoCmd) }

const demoLong = `Run a complete bootstrap against an embedded bootstrap server.

sztp demo makes a fresh PKI in a temporary directory, starts two bootstrap
servers on 127.0.0.1 (a redirect server and an onboarding server, both
requiring the device's client certificate and HTTP Basic auth), and runs the
real agent with a software identity: redirect -> onboarding -> boot image
(downloaded, SHA-256 verified, installed by the file hook) -> pre-configuration
script -> configuration (file hook) -> post-configuration script. It prints
every progress report the server received and a summary. Nothing outside
the temporary directory is touched; it is removed at exit (also when
interrupted) unless --keep.

The demo is built only into binaries made with -tags sztp_demo ('make demo'
builds bin/sztp-demo): the agent a device runs has no use for an embedded
bootstrap server and PKI generator (about 0.45 MiB). Without the tag,
'sztp demo' says so and exits 2.

Exit status: 0 when the last progress report is bootstrap-complete; 1
otherwise; 2 for bad flags, or when this binary was built without the demo.`

// demoOptions are the demo's flags.
type demoOptions struct {
	keep, encrypt, csr    bool
	encoding              string
	imageHook, configHook string
	scriptTimeout         time.Duration
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:     "demo",
		Short:   "full bootstrap (redirect, image, scripts, config) against an embedded server, in a temporary directory",
		Long:    demoLong,
		Example: "  sztp demo\n  sztp demo --encoding xml --encrypt --keep\n  sztp demo --image-hook exec:/usr/lib/vendor/sztp-install --config-hook exec:/usr/lib/vendor/sztp-config",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, o)
		},
	}
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the temporary directory (its path is printed)")
	cmd.Flags().BoolVar(&o.csr, "csr", false, "also enrol an LDevID (RFC 9646: csr-request, CSR, certificate in the configuration), then bootstrap again with it")
	cmd.Flags().StringVar(&o.encoding, "encoding", "json", "RESTCONF and conveyed-information encoding: json or xml")
	cmd.Flags().BoolVar(&o.encrypt, "encrypt", false, "also encrypt the signed artifacts to the device certificate (ECDH)")
	cmd.Flags().StringVar(&o.imageHook, "image-hook", "", "install the demo's boot image with this hook instead of file:DIR/device/boot-image.img (try a vendor exec: hook against the embedded server)")
	cmd.Flags().StringVar(&o.configHook, "config-hook", "", "commit the demo's configuration with this hook instead of file:DIR/device/running-config.txt")
	cmd.Flags().DurationVar(&o.scriptTimeout, "script-timeout", 30*time.Second, "time limit of each pre/post-configuration script")
	return cmd
}
