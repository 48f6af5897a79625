package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/images"
	"github.com/sztp/sztp/internal/safetext"
	"github.com/sztp/sztp/internal/state"
)

// StepError is an onboarding step that failed; Report is the progress type
// that was (or would have been) sent for it.
type StepError struct {
	Report conveyed.ProgressType
	Err    error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Report, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// reporter sends progress reports to a trusted server only (C62) and keeps
// the journal.
type reporter struct {
	at     *attempt
	conn   *Conn
	level  conveyed.ReportingLevel
	server string
	sent   []conveyed.ProgressType
}

func (at *attempt) newReporter(conn *Conn, level conveyed.ReportingLevel) *reporter {
	r := &reporter{at: at, conn: conn, level: level}
	if conn != nil {
		r.server = conn.Base().Host
	}
	return r
}

func (r *reporter) enabled() bool { return r.conn != nil && r.conn.Trusted() }

// send reports pt (when the server is trusted) and returns the error of the
// call; callers decide whether it matters.
func (r *reporter) send(ctx context.Context, pt conveyed.ProgressType, msg string) error {
	return r.sendInput(ctx, &conveyed.ReportProgressInput{ProgressType: pt, Message: msg})
}

func (r *reporter) sendInput(ctx context.Context, in *conveyed.ReportProgressInput) error {
	if !r.enabled() {
		return nil
	}
	log := r.at.a.log
	in.Message = yangString(in.Message)
	pt, msg := in.ProgressType, in.Message
	err := r.conn.ReportProgress(ctx, in)
	r.sent = append(r.sent, pt)
	if err != nil {
		log.Warn("progress report not accepted", "type", pt, "server", r.server, "err", err)
	} else {
		log.Debug("progress reported", "type", pt, "server", r.server, "message", msg)
	}
	if st := r.at.a.cfg.State; st != nil {
		e := state.Entry{Time: r.at.a.cfg.Clock.Now(), Server: r.server, ProgressType: string(pt), Message: msg, Sent: err == nil}
		if err != nil {
			e.Error = err.Error()
		}
		if jerr := st.Append(e); jerr != nil {
			log.Warn("writing the progress journal", "err", jerr)
		}
	}
	return err
}

// verbose sends pt only at reporting-level verbose (C65).
func (r *reporter) verbose(ctx context.Context, pt conveyed.ProgressType, msg string) {
	if r.level == conveyed.Verbose {
		r.send(ctx, pt, msg)
	}
}

// finalReportTimeout bounds a terminating report sent after the run was
// cancelled (SIGTERM): the server still learns that the device gave up.
const finalReportTimeout = 10 * time.Second

// final sends a terminating report (C64), even when ctx was cancelled.
func (r *reporter) final(ctx context.Context, pt conveyed.ProgressType, msg string) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalReportTimeout)
		defer cancel()
	}
	r.send(ctx, pt, msg)
}

// fail sends the terminating error report and returns the step error.
func (r *reporter) fail(ctx context.Context, pt conveyed.ProgressType, err error) error {
	r.final(ctx, pt, err.Error())
	return &StepError{Report: pt, Err: err}
}

// onboarding is one run of the onboarding steps (RFC 8572 5.6) and what
// they left active that a later failure must undo (C81, C83).
type onboarding struct {
	at *attempt
	r  *reporter
	oi *conveyed.OnboardingInformation
	// image is the boot image installed in this run without a reboot;
	// undoConfig restores the configuration committed in this run.
	image      *boot.Installed
	undoConfig func() error
}

// onboard processes onboarding information (RFC 8572 5.6), one step per
// function. Every failure returns to the enclosing loop with nothing left
// active (C82, C83): the configuration and the boot image installed in
// this run are rolled back.
func (at *attempt) onboard(ctx context.Context, conn *Conn, level conveyed.ReportingLevel, oi *conveyed.OnboardingInformation, signed bool) (*Outcome, error) {
	o := &onboarding{at: at, r: at.newReporter(conn, level), oi: oi}
	out := &Outcome{Result: Bootstrapped, Server: o.r.server, Signed: signed}
	if err := o.initiate(ctx); err != nil {
		return nil, err
	}
	rebooting, err := o.bootImage(ctx)
	if err != nil {
		return nil, err
	}
	if rebooting {
		out.Result, out.Reports = Rebooting, o.r.sent
		return out, nil
	}
	for _, step := range []func(context.Context) error{o.preScript, o.configuration, o.postScript, o.complete} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	out.Reports = o.r.sent
	return out, nil
}

