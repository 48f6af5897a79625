package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/images"
	"github.com/sztp/sztp/internal/backoff"
	"github.com/sztp/sztp/internal/entropy"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/internal/settings"
	"github.com/sztp/sztp/internal/state"
	"github.com/sztp/sztp/trust"
)

func init() { register(newRunCmd) }

// runFlags are the flags of `sztp run` (and, through the config file and
// kernel command line, the settings of the device).
type runFlags struct {
	id              identity.Flags
	urls            []string
	once            bool
	stateDir        string
	imageHook       string
	configHook      string
	scriptTimeout   time.Duration
	osName          string
	osVersion       string
	osRelease       string
	hwModel         string
	encoding        string
	passwordFile    string
	configFile      string
	cmdlineFile     string
	clock           string
	connectTimeout  time.Duration
	headerTimeout   time.Duration
	requestTimeout  time.Duration
	maxResponseSize int64
	backoffInitial  time.Duration
	backoffMax      time.Duration
	entropyTimeout  time.Duration
	dryRun          bool
	dhcp            bool
	interfaces      []string
	leaseFiles      []string
	dhcpNoConfigure bool
	dhcpTimeout     time.Duration
	resolvConf      string
	sshHostKeys     []string
	anchorCerts     []string
	images          imageFlags
	lockTimeout     time.Duration
	dhcpTextURIs    bool
	assertions      []string
	removable       removableFlags
	dnsOpts         dnsFlags
	// lookupHost, set when DNS is a source, resolves server names with
	// the DNS source's name servers and mDNS too.
	lookupHost func(ctx context.Context, host string) ([]string, error)
	// serial is the device serial number, set once the identity is
	// loaded (the DNS source names its TXT record after it).
	serial     string
	measurePCR string
	ld         ldevidFlags
}

