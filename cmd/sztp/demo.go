//go:build sztp_demo

// The demo embeds two bootstrap servers, a PKI generator and a CMS signer
// (about 0.45 MiB of a static binary), which a device never needs: it is
// built only with -tags sztp_demo (make demo). demo_cmd.go holds the
// command's flags and help, so both builds show the same `sztp demo`.

package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/state"
	"github.com/sztp/sztp/trust/trusttest"
)

const demoSerial = "SZTP-DEMO-0001"

type demo struct {
	dir, out   string
	pki        *sztptest.PKI
	files      map[string]string
	redirect   *sztptest.Server
	onboarding *sztptest.Server
	owner      *trusttest.PKI
	enc        conveyed.Encoding
	encrypt    bool
	opts       demoOptions
	fileSrv    *sztptest.FileServer
	image      []byte
	stdout     io.Writer
	log        *slog.Logger
	last       conveyed.ProgressType
	onb        *conveyed.OnboardingInformation
	csrFlow    *sztptest.CSRFlow
}

func runDemo(cmd *cobra.Command, o demoOptions) error {
	keep, encrypt, encoding := o.keep, o.encrypt, o.encoding
	enc, err := conveyed.ParseEncoding(encoding)
	if err != nil {
		return usagef("--encoding: %v", err)
	}
	// The temporary directory must go whatever ends the demo: a closed
	// output (sztp demo | head) ends it through a failed write instead of
	// SIGPIPE, and a hang-up like SIGTERM and SIGINT (main) through the
	// context, so that the deferred clean-up runs.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := signal.NotifyContext(cmd.Context(), syscall.SIGHUP)
	defer cancel()
	w := &demoOutput{w: cmd.OutOrStdout(), cancel: cancel}
	lvl := slog.LevelInfo
	if s, err := cmd.Flags().GetString("log-level"); err == nil && cmd.Flags().Changed("log-level") {
		lvl.UnmarshalText([]byte(s))
	}
	log := slog.New(&demoHandler{w: w, level: lvl})
	dir, err := os.MkdirTemp("", "sztp-demo-*")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(w, "demo directory: %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	d := &demo{dir: dir, out: filepath.Join(dir, "device"), stdout: w, log: log, enc: enc, encrypt: encrypt, opts: o}
	if err := d.setup(); err != nil {
		return err
	}
	defer d.redirect.Close()
	defer d.onboarding.Close()
	defer d.fileSrv.Close()

	// The agent runs with the defaults of `sztp run`, except for these.
	f := &runFlags{}
	f.add(pflag.NewFlagSet("demo", pflag.ContinueOnError))
	f.urls = []string{d.redirect.URL}
	f.once = true
	f.stateDir = filepath.Join(dir, "state")
	f.imageHook = "file:" + filepath.Join(d.out, "boot-image.img")
	if o.imageHook != "" {
		f.imageHook = o.imageHook
	}
	f.configHook = "file:" + filepath.Join(d.out, "running-config.txt")
	if o.configHook != "" {
		f.configHook = o.configHook
	}
	f.scriptTimeout = o.scriptTimeout
	f.osName, f.osVersion, f.osRelease = "DemoOS", "1.0", ""
	f.hwModel = "demo-model"
	f.encoding = encoding
	f.passwordFile = d.files["password"]
	f.clock = "trusted"
	if err := f.validate(); err != nil {
		return err
	}
	f.id.IDevIDCert = d.files["device.pem"]
	f.id.IDevIDKey = d.files["device.key"]
	f.id.ServerTrustAnchors = []string{d.files["ca.pem"]}
	f.id.VoucherTrustAnchors = []string{d.files["voucher-ca.pem"]}
	if encrypt {
		f.id.DecryptionKey = d.files["device.key"]
	}
	fmt.Fprintf(w, "device %s runs DemoOS 1.0; bootstrap server %s\n", demoSerial, d.redirect.URL)

	cfg, closeFn, err := f.agentConfig(ctx, log)
	if err != nil {
		return err
	}
	defer closeFn()
	cfg.Sources = []client.Source{client.URLSource{Label: "bootstrap-url", URLs: f.urls, Mode: client.Opportunistic}}
	agent, err := client.New(cfg)
	if err != nil {
		return err
	}
	if o.csr {
		if err := d.csrSetup(onboardingOf(d)); err != nil {
			return err
		}
	}
	out, runErr := agent.RunOnce(ctx)
	if err := d.summary(out, runErr); err != nil || !o.csr {
		return err
	}
	return d.csrSecondBootstrap(ctx, f)
}

func (d *demo) setup() error {
	var err error
	if err = os.MkdirAll(d.out, 0o700); err != nil {
		return err
	}
	pkiDir := filepath.Join(d.dir, "pki")
	if err = os.MkdirAll(pkiDir, 0o700); err != nil {
		return err
	}
	if d.pki, err = sztptest.NewPKI(demoSerial); err != nil {
		return err
	}
	if d.files, err = d.pki.WriteFiles(pkiDir); err != nil {
		return err
	}
	const password = "demo-password"
	d.files["password"] = filepath.Join(pkiDir, "password")
	if err := os.WriteFile(d.files["password"], []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	var mu sync.Mutex
	opts := sztptest.Options{Certificate: d.pki.Server.TLS(), ClientCAs: d.pki.ClientCAs(), Password: password,
		OnReport: func(r sztptest.Report) {
			mu.Lock()
			defer mu.Unlock()
			msg := ""
			if r.Message != "" {
				msg = "  (" + oneLine(r.Message) + ")"
			}
			fmt.Fprintf(d.stdout, "progress: %s%s\n", r.ProgressType, msg)
			d.last = r.ProgressType
		}}
	if d.redirect, err = sztptest.NewServer(opts); err != nil {
		return err
	}
	if d.onboarding, err = sztptest.NewServer(opts); err != nil {
		d.redirect.Close()
		return err
	}

	// The boot image: served by the onboarding server, verified by SHA-256.
	pad := make([]byte, 4096)
	rand.Read(pad)
	d.image = append([]byte("DemoOS 2.0 boot image\n"), pad...)
	sum := sha256.Sum256(d.image)
	if d.fileSrv, err = sztptest.NewFileServer(d.pki.Server.TLS()); err != nil {
		return err
	}
	imageURL := d.fileSrv.Add("demoos-2.0.img", d.image)

	marker := func(name string) []byte {
		p := filepath.Join(d.out, name)
		return []byte(fmt.Sprintf("#!/bin/sh\n# demo %s\necho \"%s ran at $(date -u +%%FT%%TZ)\" > '%s'\necho '%s done'\n", name, name, p, name))
	}
	onb := &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{
			OSName: "DemoOS", OSVersion: "2.0",
			DownloadURIs:      []string{imageURL},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: sum[:]}},
		},
		PreConfigurationScript:  marker("pre-script.marker"),
		ConfigurationHandling:   conveyed.Replace,
		Configuration:           []byte("hostname demo-device\ninterface eth0\n  ip address dhcp\n"),
		PostConfigurationScript: marker("post-script.marker"),
	}}

	// The onboarding server answers with signed data: the owner signs the
	// onboarding information, the manufacturer's voucher (bound to the
	// request's nonce) pins the owner CA for this serial number.
	if d.owner, err = trusttest.New(); err != nil {
		return err
	}
	d.files["voucher-ca.pem"] = filepath.Join(pkiDir, "voucher-ca.pem")
	if err := os.WriteFile(d.files["voucher-ca.pem"], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.owner.ManufacturerCA.Cert.Raw}), 0o600); err != nil {
		return err
	}
	so := sztptest.SignedOptions{PKI: d.owner, Serial: demoSerial, Nonce: true, Encoding: d.enc, ReportingLevel: conveyed.Verbose}
	if d.encrypt {
		so.EncryptTo = d.pki.Device.Cert
	}
	d.onb = onb.Onboarding
	d.onboarding.SetResponse(demoSerial, &sztptest.Response{Build: sztptest.Signed(onb, so)})

	// The redirect server points at the onboarding server, with a trust
	// anchor that authenticates it (C47).
	ta, err := sztptest.CertsOnly(d.pki.ServerCA.Cert)
	if err != nil {
		return err
	}
	d.redirect.SetResponse(demoSerial, &sztptest.Response{ContentEncoding: d.enc, Conveyed: &conveyed.ConveyedInformation{
		Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{
			{Address: d.onboarding.Host, Port: d.onboarding.Port, TrustAnchor: ta},
		}},
	}})
	return nil
}