// initiate is steps 1 and 2: bootstrap-initiated (C60, C61); parsing
// already happened (conveyed.Decode) before trust was established, so at
// verbose level it is only reported.
func (o *onboarding) initiate(ctx context.Context) error {
	if err := o.r.send(ctx, conveyed.BootstrapInitiated, ""); err != nil {
		return o.r.fail(ctx, conveyed.BootstrapError, fmt.Errorf("bootstrap-initiated not accepted: %w", err))
	}
	o.r.verbose(ctx, conveyed.ParsingInitiated, "")
	o.r.verbose(ctx, conveyed.ParsingComplete, "")
	return nil
}

// bootImage is step 3. It reports whether the device is now rebooting into
// the installed image (C75); an image installed without a reboot is kept
// for a rollback.
func (o *onboarding) bootImage(ctx context.Context) (rebooting bool, err error) {
	if o.oi.BootImage == nil {
		return false, nil
	}
	in, err := o.at.bootImage(ctx, o.r, o.oi.BootImage)
	if err != nil {
		return false, o.r.fail(ctx, conveyed.BootImageError, err)
	}
	if in == nil {
		return false, nil
	}
	if in.Reboot == nil {
		o.image = in
		return false, nil
	}
	return true, o.reboot(ctx, in)
}

// reboot activates an installed image: report first (C75), then reboot;
// the server is not contacted again.
func (o *onboarding) reboot(ctx context.Context, in *boot.Installed) error {
	if err := ctx.Err(); err != nil {
		o.at.abandon(in)
		return o.r.fail(ctx, conveyed.BootImageError, fmt.Errorf("stopped before rebooting into the installed image: %w", err))
	}
	o.r.send(ctx, conveyed.BootImageInstalledRebooting, in.Message)
	o.at.a.log.Info("rebooting into the new boot image")
	if err := in.Reboot(ctx); err != nil {
		o.at.abandon(in)
		return fmt.Errorf("rebooting into the new image: %w", err)
	}
	return nil
}

// preScript is step 4 (C76, C77).
func (o *onboarding) preScript(ctx context.Context) error {
	if len(o.oi.PreConfigurationScript) == 0 {
		return nil
	}
	if err := o.at.script(ctx, o.r, "pre-configuration-script", o.oi.PreConfigurationScript, conveyed.PreScriptInitiated, conveyed.PreScriptWarning, conveyed.PreScriptComplete); err != nil {
		return o.fail(ctx, conveyed.PreScriptError, "pre-configuration script failed", err)
	}
	return nil
}

// configuration is step 5: committed atomically (C78, C79).
func (o *onboarding) configuration(ctx context.Context) error {
	if len(o.oi.Configuration) == 0 {
		return nil
	}
	a := o.at.a
	o.r.verbose(ctx, conveyed.ConfigInitiated, "")
	if a.cfg.Config == nil {
		return o.fail(ctx, conveyed.ConfigError, "configuration failed", errors.New("configuration given but no config hook is configured (--config-hook)"))
	}
	if err := a.measure(ctx, ArtifactConfiguration, o.oi.Configuration); err != nil {
		return o.fail(ctx, conveyed.ConfigError, "configuration failed", err)
	}
	if err := o.at.installLDevID(ctx, o.oi.Configuration); err != nil {
		return o.fail(ctx, conveyed.ConfigError, "configuration failed", err)
	}
	undo, err := a.cfg.Config.ApplyConfig(ctx, boot.Config{Data: o.oi.Configuration, Handling: string(o.oi.ConfigurationHandling)})
	if err != nil {
		return o.fail(ctx, conveyed.ConfigError, "configuration failed", fmt.Errorf("committing configuration: %w", err))
	}
	o.undoConfig = undo
	o.r.verbose(ctx, conveyed.ConfigComplete, "")
	return nil
}

// postScript is step 6; on error what the run installed is rolled back
// (C81, C83).
func (o *onboarding) postScript(ctx context.Context) error {
	if len(o.oi.PostConfigurationScript) == 0 {
		return nil
	}
	if err := o.at.script(ctx, o.r, "post-configuration-script", o.oi.PostConfigurationScript, conveyed.PostScriptInitiated, conveyed.PostScriptWarning, conveyed.PostScriptComplete); err != nil {
		return o.fail(ctx, conveyed.PostScriptError, "post-configuration script failed", err)
	}
	return nil
}

