package images

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sztp/sztp/internal/atomicfile"
	"github.com/sztp/sztp/internal/httpx"
)

// Request describes one image to fetch.
type Request struct {
	URIs   []string // tried in order (C72)
	SHA256 [][]byte // acceptable SHA-256 values; at least one (C73)
	// Output is the final path of the verified image. It is written through a
	// staging file and renamed (or, across file systems, atomically copied)
	// into place only after verification, so Output never holds a partial or
	// unverified image.
	Output string
}

// Result says what was fetched.
type Result struct {
	Path string `json:"path"`
	URI  string `json:"uri"`
	Size int64  `json:"size"`
}

// Errors a caller may test for with errors.Is.
var (
	// ErrNoSpace: the staging (or output) file system cannot hold the image.
	// When a URI declares a size that does not fit, that URI fails and the
	// next is tried (C72); a write that fails for lack of space ends the
	// Fetch.
	ErrNoSpace = errors.New("not enough disk space for the image")
	// ErrTooLarge: the image is larger than Fetcher.MaxSize.
	ErrTooLarge = errors.New("image larger than the size limit")
	// ErrTooSlow: a URI delivered less than Fetcher.MinRate over a window.
	ErrTooSlow = errors.New("image download slower than the minimum rate")
)

// Defaults for the zero Fetcher fields.
const (
	DefaultResumes     = 3
	DefaultCheckpoint  = 64 << 20
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxSize bounds an image when Fetcher.MaxSize is zero: 4 GiB
	// holds the OS images of DPUs, IPUs and edge servers (typically 0.5 to
	// 2.5 GiB) with room to spare, while a server cannot fill a disk (or,
	// without a state directory, an initramfs's RAM) with an endless
	// chunked body.
	DefaultMaxSize = 4 << 30
	// DefaultMinRate is the slowest average, in bytes per second over each
	// IdleTimeout window, a download may run at when Fetcher.MinRate is
	// zero: 32 KiB/s (256 kbit/s) is below any link that provisions a
	// device, and bounds a 4 GiB image to about 36 hours; a server that
	// drips a byte just inside the idle timeout fails in its first window.
	DefaultMinRate = 32 << 10
)

// Fetcher downloads and verifies images. The zero value is usable.
type Fetcher struct {
	// Client is used for every request. nil means an httpx.Client with
	// connect, TLS and response-header timeouts, no proxy, up to 5 HTTP
	// redirects, and the TLS policy below.
	Client Doer
	// MaxSize is the largest image accepted, in bytes: a larger declared
	// size fails that URI before any byte is staged, and a body that grows
	// past it is cut. 0 means DefaultMaxSize, <0 no limit.
	MaxSize int64
	Logger  *slog.Logger

	// StagingDir holds partial downloads: NAME.part and its state
	// NAME.part.json, NAME being the hex of the first expected SHA-256. The
	// state lets a later Fetch (after a crash or a reboot) resume. Empty
	// means StagingSubdir beside Output. Either must be private to the
	// agent's user (see package privdir).
	StagingDir string

	// Progress receives progress; nil means a log line every 10% on Logger.
	Progress Progress

	// VerifyTLS makes https downloads verify the image server's certificate
	// against RootCAs (nil: the system roots). By default the certificate
	// is accepted blindly, as RFC 8572 section 5.4 allows for download-uri:
	// the image's integrity comes from its SHA-256. Ignored when Client is
	// set.
	VerifyTLS bool
	RootCAs   *x509.CertPool

	// Resumes is how often a download from one URI is resumed with a Range
	// request after the connection drops, as long as each attempt brought
	// new bytes; then the next URI is tried. 0 means DefaultResumes, <0 none.
	Resumes int
	// Checkpoint is how many bytes pass between fsync + state checkpoints.
	// 0 means DefaultCheckpoint.
	Checkpoint int64
	// IdleTimeout aborts a body that delivers no byte for this long; it is
	// also the window MinRate is averaged over. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MinRate fails a URI whose body brings fewer than MinRate bytes per
	// second on average over an IdleTimeout window (ErrTooSlow; the URI is
	// not resumed, the next is tried). 0 means DefaultMinRate, <0 no floor.
	MinRate int64
}

