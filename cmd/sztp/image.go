package main

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/state"
	"golang.org/x/sys/unix"

	"github.com/sztp/sztp/images"
)

func init() { register(newImageCmd) }

func newImageCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Boot-image tools",
	}
	c.AddCommand(newImageFetchCmd())
	return c
}

const imageFetchLong = `Download a boot image by hand, with the pipeline 'sztp run' uses: the URIs
are tried in order (any error moves to the next), the SHA-256 is computed as
the bytes stream in, and the file appears at --output only once verified.

The partial download is staged in --state-dir/images/ (when --state-dir is
given) or in the private directory .sztp-staging/ beside --output, with a
small state file; running the same command again after an interruption (even
SIGKILL or a power loss) resumes it with an HTTP Range request, after hashing
the staged bytes again. https image servers' certificates are accepted
blindly (RFC 8572: integrity comes from the hash) unless --verify-tls is
given; a redirect from https to http is refused.

A URI fails (and the next is tried) when it declares a size above
--max-image-size or above the free space, averages under --image-min-rate,
or sends bytes with the wrong hash.

Progress is a live bar when stderr is a terminal, else a log line per 10%.

Exit codes: 0 downloaded and verified, 1 failed, 2 usage error.`

func newImageFetchCmd() *cobra.Command {
	var (
		hashes   []string
		output   string
		stateDir string
		bounds   imageFlags
		verify   bool
		caFile   string
		progress string
		jsonOut  bool
	)
	c := &cobra.Command{
		Use:     "fetch --hash sha-256:HEX --output PATH URI...",
		Short:   "Download and verify a boot image (fallback, resume, streaming SHA-256)",
		Long:    imageFetchLong,
		Example: "  sztp image fetch --hash sha-256:ba:ec:cf:...:33 --output /tmp/img https://a/img http://b/img",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("at least one URI is needed")
			}
			if len(hashes) == 0 {
				return usagef("--hash is required")
			}
			if output == "" {
				return usagef("--output is required")
			}
			req := images.Request{URIs: args, Output: output}
			for _, h := range hashes {
				b, err := images.ParseSHA256(h)
				if err != nil {
					return usagef("--hash: %v", err)
				}
				req.SHA256 = append(req.SHA256, b)
			}
			log := logger(cmd)
			f := &images.Fetcher{Logger: log, VerifyTLS: verify}
			if err := bounds.apply(f); err != nil {
				return err
			}
			if stateDir != "" {
				st, err := state.Open(stateDir)
				if err != nil {
					return exitError{exitFailure, err}
				}
				if f.StagingDir, err = st.ImagesDir(); err != nil {
					return exitError{exitFailure, err}
				}
			}
			if caFile != "" {
				pem, err := os.ReadFile(caFile)
				if err != nil {
					return usagef("--ca-file: %v", err)
				}
				f.RootCAs = x509.NewCertPool()
				if !f.RootCAs.AppendCertsFromPEM(pem) {
					return usagef("--ca-file %s: no PEM certificate", caFile)
				}
				f.VerifyTLS = true
			}
			switch progress {
			case "auto":
				if isTerminal(os.Stderr) {
					f.Progress = images.NewBar(os.Stderr)
				}
			case "bar":
				f.Progress = images.NewBar(os.Stderr)
			case "log":
			case "none":
				f.Progress = quietProgress{}
			default:
				return usagef("--progress %q: want auto, bar, log or none", progress)
			}
			res, err := f.Fetch(cmd.Context(), req)
			if err != nil {
				return exitError{exitFailure, err}
			}
			if jsonOut {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d bytes from %s, sha-256 verified\n", res.Path, res.Size, res.URI)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringArrayVar(&hashes, "hash", nil, "expected `sha-256:HEX` (plain or colon hex, any case); repeatable, any one may match")
	fl.StringVarP(&output, "output", "o", "", "`PATH` of the verified image")
	fl.StringVar(&stateDir, "state-dir", "", "stage the partial download in `DIR`/images (default: beside --output)")
	bounds.add(fl)
	fl.Int64Var(&bounds.maxSize, "max-size", images.DefaultMaxSize, "old name of --max-image-size")
	fl.MarkHidden("max-size")
	fl.BoolVar(&verify, "verify-tls", false, "verify https image servers' certificates (default: accept blindly, integrity comes from the hash)")
	fl.StringVar(&caFile, "ca-file", "", "verify https image servers against the PEM roots in `FILE` (implies --verify-tls)")
	fl.StringVar(&progress, "progress", "auto", "progress display: auto (bar on a terminal, else log), bar, log, none")
	fl.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	return c
}

type quietProgress struct{}

func (quietProgress) Update(string, int64, int64) {}
func (quietProgress) Finish(string, int64, error) {}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