// complete is steps 7 and 8: the run-once record (C69), then
// bootstrap-complete (C67) with the host keys and trust anchors (C66).
func (o *onboarding) complete(ctx context.Context) error {
	a := o.at.a
	marked := o.markCompleted(ctx)
	if err := o.r.sendInput(ctx, o.r.completion(ctx)); err != nil {
		if marked {
			if err := a.cfg.State.ClearCompleted(); err != nil {
				a.log.Error("removing the run-once record of a bootstrap that was not accepted", "err", err)
			}
		}
		return o.fail(ctx, conveyed.BootstrapError, "bootstrap-complete not accepted", fmt.Errorf("bootstrap-complete not accepted: %w", err))
	}
	if o.image != nil && o.image.Commit != nil {
		if err := o.image.Commit(); err != nil {
			a.log.Warn("discarding the previous boot image kept for a rollback", "err", err)
		}
	}
	if st := a.cfg.State; st != nil {
		if err := st.ClearPendingReboot(); err != nil {
			a.log.Warn("clearing the pending reboot record", "err", err)
		}
		if err := st.RemoveImages(); err != nil {
			a.log.Warn("removing staged images", "err", err)
		}
	}
	return nil
}

// markCompleted writes the run-once record, which is what turns SZTP off
// on this device (C69). Without it (no state directory, or it cannot be
// written), SZTP remains enabled: the server is warned.
func (o *onboarding) markCompleted(ctx context.Context) bool {
	a := o.at.a
	st := a.cfg.State
	if st == nil {
		o.r.send(ctx, conveyed.BootstrapWarning, "SZTP remains enabled on this device (no state directory)")
		return false
	}
	if err := st.MarkCompleted(state.Completion{Time: a.cfg.Clock.Now(), Server: o.r.server, Source: o.at.source}); err != nil {
		a.log.Warn("recording the completed bootstrap failed; SZTP remains enabled", "err", err)
		o.r.send(ctx, conveyed.BootstrapWarning, "SZTP remains enabled on this device: recording the completed bootstrap failed: "+err.Error())
		return false
	}
	return true
}

// fail undoes what this run installed (configuration, then boot image),
// then sends the terminating error report.
func (o *onboarding) fail(ctx context.Context, pt conveyed.ProgressType, why string, err error) error {
	o.rollback(ctx, why)
	return o.r.fail(ctx, pt, err)
}

// rollback restores the configuration (C81) and the boot image (C83) that
// were active before this run; a rollback runs even when ctx was
// cancelled.
func (o *onboarding) rollback(ctx context.Context, why string) {
	log := o.at.a.log
	if o.undoConfig != nil {
		if err := o.undoConfig(); err != nil {
			log.Error("rolling back the configuration failed", "why", why, "err", err)
		} else {
			log.Info("configuration rolled back", "why", why)
		}
		o.undoConfig = nil
	}
	if o.image == nil {
		return
	}
	in := o.image
	o.image = nil
	if in.Rollback == nil {
		log.Warn("the installed boot image stays: its image hook cannot roll back", "why", why)
		return
	}
	if err := in.Rollback(context.WithoutCancel(ctx)); err != nil {
		log.Error("rolling back the boot image failed", "why", why, "err", err)
	} else {
		log.Info("boot image rolled back", "why", why)
	}
}

// completion is the bootstrap-complete input: with the device's SSH host
// keys and trust anchors when configured (C66). Failing to read them does
// not fail the bootstrap; the message tells the server what is missing.
func (r *reporter) completion(ctx context.Context) *conveyed.ReportProgressInput {
	in := &conveyed.ReportProgressInput{ProgressType: conveyed.BootstrapComplete}
	a := r.at.a
	if a.cfg.Completion == nil || !r.enabled() {
		return in
	}
	c, err := a.cfg.Completion(ctx)
	if err != nil {
		a.log.Warn("bootstrap-complete goes without SSH host keys and trust anchors", "err", err)
		in.Message = "ssh-host-keys and trust-anchor-certs not sent: " + err.Error()
		return in
	}
	if c != nil {
		in.SSHHostKeys, in.TrustAnchorCerts = c.SSHHostKeys, c.TrustAnchorCerts
	}
	return in
}