// Fetch downloads the image from the first URI that yields bytes with an
// expected hash, and leaves it verified at req.Output.
//
// URIs are tried in order (C72); a failure of the server or of what it sent
// (status, connection, hash mismatch, a declared size above MaxSize or
// above the free space, too slow) moves on to the next one, after resuming
// a dropped connection up to Resumes times. Local errors (the staging file
// cannot be written, the disk fills up while writing) end the Fetch at once:
// another URI would not help. On ErrNoSpace the staging file is removed to
// give the space back; on other failures it is kept, so that the next Fetch
// resumes. Credentials in a URI (user:password@) are sent as HTTP Basic
// authentication to that server only, and never appear in logs, errors or
// the Result.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Result, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	log := f.logger()
	st, err := openStage(f.StagingDir, req.Output, req.SHA256[0], log)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if f.StagingDir == "" {
		defer os.Remove(filepath.Dir(st.path)) // only when empty
	}
	defer st.close()
	r := &run{f: f, st: st, req: req, client: f.client(), log: log, prog: f.Progress}
	if r.prog == nil {
		r.prog = LogProgress(f.Logger)
	}
	var errs []error
	for i, uri := range req.URIs {
		res, err := r.fetchURI(ctx, uri)
		if err == nil {
			return res, nil
		}
		safe := Redact(uri)
		var le localError
		if ctx.Err() != nil || errors.As(err, &le) {
			if errors.Is(err, ErrNoSpace) {
				st.remove() // give the space back
			} else {
				st.removeIfEmpty()
			}
			return nil, fmt.Errorf("images: %s: %w", safe, err)
		}
		if i+1 < len(req.URIs) {
			r.log.Warn("image download failed, trying the next download-uri", "uri", safe, "err", err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", safe, err))
	}
	st.removeIfEmpty()
	return nil, fmt.Errorf("images: every download-uri failed: %w", errors.Join(errs...))
}

func (req *Request) check() error {
	if len(req.URIs) == 0 {
		return errors.New("images: no download-uri")
	}
	if len(req.SHA256) == 0 {
		return errors.New("images: no sha-256 to verify against")
	}
	for _, w := range req.SHA256 {
		if len(w) != 32 {
			return fmt.Errorf("images: expected sha-256 has %d octets, want 32", len(w))
		}
	}
	if req.Output == "" {
		return errors.New("images: no output path")
	}
	return nil
}

// Redact returns uri with any password replaced by "xxxxx" (and an
// unparsable one replaced whole), for logs, errors and records.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		if strings.Contains(uri, "@") {
			return "(unparsable uri)"
		}
		return uri
	}
	return u.Redacted()
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Doer sends HTTP requests (an *httpx.Client).
type Doer interface {
	Do(*httpx.Request) (*httpx.Response, error)
}

