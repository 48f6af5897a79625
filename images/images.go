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
	ErrNoSpace = errors.New("not enough disk space for the image")
	// ErrTooLarge: the image is larger than Fetcher.MaxSize.
	ErrTooLarge = errors.New("image larger than the size limit")
)

// Defaults for the zero Fetcher fields.
const (
	DefaultResumes     = 3
	DefaultCheckpoint  = 64 << 20
	DefaultIdleTimeout = 60 * time.Second
)

// Fetcher downloads and verifies images. The zero value is usable.
type Fetcher struct {
	// Client is used for every request. nil means an httpx.Client with
	// connect, TLS and response-header timeouts, no proxy, up to 5 HTTP
	// redirects, and the TLS policy below.
	Client  Doer
	MaxSize int64 // bytes; 0 means no limit
	Logger  *slog.Logger

	// StagingDir holds partial downloads: NAME.part and its state
	// NAME.part.json, NAME being the hex of the first expected SHA-256. The
	// state lets a later Fetch (after a crash or a reboot) resume. Empty
	// means beside Output (".OUTPUTNAME.HASHPREFIX.part").
	StagingDir string

	// Progress receives progress; nil means a log line every 10% on Logger.
	Progress Progress

	// VerifyTLS makes https downloads verify the image server's certificate
	// against RootCAs (nil: the system roots). By default the certificate
	// is accepted blindly, as RFC 8572 allows for download-uri (digest 2.6):
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
	// IdleTimeout aborts a body that delivers no byte for this long.
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// Fetch downloads the image from the first URI that yields bytes with an
// expected hash, and leaves it verified at req.Output.
//
// URIs are tried in order; any error (status, connection, hash mismatch,
// size limit) moves on to the next one, after resuming a dropped connection
// up to Resumes times. Local errors (the staging file cannot be written, the
// disk is full) end the Fetch at once: another URI would not help. On
// ErrNoSpace the staging file is removed to give the space back; on other
// failures it is kept, so that the next Fetch resumes.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Result, error) {
	if len(req.URIs) == 0 {
		return nil, errors.New("images: no download-uri")
	}
	if len(req.SHA256) == 0 {
		return nil, errors.New("images: no sha-256 to verify against")
	}
	for _, w := range req.SHA256 {
		if len(w) != 32 {
			return nil, fmt.Errorf("images: expected sha-256 has %d octets, want 32", len(w))
		}
	}
	if req.Output == "" {
		return nil, errors.New("images: no output path")
	}
	st, err := openStage(f.StagingDir, req.Output, req.SHA256[0])
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer st.close()
	r := &run{f: f, st: st, req: req, client: f.client(), log: f.logger(), prog: f.Progress}
	if r.prog == nil {
		r.prog = LogProgress(f.Logger)
	}
	var errs []error
	for i, uri := range req.URIs {
		res, err := r.fetchURI(ctx, uri)
		if err == nil {
			return res, nil
		}
		var le localError
		if ctx.Err() != nil || errors.As(err, &le) {
			if errors.Is(err, ErrNoSpace) {
				st.remove() // give the space back
			} else {
				st.removeIfEmpty()
			}
			return nil, fmt.Errorf("images: %s: %w", uri, err)
		}
		if i+1 < len(req.URIs) {
			r.log.Warn("image download failed, trying the next download-uri", "uri", uri, "err", err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", uri, err))
	}
	st.removeIfEmpty()
	return nil, fmt.Errorf("images: every download-uri failed: %w", errors.Join(errs...))
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

// run is one Fetch.
type run struct {
	f      *Fetcher
	st     *stage
	req    Request
	client Doer
	log    *slog.Logger
	prog   Progress
}

// errRestart: the staged prefix was unusable and has been discarded; the
// same URI is tried again from zero.
var errRestart = errors.New("restart from zero")

type attemptInfo struct {
	written int64 // new bytes staged by this attempt
	resumed bool  // the attempt continued a staged prefix
	done    int64
}

func (r *run) fetchURI(ctx context.Context, uri string) (*Result, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("bad uri: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported uri scheme %q", u.Scheme)
	}
	resumes := r.f.Resumes
	if resumes == 0 {
		resumes = DefaultResumes
	}
	restarts := 0
	for {
		res, a, err := r.attempt(ctx, uri)
		r.prog.Finish(uri, a.done, err)
		if err == nil {
			r.log.Info("image verified", "uri", uri, "path", res.Path, "bytes", res.Size)
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
			r.log.Warn("resumed image failed verification; downloading again from zero", "uri", uri)
			restarts++
			continue
		case a.written > 0 && resumes > 0:
			resumes--
			r.log.Warn("image download interrupted; resuming", "uri", uri, "at", a.done, "err", err)
			continue
		}
		return nil, err
	}
}

// attempt makes one request for uri, continuing the staged prefix when
// there is one for this URI.
func (r *run) attempt(ctx context.Context, uri string) (*Result, attemptInfo, error) {
	var a attemptInfo
	st := r.st
	sc, err := st.load()
	if err != nil {
		return nil, a, localError{err}
	}
	var (
		h   hash.Hash
		off int64
	)
	if sc != nil && sc.URI == uri {
		h, off, err = st.resume(sc)
		if err != nil {
			r.log.Warn("staged image unusable; starting from zero", "err", err)
			sc = nil
		}
	} else {
		sc = nil
	}
	if sc == nil {
		if h, err = st.reset(); err != nil {
			return nil, a, localError{err}
		}
		off = 0
	}
	a.done = off
	if sc != nil && sc.Total >= 0 && off == sc.Total {
		// Complete before an interruption; only verification was missing.
		a.resumed = true
		res, err := r.finish(uri, h, off)
		return res, a, err
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hreq, err := httpx.NewRequest(rctx, "GET", uri, nil)
	if err != nil {
		return nil, a, err
	}
	hreq.Header.Set("Accept-Encoding", "identity")
	if off > 0 {
		hreq.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		if v := ifRange(sc); v != "" {
			hreq.Header.Set("If-Range", v)
		}
	}
	resp, err := r.client.Do(hreq)
	if err != nil {
		return nil, a, err
	}
	defer resp.Body.Close()

	total := int64(-1)
	switch {
	case resp.StatusCode == httpx.StatusPartialContent && off > 0:
		start, _, tot, err := parseContentRange(resp.Header.Get("Content-Range"))
		why := ""
		switch {
		case err != nil:
			why = err.Error()
		case start != off:
			why = fmt.Sprintf("range starts at %d, asked %d", start, off)
		case validatorChanged(sc, resp.Header):
			why = "validator changed"
		case sc.Total >= 0 && tot >= 0 && tot != sc.Total:
			why = fmt.Sprintf("length changed from %d to %d", sc.Total, tot)
		}
		if why != "" {
			r.log.Warn("cannot resume image download; restarting from zero", "uri", uri, "reason", why)
			if _, err := st.reset(); err != nil {
				return nil, a, localError{err}
			}
			return nil, a, errRestart
		}
		a.resumed = true
		total = tot
		if total < 0 {
			total = sc.Total
		}
	case resp.StatusCode == httpx.StatusOK:
		if off > 0 {
			r.log.Warn("server sent the whole image (Range ignored or validator changed); restarting from zero", "uri", uri, "had", off)
			if h, err = st.reset(); err != nil {
				return nil, a, localError{err}
			}
			off, a.done = 0, 0
		}
		total = resp.ContentLength
	case resp.StatusCode == httpx.StatusRangeNotSatisfiable && off > 0:
		r.log.Warn("server refused the resume range; restarting from zero", "uri", uri, "had", off)
		if _, err := st.reset(); err != nil {
			return nil, a, localError{err}
		}
		return nil, a, errRestart
	default:
		return nil, a, fmt.Errorf("status %s", resp.Status)
	}

	if r.f.MaxSize > 0 && total > r.f.MaxSize {
		return nil, a, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, total, r.f.MaxSize)
	}
	if total >= 0 {
		if err := r.checkSpace(total - off); err != nil {
			return nil, a, err
		}
	}
	cur := &sidecar{
		URI:          uri,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Total:        total,
	}
	commit := func(o int64, state []byte) error {
		if err := st.f.Sync(); err != nil {
			return err
		}
		c := *cur
		c.Offset, c.HashState = o, state
		return st.save(&c)
	}
	if err := commit(off, marshalHash(h)); err != nil {
		return nil, a, localError{fmt.Errorf("saving staging state: %w", err)}
	}

	limit := int64(-1)
	if r.f.MaxSize > 0 {
		limit = r.f.MaxSize - off
	}
	ck := r.f.Checkpoint
	if ck <= 0 {
		ck = DefaultCheckpoint
	}
	idle := r.f.IdleTimeout
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	r.log.Debug("downloading image", "uri", uri, "from", off, "total", total)
	p := &pipeline{
		body: resp.Body, f: st.f, h: h, offset: off, limit: limit,
		checkpoint: ck, idle: idle, cancel: cancel,
		progress: func(done int64) { r.prog.Update(uri, done, total) },
		commit:   commit,
	}
	pr, err := p.run(ctx)
	a.written = pr.written
	a.done = off + pr.written
	if err != nil {
		var le localError
		if errors.As(err, &le) && isNoSpace(err) {
			st.remove()
			return nil, a, localError{fmt.Errorf("%w: %w", ErrNoSpace, err)}
		}
		if !errors.As(err, &le) {
			_ = commit(a.done, marshalHash(h))
		}
		return nil, a, err
	}
	if pr.readErr != nil {
		if cerr := commit(a.done, marshalHash(h)); cerr != nil {
			return nil, a, localError{fmt.Errorf("saving staging state: %w", cerr)}
		}
		return nil, a, fmt.Errorf("reading body at byte %d: %w", a.done, pr.readErr)
	}
	if total >= 0 && a.done != total {
		_ = commit(a.done, marshalHash(h))
		return nil, a, fmt.Errorf("body ended at byte %d of %d", a.done, total)
	}
	res, err := r.finish(uri, h, a.done)
	return res, a, err
}

// finish verifies the staged image and moves it to the output path.
func (r *run) finish(uri string, h hash.Hash, size int64) (*Result, error) {
	st := r.st
	sum := h.Sum(nil)
	ok := false
	for _, w := range r.req.SHA256 {
		ok = ok || bytes.Equal(w, sum)
	}
	if !ok {
		st.reset()
		return nil, &MismatchError{URI: uri, Got: sum, Want: r.req.SHA256}
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
	return &Result{Path: r.req.Output, URI: uri, Size: size}, nil
}

// checkSpace fails with ErrNoSpace when the staging file system (and the
// output's, when the image must be copied there) cannot hold need bytes.
func (r *run) checkSpace(need int64) error {
	sdir := filepath.Dir(r.st.path)
	free, err := freeBytes(sdir)
	if err != nil {
		return localError{err}
	}
	if free < need {
		return localError{fmt.Errorf("%w: %d bytes needed in %s, %d free", ErrNoSpace, need, sdir, free)}
	}
	odir := filepath.Dir(r.req.Output)
	if same, err := sameFS(sdir, odir); err == nil && !same {
		fi, _ := r.st.f.Stat()
		all := need
		if fi != nil {
			all += fi.Size()
		}
		if free, err := freeBytes(odir); err == nil && free < all {
			return localError{fmt.Errorf("%w: %d bytes needed in %s, %d free", ErrNoSpace, all, odir, free)}
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