// abandon undoes what an installer prepared for a reboot that will not
// happen (e.g. a loaded kexec kernel), and forgets the pending reboot so
// that the next run does not expect the image to be running.
func (at *attempt) abandon(in *boot.Installed) {
	a := at.a
	if st := a.cfg.State; st != nil {
		if err := st.ClearPendingReboot(); err != nil {
			a.log.Warn("clearing the pending reboot record", "err", err)
		}
	}
	if in.Abandon == nil {
		return
	}
	if err := in.Abandon(); err != nil {
		a.log.Warn("abandoning the prepared reboot", "err", err)
	}
}

// runningMatches reports whether the device already runs the image (C71):
// every criterion the boot-image names equals what the device runs.
func (a *Agent) runningMatches(bi *conveyed.BootImage) bool {
	if bi.OSName == "" && bi.OSVersion == "" {
		return false
	}
	if bi.OSName != "" && bi.OSName != a.cfg.OSName {
		return false
	}
	if bi.OSVersion != "" && bi.OSVersion != a.cfg.OSVersion {
		return false
	}
	return true
}

func (a *Agent) running() string {
	if a.cfg.OSName == "" && a.cfg.OSVersion == "" {
		return "an unknown OS (no --os-name/--os-version)"
	}
	return strings.TrimSpace(a.cfg.OSName + " " + a.cfg.OSVersion)
}

func wanted(bi *conveyed.BootImage) string {
	s := strings.TrimSpace(bi.OSName + " " + bi.OSVersion)
	if s == "" {
		return "an unnamed image"
	}
	return s
}

// bootImage installs the boot image of step 3. It returns nil, nil when
// the image is already running, else what the installer returned.
func (at *attempt) bootImage(ctx context.Context, r *reporter, bi *conveyed.BootImage) (*boot.Installed, error) {
	a := at.a
	if a.runningMatches(bi) {
		a.log.Info("boot image already running; skipping the image step", "os", a.running())
		if st := a.cfg.State; st != nil {
			st.ClearPendingReboot()
		}
		return nil, nil
	}
	if st := a.cfg.State; st != nil {
		p, err := st.PendingReboot()
		if err != nil {
			a.log.Warn("reading the pending reboot record", "err", err)
		}
		if p != nil && pendingMatches(p, bi) {
			st.ClearPendingReboot()
			if a.cfg.OSName != "" || a.cfg.OSVersion != "" {
				return nil, fmt.Errorf("after the reboot the device runs %s, not the installed %s", a.running(), wanted(bi))
			}
			a.log.Info("boot image installed before the reboot; the running OS is unknown, assuming it is in place", "image", wanted(bi))
			return nil, nil
		}
	}
	r.verbose(ctx, conveyed.BootImageMismatch, fmt.Sprintf("device runs %s, onboarding information wants %s", a.running(), wanted(bi)))
	r.verbose(ctx, conveyed.BootImageInitiated, "")
	if a.cfg.Image == nil {
		return nil, fmt.Errorf("device runs %s but onboarding information wants %s, and no image hook is configured (--image-hook)", a.running(), wanted(bi))
	}
	if len(bi.DownloadURIs) == 0 {
		return nil, fmt.Errorf("boot image %s has no download-uri", wanted(bi))
	}
	uris, err := a.downloadURIs(bi.DownloadURIs)
	if err != nil {
		return nil, err
	}
	var sums [][]byte
	for _, v := range bi.ImageVerification {
		if v.HashAlgorithm == conveyed.HashSHA256 {
			sums = append(sums, v.HashValue)
		}
	}
	if len(sums) == 0 {
		return nil, errors.New("boot image has no sha-256 image-verification; refusing an unverifiable image")
	}
	dir, cleanup, err := at.imageDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	outPath := filepath.Join(dir, "boot-image-"+hex.EncodeToString(sums[0][:min(8, len(sums[0]))]))
	res, err := a.cfg.Images.Fetch(ctx, images.Request{URIs: uris, SHA256: sums, Output: outPath})
	if err != nil {
		return nil, fmt.Errorf("downloading the boot image: %w", err)
	}
	a.log.Debug("boot image downloaded and verified", "uri", safetext.RedactURIs(res.URI), "bytes", res.Size)
	if err := at.measureImage(ctx, res.Path, res.Size, sums); err != nil {
		return nil, err
	}
	inst, err := a.cfg.Image.InstallImage(ctx, boot.Image{Path: res.Path, OSName: bi.OSName, OSVersion: bi.OSVersion})
	if err != nil {
		return nil, fmt.Errorf("installing the boot image: %w", err)
	}
	if inst == nil {
		inst = &boot.Installed{}
	}
	if inst.Reboot != nil {
		if st := a.cfg.State; st != nil {
			sum, _ := fileSHA256(res.Path)
			if err := st.SetPendingReboot(state.PendingReboot{Time: a.cfg.Clock.Now(), Server: r.server, OSName: bi.OSName, OSVersion: bi.OSVersion, SHA256: sum}); err != nil {
				return nil, fmt.Errorf("recording the pending reboot: %w", err)
			}
		}
		return inst, nil
	}
	// The installed image no longer needs its staged copy.
	if err := os.Remove(res.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.log.Warn("removing the staged image", "path", res.Path, "err", err)
	}
	r.verbose(ctx, conveyed.BootImageComplete, inst.Message)
	return inst, nil
}