func (f *runFlags) add(fs *pflag.FlagSet) {
	f.id.AddIdentity(fs)
	f.id.AddTrust(fs)
	fs.StringSliceVar(&f.urls, "bootstrap-url", nil, "bootstrap server URI https://HOST[:PORT][/restconf] (repeatable; tried in order, after DHCP)")
	fs.BoolVar(&f.dhcp, "dhcp", false, "also ask DHCP for bootstrap servers (options 143/136); default: only when no server and no --lease-file is configured; --dhcp=false never")
	fs.StringSliceVar(&f.interfaces, "interface", nil, "links to run DHCP and mDNS on, or whose lease files to use (repeatable; default every non-loopback link)")
	fs.StringSliceVar(&f.leaseFiles, "lease-file", nil, "take bootstrap servers from this DHCP client lease file instead of live DHCP ('auto': the usual places) (repeatable)")
	fs.BoolVar(&f.dhcpNoConfigure, "dhcp-no-configure", false, "with DHCP, leave the leased addresses, routes and resolv.conf alone (by default they are applied, as an initramfs needs)")
	addDHCPTextURIs(fs, &f.dhcpTextURIs)
	addAssertion(fs, &f.assertions)
	fs.DurationVar(&f.dhcpTimeout, "dhcp-timeout", 30*time.Second, "give up on DHCP after this long, in each pass over the sources")
	f.dnsOpts.add(fs, true)
	fs.StringVar(&f.resolvConf, "resolv-conf", "/etc/resolv.conf", "resolver file written from DHCP leases")
	fs.MarkHidden("resolv-conf")
	f.removable.add(fs)
	fs.BoolVar(&f.once, "once", false, "make one pass over the sources and exit (exit 1 when it failed) instead of retrying until success")
	addStateDir(fs, &f.stateDir)
	fs.StringVar(&f.imageHook, "image-hook", "", "how to install a boot image: "+strings.Join(boot.ImageHookNames(), ", ")+", e.g. file:/dev/sdb2,reboot (default: unset, so an image the device does not already run is a boot-image-error)")
	fs.StringVar(&f.configHook, "config-hook", "", "how to commit configuration: "+strings.Join(boot.ConfigHookNames(), ", ")+" (default: unset, so configuration is a config-error)")
	fs.DurationVar(&f.scriptTimeout, "script-timeout", 5*time.Minute, "time limit of each pre/post-configuration script")
	f.images.add(fs)
	fs.StringVar(&f.osName, "os-name", "", "name of the OS the device runs now (default: NAME from --os-release)")
	fs.StringVar(&f.osVersion, "os-version", "", "version of the OS the device runs now (default: VERSION_ID from --os-release)")
	fs.StringVar(&f.osRelease, "os-release", "/etc/os-release", "os-release file for the --os-name/--os-version defaults (\"\" to disable)")
	fs.StringVar(&f.hwModel, "hw-model", "", "hardware model sent to trusted bootstrap servers")
	fs.StringVar(&f.encoding, "encoding", "json", "RESTCONF encoding: json or xml")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the HTTP Basic password (username = serial number); sent only to authenticated servers")
	fs.StringSliceVar(&f.sshHostKeys, "ssh-host-key", nil, "OpenSSH public host key file (e.g. /etc/ssh/ssh_host_ed25519_key.pub) sent with bootstrap-complete; read after the scripts ran (repeatable)")
	fs.StringSliceVar(&f.anchorCerts, "trust-anchor-cert", nil, "certs-only CMS (DER or PEM) with the chain that authenticates this device's certificate, sent with bootstrap-complete (repeatable)")
	settings.AddFlags(fs, &f.configFile, &f.cmdlineFile)
	fs.StringVar(&f.clock, "clock", "auto", "is the clock accurate: trusted, untrusted (skip voucher/certificate time checks), auto (untrusted if now is before this binary's build time)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", client.DefaultDialTimeout, "TCP connect and TLS handshake timeout, each")
	fs.DurationVar(&f.headerTimeout, "response-timeout", client.DefaultResponseHeaderTimeout, "time to wait for a server's response headers")
	fs.DurationVar(&f.requestTimeout, "request-timeout", client.DefaultRequestTimeout, "total time limit of one request")
	fs.Int64Var(&f.maxResponseSize, "max-response-size", client.DefaultMaxResponseSize, "largest response body accepted, in bytes")
	fs.DurationVar(&f.backoffInitial, "retry-initial", 5*time.Second, "first wait between passes over the sources (doubles, with 25% jitter)")
	fs.DurationVar(&f.backoffMax, "retry-max", 5*time.Minute, "longest wait between passes over the sources")
	fs.BoolVar(&f.dryRun, "dry-run", false, "do everything except rebooting or kexec-ing into a new image (the reboot is logged)")
	fs.DurationVar(&f.entropyTimeout, "entropy-timeout", 2*time.Minute, "how long to wait for the kernel random pool before going on anyway (early boot)")
	addMeasureFlags(fs, &f.measurePCR)
	addLDevIDFlags(fs, &f.ld, true)
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 0, "when another sztp run holds the state directory, wait at most this long (0: until it ends), then exit 1")
}

// addDHCPTextURIs is the opt-in to plain-text option 143/136 values (C88).
func addDHCPTextURIs(fs *pflag.FlagSet, p *bool) {
	fs.BoolVar(p, "dhcp-text-uris", false, "also accept an SZTP DHCP option that is plain text instead of the RFC 8572 8.3 length-prefixed list (what ISC dhcpd's text option sends), with a warning; without it such a value is ignored with a warning")
}

func addStateDir(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "state-dir", state.DefaultDir, "state directory (enabled flag, run-once record, progress journal, staged images)")
}

const runLong = `Bootstrap this device (RFC 8572).

sztp run tries each source in order, local before remote: removable storage
(--removable-storage), DHCP lease files (--lease-file), live DHCP (options
143/136; by default only when no server is configured, or with --dhcp), DNS
(TXT <serial>._sztp.<domain>, then SRV _sztp._tcp.<domain>, mDNS before
unicast; by default only when no server is configured, or with --dns,
--dns-domain or --dns-server; see sztp dns), then --bootstrap-url (or
sztp.url= on the kernel command line, or bootstrap-url in the config file).
Removable storage and servers learned from DHCP or DNS are untrusted: they
can only give signed data or redirect information.

For each bootstrap server it authenticates the server against
--server-trust-anchor, sends get-bootstrapping-data, follows redirect
information (at most 10 levels), and acts on onboarding information only when
it is trusted (authenticated server, or signed data that validates against
--voucher-trust-anchor): boot image, then pre-configuration script,
configuration, post-configuration script, with progress reports to trusted
servers only. Without --once it loops with capped, jittered exponential
backoff (and a server's Retry-After) until a bootstrap succeeds.

After bootstrap-complete the state directory records it, and later runs
exit 0 at once until 'sztp enable' re-arms the device. 'sztp disable' (or
sztp.disable on the kernel command line) turns SZTP off.

Settings: flags win over the kernel command line (sztp.<flag>=value), which
wins over the config file (--config).

Output: the result on stdout: success, rebooting (an image hook rebooted or
will reboot the device), disabled, or already-bootstrapped; the log (what was
tried, and why it failed) on stderr; the progress reports sent in the state
directory ('sztp status').

Exit status: 0 for those results; 1 when a --once pass did not bootstrap
(every source and server failed; the reasons are logged); 2 for bad flags or
settings. Without --once, run returns only on success or a signal.`