func (f *Fetcher) client() Doer {
	if f.Client != nil {
		return f.Client
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.VerifyTLS {
		tc.RootCAs = f.RootCAs
	} else {
		tc.InsecureSkipVerify = true // integrity from the SHA-256 (RFC 8572 download-uri)
	}
	return &httpx.Client{
		TLSConfig:             tc,
		DialTimeout:           30 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxRedirects:          5,
	}
}

func (f *Fetcher) maxSize() int64 {
	switch {
	case f.MaxSize == 0:
		return DefaultMaxSize
	case f.MaxSize < 0:
		return -1
	}
	return f.MaxSize
}

func (f *Fetcher) minRate() int64 {
	switch {
	case f.MinRate == 0:
		return DefaultMinRate
	case f.MinRate < 0:
		return 0
	}
	return f.MinRate
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// run is one Fetch.
type run struct {
	f      *Fetcher
	st     *stage
	req    Request
	client Doer
	log    *slog.Logger
	prog   Progress
	bufs   [][]byte // the pipeline's buffers, allocated by the first attempt that streams
}

// errRestart: the staged prefix was unusable and has been discarded; the
// same URI is tried again from zero.
var errRestart = errors.New("restart from zero")

type attemptInfo struct {
	written int64 // new bytes staged by this attempt
	resumed bool  // the attempt continued a staged prefix
	done    int64
}

// target is one URI: the form that is requested (credentials moved out of
// the URL) and the redacted form that is logged.
type target struct {
	url        string // without user:password
	safe       string // for logs, errors, progress and the Result
	user, pass string
	auth       bool
}

func parseTarget(uri string) (target, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return target{}, errors.New("bad uri: cannot be parsed") // the text may hold a password
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return target{}, fmt.Errorf("unsupported uri scheme %q", u.Scheme)
	}
	t := target{safe: u.Redacted()}
	if u.User != nil {
		t.auth = true
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
		u.User = nil
	}
	t.url = u.String()
	return t, nil
}

func (r *run) fetchURI(ctx context.Context, uri string) (*Result, error) {
	t, err := parseTarget(uri)
	if err != nil {
		return nil, err
	}
	resumes := r.f.Resumes
	if resumes == 0 {
		resumes = DefaultResumes
	}
	restarts := 0
	for {
		res, a, err := r.attempt(ctx, t)
		r.prog.Finish(t.safe, a.done, err)
		if err == nil {
			r.log.Info("image verified", "uri", t.safe, "path", res.Path, "bytes", res.Size)
			return res, nil
		}
		var le localError
		if ctx.Err() != nil || errors.As(err, &le) {
			return nil, err
		}
		var mm *MismatchError
		switch {
		case errors.Is(err, errRestart) && restarts < 2:
			restarts++
			continue
		case errors.As(err, &mm) && a.resumed && restarts < 2:
			// The staged prefix may be what was wrong (a crash garbled its
			// unsynced tail, or the file changed without a new validator).
			r.log.Warn("resumed image failed verification; downloading again from zero", "uri", t.safe)
			restarts++
			continue
		case errors.As(err, &mm), errors.Is(err, ErrTooSlow), errors.Is(err, ErrTooLarge), errors.Is(err, ErrNoSpace):
			// Final for this URI: the server sent bytes with the wrong hash
			// from zero (issue 10 item 4), is too slow, or too large.
			return nil, err
		case a.written > 0 && resumes > 0:
			resumes--
			r.log.Warn("image download interrupted; resuming", "uri", t.safe, "at", a.done, "err", err)
			continue
		}
		return nil, err
	}
}

// attempt makes one request for the target, continuing the staged prefix
// when there is one for this URI: it picks up the staged prefix, sends the
// (range) request, decides from the response whether the prefix is
// continued, checks the declared size, streams the body, and verifies.
func (r *run) attempt(ctx context.Context, t target) (*Result, attemptInfo, error) {
	var a attemptInfo
	sc, h, off, err := r.stagedPrefix(t)
	if err != nil {
		return nil, a, err
	}
	a.done = off
	if sc != nil && sc.Total >= 0 && off == sc.Total {
		// Complete before an interruption; only verification was missing.
		a.resumed = true
		res, err := r.finish(t, h, off)
		return res, a, err
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := r.request(rctx, t, sc, off)
	if err != nil {
		return nil, a, err
	}
	defer resp.Body.Close()
	total, err := r.accept(t, resp, sc, &h, &off, &a)
	if err != nil {
		return nil, a, err
	}
	if err := r.checkDeclared(total, off); err != nil {
		return nil, a, err
	}
	cur := &sidecar{
		URI:          t.safe,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Total:        total,
	}
	commit := r.committer(cur)
	if err := commit(off, marshalHash(h)); err != nil {
		return nil, a, localError{fmt.Errorf("saving staging state: %w", err)}
	}
	r.log.Debug("downloading image", "uri", t.safe, "from", off, "total", total)
	if err := r.stream(ctx, t, resp.Body, cancel, h, off, total, commit, &a); err != nil {
		return nil, a, err
	}
	res, err := r.finish(t, h, a.done)
	return res, a, err
}

// stagedPrefix returns what the staging file holds for this URI: its
// sidecar, the hash over its bytes (re-read from disk) and the offset to
// continue at; or an empty staging file and a fresh hash.
func (r *run) stagedPrefix(t target) (*sidecar, hash.Hash, int64, error) {
	sc := r.st.load()
	if sc != nil && sc.URI == t.safe {
		h, off, err := r.st.resume(sc)
		if err == nil {
			return sc, h, off, nil
		}
		r.log.Warn("staged image unusable; starting from zero", "uri", t.safe, "err", err)
	}
	h, err := r.st.reset()
	if err != nil {
		return nil, nil, 0, localError{err}
	}
	return nil, h, 0, nil
}

// request sends the GET, with Range and If-Range when continuing off bytes.
func (r *run) request(ctx context.Context, t target, sc *sidecar, off int64) (*httpx.Response, error) {
	hreq, err := httpx.NewRequest(ctx, "GET", t.url, nil)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Accept-Encoding", "identity")
	if t.auth {
		hreq.SetBasicAuth(t.user, t.pass)
	}
	if off > 0 {
		hreq.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		if v := ifRange(sc); v != "" {
			hreq.Header.Set("If-Range", v)
		}
	}
	return r.client.Do(hreq)
}

// accept decides from the response status whether the staged prefix is
// continued (206 matching it), replaced (200), or discarded (errRestart),
// and returns the image's total length (-1 when unknown).
func (r *run) accept(t target, resp *httpx.Response, sc *sidecar, h *hash.Hash, off *int64, a *attemptInfo) (int64, error) {
	st := r.st
	switch {
	case resp.StatusCode == httpx.StatusPartialContent && *off > 0:
		start, _, tot, err := parseContentRange(resp.Header.Get("Content-Range"))
		why := ""
		switch {
		case err != nil:
			why = err.Error()
		case start != *off:
			why = fmt.Sprintf("range starts at %d, asked %d", start, *off)
		case validatorChanged(sc, resp.Header):
			why = "validator changed"
		case sc.Total >= 0 && tot >= 0 && tot != sc.Total:
			why = fmt.Sprintf("length changed from %d to %d", sc.Total, tot)
		}
		if why != "" {
			r.log.Warn("cannot resume image download; restarting from zero", "uri", t.safe, "reason", why)
			if _, err := st.reset(); err != nil {
				return 0, localError{err}
			}
			return 0, errRestart
		}
		a.resumed = true
		if tot < 0 {
			tot = sc.Total
		}
		return tot, nil
	case resp.StatusCode == httpx.StatusOK:
		if *off > 0 {
			r.log.Warn("server sent the whole image (Range ignored or validator changed); restarting from zero", "uri", t.safe, "had", *off)
			nh, err := st.reset()
			if err != nil {
				return 0, localError{err}
			}
			*h, *off, a.done = nh, 0, 0
		}
		return resp.ContentLength, nil
	case resp.StatusCode == httpx.StatusRangeNotSatisfiable && *off > 0:
		r.log.Warn("server refused the resume range; restarting from zero", "uri", t.safe, "had", *off)
		if _, err := st.reset(); err != nil {
			return 0, localError{err}
		}
		return 0, errRestart
	}
	return 0, fmt.Errorf("status %s", resp.Status)
}

// checkDeclared fails the URI (not the Fetch: C72) when the size the server
// declared is above the limit or does not fit in the free space.
func (r *run) checkDeclared(total, off int64) error {
	if total < 0 {
		return nil
	}
	if max := r.f.maxSize(); max >= 0 && total > max {
		return fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooLarge, total, max)
	}
	return r.checkSpace(total - off)
}

// committer returns the checkpoint function: fsync the staging file, then
// replace the sidecar.
func (r *run) committer(cur *sidecar) func(int64, []byte) error {
	return func(o int64, state []byte) error {
		if err := r.st.f.Sync(); err != nil {
			return err
		}
		c := *cur
		c.Offset, c.HashState = o, state
		return r.st.save(&c)
	}
}

// stream runs the pipeline over the body and sorts out how it ended: a
// clean end at the declared length returns nil, anything else an error
// (checkpointed first, so a later attempt resumes).
func (r *run) stream(ctx context.Context, t target, body io.Reader, cancel func(), h hash.Hash, off, total int64, commit func(int64, []byte) error, a *attemptInfo) error {
	limit := int64(-1)
	if max := r.f.maxSize(); max >= 0 {
		limit = max - off
	}
	if r.bufs == nil {
		r.bufs = newBuffers()
	}
	p := &pipeline{
		bufs: r.bufs,
		body: body, f: r.st.f, h: h, offset: off, limit: limit,
		checkpoint: orDefault(r.f.Checkpoint, DefaultCheckpoint),
		idle:       orDefault(r.f.IdleTimeout, DefaultIdleTimeout),
		minRate:    r.f.minRate(),
		cancel:     cancel,
		progress:   func(done int64) { r.prog.Update(t.safe, done, total) },
		commit:     commit,
	}
	pr, err := p.run(ctx)
	a.written = pr.written
	a.done = off + pr.written
	var le localError
	switch {
	case err != nil && errors.As(err, &le) && isNoSpace(err):
		r.st.remove()
		return localError{fmt.Errorf("%w: %w", ErrNoSpace, err)}
	case err != nil:
		if !errors.As(err, &le) {
			_ = commit(a.done, marshalHash(h))
		}
		return err
	case pr.readErr != nil:
		if cerr := commit(a.done, marshalHash(h)); cerr != nil {
			return localError{fmt.Errorf("saving staging state: %w", cerr)}
		}
		return fmt.Errorf("reading body at byte %d: %w", a.done, pr.readErr)
	case total >= 0 && a.done != total:
		_ = commit(a.done, marshalHash(h))
		return fmt.Errorf("body ended at byte %d of %d", a.done, total)
	}
	return nil
}

// finish verifies the staged image and moves it to the output path.
func (r *run) finish(t target, h hash.Hash, size int64) (*Result, error) {
	st := r.st
	sum := h.Sum(nil)
	ok := false
	for _, w := range r.req.SHA256 {
		ok = ok || bytes.Equal(w, sum)
	}
	if !ok {
		st.reset()
		return nil, &MismatchError{URI: t.safe, Got: sum, Want: r.req.SHA256}
	}
	if err := st.f.Chmod(0o644); err != nil {
		return nil, localError{err}
	}
	if err := st.f.Sync(); err != nil {
		return nil, localError{fmt.Errorf("fsync staging file: %w", err)}
	}
	outDir := filepath.Dir(r.req.Output)
	same, err := sameFS(filepath.Dir(st.path), outDir)
	if err != nil {
		return nil, localError{err}
	}
	if same {
		if err := os.Rename(st.path, r.req.Output); err != nil {
			return nil, localError{fmt.Errorf("moving image into place: %w", err)}
		}
		if err := atomicfile.SyncDir(outDir); err != nil {
			return nil, localError{err}
		}
	} else {
		if _, err := st.f.Seek(0, io.SeekStart); err != nil {
			return nil, localError{err}
		}
		err := atomicfile.WriteFrom(r.req.Output, 0o644, func(w io.Writer) error {
			_, err := io.Copy(w, st.f)
			return err
		})
		if err != nil {
			if isNoSpace(err) {
				err = fmt.Errorf("%w: %w", ErrNoSpace, err)
			}
			return nil, localError{fmt.Errorf("copying image into place: %w", err)}
		}
	}
	st.remove()
	return &Result{Path: r.req.Output, URI: t.safe, Size: size}, nil
}

// checkSpace fails with ErrNoSpace when the staging file system (and the
// output's, when the image must be copied there) cannot hold the need bytes
// a server declared. That is the URI's failure, not a local one: another
// server may declare (and send) an image that fits (C72).
func (r *run) checkSpace(need int64) error {
	sdir := filepath.Dir(r.st.path)
	free, err := freeBytes(sdir)
	if err != nil {
		return localError{err}
	}
	if free < need {
		return fmt.Errorf("%w: %d bytes declared, %s has %d free", ErrNoSpace, need, sdir, free)
	}
	odir := filepath.Dir(r.req.Output)
	if same, err := sameFS(sdir, odir); err == nil && !same {
		fi, _ := r.st.f.Stat()
		all := need
		if fi != nil {
			all += fi.Size()
		}
		if free, err := freeBytes(odir); err == nil && free < all {
			return fmt.Errorf("%w: %d bytes declared, %s has %d free", ErrNoSpace, all, odir, free)
		}
	}
	return nil
}

// ifRange is the validator to send with a Range request: a strong ETag,
// else the Last-Modified date.
func ifRange(sc *sidecar) string {
	if sc.ETag != "" && !strings.HasPrefix(sc.ETag, "W/") {
		return sc.ETag
	}
	return sc.LastModified
}

// validatorChanged reports whether a 206 response carries a different
// validator from the one the staged prefix came with (a server that ignored
// If-Range).
func validatorChanged(sc *sidecar, h httpx.Header) bool {
	if et := h.Get("ETag"); sc.ETag != "" && et != "" {
		return et != sc.ETag
	}
	if lm := h.Get("Last-Modified"); sc.LastModified != "" && lm != "" {
		return lm != sc.LastModified
	}
	return false
}