// downloadURIs drops the download-uris that carry credentials
// (scheme://user:password@host): sztp does not send them, and they must not
// reach the logs and state in clear (issue 10 item 12). It fails, before
// any fetch, when none is left.
func (a *Agent) downloadURIs(in []string) ([]string, error) {
	var out []string
	for _, u := range in {
		// An unparsable URI is left to the fetcher, which says why.
		if p, err := url.Parse(u); err == nil && p.User != nil {
			a.log.Warn("ignoring a download-uri with user:password credentials (sztp does not send them)", "uri", safetext.RedactURIs(u))
			continue
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("every download-uri carries user:password credentials, which sztp does not send; refused (%s)", safetext.RedactURIs(strings.Join(in, ", ")))
	}
	return out, nil
}

func pendingMatches(p *state.PendingReboot, bi *conveyed.BootImage) bool {
	if p.SHA256 != "" {
		for _, v := range bi.ImageVerification {
			if strings.EqualFold(hex.EncodeToString(v.HashValue), p.SHA256) {
				return true
			}
		}
	}
	return (p.OSName != "" || p.OSVersion != "") && p.OSName == bi.OSName && p.OSVersion == bi.OSVersion
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// imageDir is where images are staged: the state directory, or a temporary
// directory removed after the step when there is no state.
func (at *attempt) imageDir() (string, func(), error) {
	if st := at.a.cfg.State; st != nil {
		d, err := st.ImagesDir()
		return d, func() {}, err
	}
	d, err := os.MkdirTemp("", "sztp-image-*")
	if err != nil {
		return "", nil, fmt.Errorf("staging directory: %w", err)
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// script runs a pre- or post-configuration script (steps 4 and 6).
func (at *attempt) script(ctx context.Context, r *reporter, name string, body []byte, initiated, warning, complete conveyed.ProgressType) error {
	a := at.a
	r.verbose(ctx, initiated, "")
	if a.cfg.Scripts == nil {
		return fmt.Errorf("%s given but no script runner is configured", name)
	}
	sctx := ctx
	if a.cfg.ScriptTimeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, a.cfg.ScriptTimeout)
		defer cancel()
	}
	if err := a.measure(ctx, name, body); err != nil {
		return err
	}
	res, err := a.cfg.Scripts.RunScript(sctx, name, body)
	if err != nil {
		if res != nil && strings.TrimSpace(res.Output) != "" {
			return fmt.Errorf("%s: %w; output: %s", name, err, trimOutput(res.Output))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	switch res.Status {
	case boot.ScriptError:
		return fmt.Errorf("%s failed: %s", name, trimOutput(res.Output))
	case boot.ScriptWarning:
		// C77: a warning does not abort; it is always worth reporting.
		r.send(ctx, warning, trimOutput(res.Output))
	}
	a.log.Debug("script ran", "script", name, "output", trimOutput(res.Output))
	r.verbose(ctx, complete, "")
	return nil
}

// trimOutput keeps the last 2048 octets of script output, cut at a
// character boundary.
func trimOutput(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2048 {
		i := len(s) - 2048
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		s = s[i:]
	}
	return s
}

// yangString makes s a valid YANG string (RFC 7950 9.4: the XML character
// set), so that a report whose message holds script output is never
// refused by the encoder (C64): invalid UTF-8 and other characters (e.g.
// terminal escapes) become U+FFFD.
func yangString(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return utf8.RuneError
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