const runExample = `  # IDevID in the TPM, bootstrap servers from DHCP (what an initramfs runs)
  sztp run

  # a named server; identity from files; image and configuration to files
  sztp run --once --bootstrap-url https://sztp.example.com:8443 \
    --server-trust-anchor /etc/sztp/server-ca.pem --voucher-trust-anchor /etc/sztp/masa.pem \
    --idevid-cert /etc/sztp/idevid.pem --idevid-key /etc/sztp/idevid.key \
    --password-file /etc/sztp/password --image-hook file:/dev/sdb2,reboot \
    --config-hook file:/etc/device/startup-config

  # servers from the lease of the operating system's DHCP client
  sztp run --once --lease-file auto --tpm tcp://127.0.0.1:2321`

func newRunCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:     "run",
		Short:   "bootstrap this device (loops until success unless --once)",
		Long:    runLong,
		Example: runExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadLayers(cmd)
			if err != nil {
				return err
			}
			if err := l.Apply(cmd.Flags()); err != nil {
				return err
			}
			log := logger(cmd)
			if l.Disabled() {
				log.Info("SZTP disabled by sztp.disable; nothing to do")
				return nil
			}
			return f.run(cmd.Context(), cmd, log)
		},
	}
	f.add(cmd.Flags())
	return cmd
}