func (d *demo) summary(out *client.Outcome, runErr error) error {
	w := d.stdout
	fmt.Fprintln(w)
	for _, s := range []*sztptest.Server{d.redirect, d.onboarding} {
		for _, r := range s.Requests() {
			if r.RPC == "get-bootstrapping-data" {
				fmt.Fprintf(w, "server %s: get-bootstrapping-data from %s (client certificate: %v, basic auth: %v)\n", s.Addr, r.Serial, r.HasCert, r.HasBasic)
			}
		}
	}
	fmt.Fprintln(w)
	if runErr != nil {
		return exitError{exitFailure, fmt.Errorf("demo bootstrap failed: %w", runErr)}
	}
	fmt.Fprintf(w, "summary: %s from %s (signed data: %v)\n", out.Result, out.Server, out.Signed)
	for _, name := range []string{"boot-image.img", "pre-script.marker", "running-config.txt", "post-script.marker"} {
		p := filepath.Join(d.out, name)
		fi, err := os.Stat(p)
		switch {
		case err == nil:
			fmt.Fprintf(w, "  %-20s %6d bytes  %s\n", name, fi.Size(), p)
		case name == "boot-image.img" && d.opts.imageHook != "":
			fmt.Fprintf(w, "  %-20s installed by %s\n", "boot image", d.opts.imageHook)
		case name == "running-config.txt" && d.opts.configHook != "":
			fmt.Fprintf(w, "  %-20s committed by %s\n", "configuration", d.opts.configHook)
		default:
			return exitError{exitFailure, fmt.Errorf("demo: %s missing: %w", name, err)}
		}
	}
	if d.opts.imageHook == "" {
		if img, err := os.ReadFile(filepath.Join(d.out, "boot-image.img")); err != nil || string(img) != string(d.image) {
			return exitError{exitFailure, fmt.Errorf("demo: installed image differs from the served one")}
		}
	}
	st, err := state.Open(filepath.Join(d.dir, "state"))
	if err == nil {
		if c, _ := st.Completed(); c != nil {
			fmt.Fprintf(w, "  state: bootstrapped at %s; `sztp run` now exits 0 until `sztp enable`\n", c.Time.Format("15:04:05"))
		}
	}
	if d.last != conveyed.BootstrapComplete {
		return exitError{exitFailure, fmt.Errorf("demo: the last progress report is not bootstrap-complete")}
	}
	return nil
}

// demoOutput is the demo's standard output; the first failed write (the
// reader went away) stops the demo.
type demoOutput struct {
	w      io.Writer
	cancel context.CancelFunc
}

func (o *demoOutput) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil {
		o.cancel()
	}
	return n, err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// demoHandler prints the agent's log compactly on the demo's output, so the
// story reads in order: "agent: <message> key=value ...".
type demoHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    sync.Mutex
}

func (h *demoHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *demoHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("agent: ")
	if r.Level >= slog.LevelWarn {
		b.WriteString(r.Level.String() + ": ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.String()
		if v == "" {
			return true
		}
		if strings.ContainsAny(v, " \t") {
			v = strconv.Quote(oneLine(v))
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *demoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &demoHandler{w: h.w, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *demoHandler) WithGroup(string) slog.Handler { return h }
