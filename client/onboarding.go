package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/images"
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

// onboard processes onboarding information (digest 2.6). Every failure
// returns to the enclosing loop with nothing left active (C82, C83).
func (at *attempt) onboard(ctx context.Context, conn *Conn, level conveyed.ReportingLevel, oi *conveyed.OnboardingInformation, signed bool) (*Outcome, error) {
	a := at.a
	r := at.newReporter(conn, level)
	out := &Outcome{Result: Bootstrapped, Server: r.server, Signed: signed}

	// Step 1 (C60, C61).
	if err := r.send(ctx, conveyed.BootstrapInitiated, ""); err != nil {
		return nil, r.fail(ctx, conveyed.BootstrapError, fmt.Errorf("bootstrap-initiated not accepted: %w", err))
	}
	// Step 2: parsing already happened (conveyed.Decode) before trust was
	// established; at verbose level say so.
	r.verbose(ctx, conveyed.ParsingInitiated, "")
	r.verbose(ctx, conveyed.ParsingComplete, "")

	// Step 3: boot image.
	if oi.BootImage != nil {
		res, err := at.bootImage(ctx, r, oi.BootImage)
		if err != nil {
			return nil, r.fail(ctx, conveyed.BootImageError, err)
		}
		if res != nil && res.Reboot != nil {
			if err := ctx.Err(); err != nil {
				at.abandon(res)
				return nil, r.fail(ctx, conveyed.BootImageError, fmt.Errorf("stopped before rebooting into the installed image: %w", err))
			}
			// C75: report before rebooting; the server is not contacted again.
			r.send(ctx, conveyed.BootImageInstalledRebooting, res.Message)
			out.Result = Rebooting
			a.log.Info("rebooting into the new boot image")
			if err := res.Reboot(ctx); err != nil {
				at.abandon(res)
				return nil, fmt.Errorf("rebooting into the new image: %w", err)
			}
			out.Reports = r.sent
			return out, nil
		}
	}

	// Step 4: pre-configuration script (C76, C77).
	if len(oi.PreConfigurationScript) > 0 {
		if err := at.script(ctx, r, "pre-configuration-script", oi.PreConfigurationScript, conveyed.PreScriptInitiated, conveyed.PreScriptWarning, conveyed.PreScriptComplete); err != nil {
			return nil, r.fail(ctx, conveyed.PreScriptError, err)
		}
	}

	// Step 5: configuration, committed atomically (C78, C79).
	var undo func() error
	rollback := func(why string) {
		if undo == nil {
			return
		}
		if err := undo(); err != nil {
			a.log.Error("rolling back the configuration failed", "why", why, "err", err)
		} else {
			a.log.Info("configuration rolled back", "why", why)
		}
		undo = nil
	}
	if len(oi.Configuration) > 0 {
		r.verbose(ctx, conveyed.ConfigInitiated, "")
		if a.cfg.Config == nil {
			return nil, r.fail(ctx, conveyed.ConfigError, errors.New("configuration given but no config hook is configured (--config-hook)"))
		}
		if err := a.measure(ctx, ArtifactConfiguration, oi.Configuration); err != nil {
			return nil, r.fail(ctx, conveyed.ConfigError, err)
		}
		if err := at.installLDevID(ctx, oi.Configuration); err != nil {
			return nil, r.fail(ctx, conveyed.ConfigError, err)
		}
		u, err := a.cfg.Config.ApplyConfig(ctx, boot.Config{Data: oi.Configuration, Handling: string(oi.ConfigurationHandling)})
		if err != nil {
			return nil, r.fail(ctx, conveyed.ConfigError, fmt.Errorf("committing configuration: %w", err))
		}
		undo = u
		r.verbose(ctx, conveyed.ConfigComplete, "")
	}

	// Step 6: post-configuration script; on error roll back (C81).
	if len(oi.PostConfigurationScript) > 0 {
		if err := at.script(ctx, r, "post-configuration-script", oi.PostConfigurationScript, conveyed.PostScriptInitiated, conveyed.PostScriptWarning, conveyed.PostScriptComplete); err != nil {
			rollback("post-configuration script failed")
			return nil, r.fail(ctx, conveyed.PostScriptError, err)
		}
	}

	// Step 7 (C69): the run-once record is what turns SZTP off on this
	// device. Without it (no state directory, or it cannot be written),
	// SZTP remains enabled: warn the server.
	st := a.cfg.State
	marked := false
	if st == nil {
		r.send(ctx, conveyed.BootstrapWarning, "SZTP remains enabled on this device (no state directory)")
	} else if err := st.MarkCompleted(state.Completion{Time: a.cfg.Clock.Now(), Server: r.server, Source: at.source}); err != nil {
		a.log.Warn("recording the completed bootstrap failed; SZTP remains enabled", "err", err)
		r.send(ctx, conveyed.BootstrapWarning, "SZTP remains enabled on this device: recording the completed bootstrap failed: "+err.Error())
	} else {
		marked = true
	}

	// Step 8 (C67), with the host keys and trust anchors (C66).
	if err := r.sendInput(ctx, r.completion(ctx)); err != nil {
		if marked {
			if err := st.ClearCompleted(); err != nil {
				a.log.Error("removing the run-once record of a bootstrap that was not accepted", "err", err)
			}
		}
		rollback("bootstrap-complete not accepted")
		return nil, r.fail(ctx, conveyed.BootstrapError, fmt.Errorf("bootstrap-complete not accepted: %w", err))
	}
	if st != nil {
		if err := st.ClearPendingReboot(); err != nil {
			a.log.Warn("clearing the pending reboot record", "err", err)
		}
		if err := st.RemoveImages(); err != nil {
			a.log.Warn("removing staged images", "err", err)
		}
	}
	out.Reports = r.sent
	return out, nil
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

// bootImage is step 3. It returns nil, nil when the image is already running.
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
	res, err := a.cfg.Images.Fetch(ctx, images.Request{URIs: bi.DownloadURIs, SHA256: sums, Output: outPath})
	if err != nil {
		return nil, fmt.Errorf("downloading the boot image: %w", err)
	}
	a.log.Debug("boot image downloaded and verified", "uri", res.URI, "bytes", res.Size)
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
	return nil, nil
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