// validate rejects values that would silently mean something else: a zero
// retry delay (a tight loop against the servers), a zero or negative
// timeout or size (quietly the default, or no limit).
func (f *runFlags) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"retry-initial", f.backoffInitial}, {"retry-max", f.backoffMax},
		{"connect-timeout", f.connectTimeout}, {"response-timeout", f.headerTimeout},
		{"request-timeout", f.requestTimeout}, {"script-timeout", f.scriptTimeout},
		{"dhcp-timeout", f.dhcpTimeout}, {"dns-timeout", f.dnsOpts.timeout}, {"dns-query-timeout", f.dnsOpts.queryTimeout},
	} {
		if d.v <= 0 {
			return usagef("--%s %s: must be positive", d.name, d.v)
		}
	}
	if f.backoffMax < f.backoffInitial {
		return usagef("--retry-max %s is less than --retry-initial %s", f.backoffMax, f.backoffInitial)
	}
	if f.lockTimeout < 0 {
		return usagef("--lock-timeout %s: must not be negative", f.lockTimeout)
	}
	if f.removable.timeout < 0 {
		return usagef("--removable-storage-timeout %s: must not be negative", f.removable.timeout)
	}
	if f.entropyTimeout < 0 {
		return usagef("--entropy-timeout %s: must not be negative", f.entropyTimeout)
	}
	if f.maxResponseSize <= 0 {
		return usagef("--max-response-size %d: must be positive", f.maxResponseSize)
	}
	if _, err := parseMeasurePCR(f.measurePCR); err != nil {
		return err
	}
	if err := f.ld.validate(); err != nil {
		return err
	}
	for _, v := range []struct{ name, val string }{{"os-name", f.osName}, {"os-version", f.osVersion}, {"hw-model", f.hwModel}} {
		if !printable(v.val) {
			return usagef("--%s %q: control characters or invalid UTF-8 (it is sent to the server as a YANG string)", v.name, v.val)
		}
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters,
// so it can be sent as a YANG string.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (f *runFlags) run(ctx context.Context, cmd *cobra.Command, log *slog.Logger) error {
	if err := f.validate(); err != nil {
		return err
	}
	// C1: a disabled or already bootstrapped device needs nothing else,
	// not even its identity.
	if f.stateDir != "" {
		st, err := state.Open(f.stateDir)
		if err != nil {
			return err
		}
		// Issue 10 item 5: one agent per state directory for the whole run;
		// a second one (an initramfs hook and a service unit) waits, then
		// finds the run-once record the first one wrote.
		lock, err := st.Lock(ctx, f.lockTimeout, func(h *state.HolderError) {
			log.Info("waiting for another sztp run that holds the state directory", "pid", h.PID, "lock", h.Path, "lock-timeout", f.lockTimeout)
		})
		if err != nil {
			return exitError{exitFailure, err}
		}
		defer lock.Unlock()
		if on, err := st.Enabled(); err != nil {
			return err
		} else if !on {
			log.Info("SZTP is disabled (sztp enable turns it on); nothing to do", "state-dir", f.stateDir)
			fmt.Fprintln(cmd.OutOrStdout(), client.Disabled)
			return nil
		}
		if c, err := st.Completed(); err != nil {
			return err
		} else if c != nil {
			log.Info("device already bootstrapped (sztp enable re-arms it); nothing to do", "at", c.Time, "server", c.Server)
			fmt.Fprintln(cmd.OutOrStdout(), client.AlreadyBootstrapped)
			return nil
		}
	}
	// Early boot: TLS must not stall on an empty random pool unnoticed.
	if err := entropy.Wait(ctx, f.entropyTimeout, log); err != nil {
		if ctx.Err() != nil {
			return err
		}
		log.Warn("going on without a ready random pool; TLS may block", "err", err)
	}
	srcs, err := f.sources(cmd.Flags().Changed, log)
	if err != nil {
		return err
	}
	cfg, closeFn, err := f.agentConfig(ctx, log)
	if err != nil {
		return err
	}
	cfg.Sources = srcs
	if f.lookupHost != nil {
		cfg.LookupHost = f.lookupHost
	}
	defer closeFn()
	agent, err := client.New(cfg)
	if err != nil {
		return err
	}
	var out *client.Outcome
	if f.once {
		out, err = agent.RunOnce(ctx)
	} else {
		out, err = agent.Run(ctx)
	}
	if err != nil {
		log.Debug("identity key use", "tpm-signatures", agent.Signatures())
	}
	if err != nil && ctx.Err() != nil {
		// SIGTERM/SIGINT: the engine sent its terminating reports already.
		return exitError{exitFailure, fmt.Errorf("stopped by a signal before a bootstrap succeeded (%v)", err)}
	}
	if err != nil {
		return exitError{exitFailure, fmt.Errorf("bootstrap failed: %w", err)}
	}
	// tpm-signatures: TLS client authentications the identity key signed
	// (one per bootstrap server with keep-alive and session resumption).
	log.Info("done", "result", out.Result, "source", out.Source, "server", out.Server, "signed", out.Signed, "tpm-signatures", agent.Signatures())
	fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out.Result)
	return nil
}

// agentConfig turns the flags into the engine configuration (without
// Sources), one step at a time: protocol settings, trust anchors, password,
// the running OS, state and downloads, hooks, identity, scripts. The
// returned function releases the TPM and removes a temporary scripts
// directory.
func (f *runFlags) agentConfig(ctx context.Context, log *slog.Logger) (client.Config, func(), error) {
	noop := func() {}
	cfg := client.Config{
		ScriptTimeout:   f.scriptTimeout,
		Clock:           backoff.RealClock{},
		Backoff:         &backoff.Backoff{Initial: f.backoffInitial, Max: f.backoffMax, Jitter: 0.25},
		Logger:          log,
		HWModel:         f.hwModel,
		MaxResponseSize: f.maxResponseSize,
		Timeouts: client.Timeouts{Dial: f.connectTimeout, TLSHandshake: f.connectTimeout,
			ResponseHeader: f.headerTimeout, Request: f.requestTimeout},
	}
	var err error
	if err = f.protocol(&cfg, log); err != nil {
		return client.Config{}, noop, err
	}
	if cfg.ServerTrustAnchors, err = identity.LoadAnchors("server-trust-anchor", f.id.ServerTrustAnchors); err != nil {
		return client.Config{}, noop, err
	}
	if cfg.VoucherTrustAnchors, err = identity.LoadAnchors("voucher-trust-anchor", f.id.VoucherTrustAnchors); err != nil {
		return client.Config{}, noop, err
	}
	if cfg.Password, err = f.password(); err != nil {
		return client.Config{}, noop, err
	}
	cfg.OSName, cfg.OSVersion = f.runningOS(log)
	if err = f.storage(&cfg, log); err != nil {
		return client.Config{}, noop, err
	}
	// WorkDir (the state directory, when there is one) keeps what an image
	// overwrote on a block device, for a rollback (C83).
	hookOpts := boot.Options{Logger: log, Timeout: f.scriptTimeout, DryRun: f.dryRun, WorkDir: f.stateDir, Env: f.ldevidEnv()}
	if err = f.hooks(&cfg, hookOpts); err != nil {
		return client.Config{}, noop, err
	}
	if f.stateDir != "" {
		f.id.SaltPinFile = filepath.Join(f.stateDir, identity.SaltPinName)
	}
	id, closeID, err := f.id.Load(ctx, log)
	if err != nil {
		return client.Config{}, noop, err
	}
	cfg.Identity = id
	release := f.scripts(&cfg, hookOpts, func() { closeID() })
	if len(f.sshHostKeys) > 0 || len(f.anchorCerts) > 0 {
		cfg.Completion = f.completion
	}
	if trust.VoucherAnchorAlsoIssues(cfg.VoucherTrustAnchors, id.Certificate, id.Chain...) {
		log.Warn("a --voucher-trust-anchor also issued this device's IDevID: every certificate chaining to a voucher anchor can sign vouchers, so it must issue only MASA/manufacturer voucher-signing certificates")
	}
	if cfg.Measurer, err = f.measurer(log); err != nil {
		release()
		return client.Config{}, noop, err
	}
	if err := f.setupLDevID(&cfg, log); err != nil {
		release()
		return client.Config{}, noop, err
	}
	f.serial = id.SerialNumber
	log.Info("device identity", "serial-number", id.SerialNumber, "subject", id.Certificate.Subject.String(), "os-name", cfg.OSName, "os-version", cfg.OSVersion)
	return cfg, release, nil
}

// protocol checks --encoding and --bootstrap-url and interprets --clock
// (RFC 8572 9.1: an untrusted clock skips the time checks).
func (f *runFlags) protocol(cfg *client.Config, log *slog.Logger) error {
	enc, err := conveyed.ParseEncoding(f.encoding)
	if err != nil {
		return usagef("--encoding: %v", err)
	}
	cfg.Encoding = enc
	cfg.Assertions = f.assertions // C26, as sztp verify --assertion
	for _, u := range f.urls {
		if _, err := client.ServerURL(u); err != nil {
			return usagef("--bootstrap-url: %v", err)
		}
	}
	if cfg.ClockUntrusted, err = clockUntrusted(f.clock, time.Now(), trust.BuildTime()); err != nil {
		return err
	}
	if cfg.ClockUntrusted {
		log.Warn("clock treated as untrusted: voucher and certificate time checks are skipped (RFC 8572 9.1)", "clock", f.clock, "now", time.Now().UTC().Format(time.RFC3339), "built", trust.BuildTime().Format(time.RFC3339))
	} else {
		log.Debug("clock trusted for voucher and certificate time checks", "clock", f.clock)
	}
	return nil
}

// password reads --password-file (HTTP Basic, sent only to authenticated
// servers).
func (f *runFlags) password() (string, error) {
	if f.passwordFile == "" {
		return "", nil
	}
	data, err := os.ReadFile(f.passwordFile)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	password := strings.TrimRight(string(data), "\r\n")
	if password == "" {
		return "", usagef("--password-file %s is empty", f.passwordFile)
	}
	return password, nil
}

// runningOS is --os-name and --os-version, defaulting to NAME and VERSION_ID
// of --os-release when those are printable.
func (f *runFlags) runningOS(log *slog.Logger) (name, version string) {
	name, version = f.osName, f.osVersion
	if (name != "" && version != "") || f.osRelease == "" {
		return name, version
	}
	n, v := readOSRelease(f.osRelease)
	if !printable(n) || !printable(v) {
		log.Warn("ignoring NAME/VERSION_ID of the os-release file: control characters or invalid UTF-8", "file", f.osRelease, "name", n, "version", v)
		n, v = "", ""
	}
	if name == "" {
		name = n
	}
	if version == "" {
		version = v
	}
	return name, version
}

// storage opens --state-dir and sets up the image fetcher, which stages
// partial downloads there so that they survive a crash or reboot and resume.
// Downloads are accepted from any image server (RFC 8572 download-uri): the
// SHA-256 in the onboarding information is what is trusted.
func (f *runFlags) storage(cfg *client.Config, log *slog.Logger) error {
	fetcher := &images.Fetcher{Logger: log}
	if err := f.images.apply(fetcher); err != nil {
		return err
	}
	cfg.Images = fetcher
	if f.stateDir == "" {
		return nil
	}
	st, err := state.Open(f.stateDir)
	if err != nil {
		return err
	}
	cfg.State = st
	fetcher.StagingDir = filepath.Join(f.stateDir, "images")
	return nil
}

// hooks makes the --image-hook and --config-hook installers; unset, the
// engine reports an image or configuration as an error.
func (f *runFlags) hooks(cfg *client.Config, opts boot.Options) error {
	if f.imageHook != "" {
		img, err := boot.NewImageHook(f.imageHook, opts)
		if err != nil {
			return usagef("--image-hook: %v", err)
		}
		cfg.Image = img
	}
	if f.configHook != "" {
		c, err := boot.NewConfigHook(f.configHook, opts)
		if err != nil {
			return usagef("--config-hook: %v", err)
		}
		cfg.Config = c
	}
	return nil
}

// scripts sets where pre/post-configuration scripts run: --state-dir/scripts,
// or without a state directory a fresh private temporary directory (0700, an
// unguessable name) made when the first script runs and removed when the run
// ends. It returns release extended by that removal.
func (f *runFlags) scripts(cfg *client.Config, opts boot.Options, release func()) func() {
	if f.stateDir != "" {
		cfg.Scripts = boot.NewScriptRunner(filepath.Join(f.stateDir, "scripts"), opts)
		return release
	}
	t := &tempScripts{opts: opts}
	cfg.Scripts = t
	return func() { release(); t.remove() }
}

// tempScripts runs scripts from a temporary directory made on first use.
type tempScripts struct {
	opts boot.Options
	mu   sync.Mutex
	dir  string
	run  boot.ScriptRunner
}

func (t *tempScripts) RunScript(ctx context.Context, name string, script []byte) (*boot.ScriptResult, error) {
	t.mu.Lock()
	if t.run == nil {
		d, err := os.MkdirTemp("", "sztp-scripts-*")
		if err != nil {
			t.mu.Unlock()
			return nil, fmt.Errorf("scripts directory: %w", err)
		}
		t.dir, t.run = d, boot.NewScriptRunner(d, t.opts)
	}
	run := t.run
	t.mu.Unlock()
	return run.RunScript(ctx, name, script)
}

func (t *tempScripts) remove() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// completion reads --ssh-host-key and --trust-anchor-cert for
// bootstrap-complete (C66). It runs after the scripts, which may have made
// the keys.
func (f *runFlags) completion(context.Context) (*client.Completion, error) {
	c := &client.Completion{}
	for _, file := range f.sshHostKeys {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--ssh-host-key: %w", err)
		}
		k, err := client.ParseSSHPublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("--ssh-host-key %s: %w", file, err)
		}
		c.SSHHostKeys = append(c.SSHHostKeys, k)
	}
	for _, file := range f.anchorCerts {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--trust-anchor-cert: %w", err)
		}
		if b, _ := pem.Decode(data); b != nil {
			data = b.Bytes
		}
		if _, err := trust.ParseCertsOnly(data); err != nil {
			return nil, fmt.Errorf("--trust-anchor-cert %s: %w", file, err)
		}
		c.TrustAnchorCerts = append(c.TrustAnchorCerts, data)
	}
	return c, nil
}

// clockUntrusted interprets --clock.
func clockUntrusted(mode string, now, built time.Time) (bool, error) {
	switch mode {
	case "trusted":
		return false, nil
	case "untrusted":
		return true, nil
	case "auto", "":
		return !trust.ClockTrustworthy(now, built), nil
	}
	return false, usagef("--clock %q: want trusted, untrusted or auto", mode)
}

// readOSRelease returns NAME and VERSION_ID (or VERSION) of an os-release file.
func readOSRelease(path string) (name, version string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", ""
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		vals[k] = strings.Trim(v, `"'`)
	}
	version = vals["VERSION_ID"]
	if version == "" {
		version = vals["VERSION"]
	}
	return vals["NAME"], version
}
