package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// image is test content with its hash.
type image struct {
	data []byte
	sum  []byte
	etag string
}

func newImage(seed uint64, n int) image {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	s := sha256.Sum256(b)
	return image{data: b, sum: s[:], etag: fmt.Sprintf(`"v%d"`, seed)}
}

// reqLog records what the test server was asked.
type reqLog struct {
	mu   sync.Mutex
	reqs []logged
}

type logged struct{ path, rng, ifRange string }

func (l *reqLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, logged{r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Range")})
}

func (l *reqLog) get() []logged {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logged(nil), l.reqs...)
}

// serve answers with img, honouring Range and If-Range (ETag) like a
// normal file server.
func serve(w http.ResponseWriter, r *http.Request, img image) {
	w.Header().Set("ETag", img.etag)
	http.ServeContent(w, r, "img", time.Time{}, bytes.NewReader(img.data))
}

// dropAfter answers 200 with the full Content-Length, sends n bytes and
// closes the connection.
func dropAfter(t *testing.T, w http.ResponseWriter, img image, n int) {
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: %s\r\n\r\n", len(img.data), img.etag)
	bw.Write(img.data[:n])
	bw.Flush()
}

// reset closes the connection without an answer.
func reset(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	log    *reqLog
	stage  string
	output string
}

func newEnv(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *env {
	t.Helper()
	e := &env{t: t, log: &reqLog{}}
	var mu sync.Mutex
	count := map[string]int{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.log.add(r)
		mu.Lock()
		count[r.URL.Path]++
		n := count[r.URL.Path]
		mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(e.srv.Close)
	dir := t.TempDir()
	e.stage = filepath.Join(dir, "state", "images")
	e.output = filepath.Join(dir, "out", "image.bin")
	if err := os.MkdirAll(filepath.Dir(e.output), 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) url(p string) string { return e.srv.URL + p }

func (e *env) fetcher() *Fetcher {
	return &Fetcher{StagingDir: e.stage, Logger: testLogger(e.t), IdleTimeout: 5 * time.Second}
}

func (e *env) fetch(f *Fetcher, img image, uris ...string) (*Result, error) {
	return f.Fetch(context.Background(), Request{URIs: uris, SHA256: [][]byte{img.sum}, Output: e.output})
}

// verified fails unless the output holds exactly img.
func (e *env) verified(img image) {
	e.t.Helper()
	got, err := os.ReadFile(e.output)
	if err != nil {
		e.t.Fatalf("reading output: %v", err)
	}
	if !bytes.Equal(got, img.data) {
		e.t.Fatalf("output differs from the image: %d bytes, want %d", len(got), len(img.data))
	}
	if ents, _ := os.ReadDir(e.stage); len(ents) != 0 {
		e.t.Errorf("staging dir not empty after success: %v", names(ents))
	}
}

// noOutput fails if anything was left at the output path.
func (e *env) noOutput() {
	e.t.Helper()
	if _, err := os.Stat(e.output); !errors.Is(err, os.ErrNotExist) {
		e.t.Fatalf("output exists after a failed fetch (err %v)", err)
	}
}

func names(ents []os.DirEntry) []string {
	var s []string
	for _, e := range ents {
		s = append(s, e.Name())
	}
	return s
}

// TestFallback: C72, issue 6 item 1: the download-uri list is tried in
// order and any error on one moves to the next.
func TestFallback(t *testing.T) {
	img := newImage(1, 3<<20+123)
	other := newImage(2, 1<<20)
	tests := []struct {
		name  string
		first func(t *testing.T, w http.ResponseWriter, r *http.Request)
	}{
		{"404", func(t *testing.T, w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
		{"500", func(t *testing.T, w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }},
		{"reset", func(t *testing.T, w http.ResponseWriter, r *http.Request) { reset(t, w) }},
		{"reset mid-body", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") != "" {
				reset(t, w)
				return
			}
			dropAfter(t, w, img, 1000)
		}},
		{"wrong hash", func(t *testing.T, w http.ResponseWriter, r *http.Request) { serve(w, r, other) }},
		{"wrong length", func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			serve(w, r, image{data: img.data[:len(img.data)-1], etag: `"x"`})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/first" {
					tc.first(t, w, r)
					return
				}
				serve(w, r, img)
			})
			res, err := e.fetch(e.fetcher(), img, e.url("/first"), e.url("/second"))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if res.URI != e.url("/second") || res.Size != int64(len(img.data)) || res.Path != e.output {
				t.Errorf("result %+v, want the second URI, %d bytes", res, len(img.data))
			}
			e.verified(img)
		})
	}
}

func TestAllURIsFail(t *testing.T) {
	img := newImage(3, 1<<20)
	wrong := newImage(4, 1<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/wrong":
			serve(w, r, wrong)
		default:
			http.NotFound(w, r)
		}
	})
	_, err := e.fetch(e.fetcher(), img, e.url("/missing"), e.url("/wrong"), "ftp://example.invalid/img")
	if err == nil {
		t.Fatal("Fetch succeeded with no good URI")
	}
	var mm *MismatchError
	if !errors.As(err, &mm) || !bytes.Equal(mm.Got, wrong.sum) {
		t.Errorf("error %v does not carry the mismatch of /wrong", err)
	}
	for _, want := range []string{"404", "/missing", "unsupported uri scheme"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	e.noOutput()
}

// TestResumeAfterDrop: the server drops the connection mid-body; the same
// Fetch resumes with Range + If-Range and verifies.
func TestResumeAfterDrop(t *testing.T) {
	img := newImage(5, 3<<20)
	const cut = 1234567
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropAfter(t, w, img, cut)
			return
		}
		serve(w, r, img)
	})
	if _, err := e.fetch(e.fetcher(), img, e.url("/img")); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	e.verified(img)
	reqs := e.log.get()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2: %+v", len(reqs), reqs)
	}
	if want := fmt.Sprintf("bytes=%d-", cut); reqs[1].rng != want || reqs[1].ifRange != img.etag {
		t.Errorf("resume request Range %q If-Range %q, want %q %q", reqs[1].rng, reqs[1].ifRange, want, img.etag)
	}
}

// TestResumeAcrossFetches: a Fetch that gives up leaves the staged prefix,
// and the next Fetch continues it.
func TestResumeAcrossFetches(t *testing.T) {
	img := newImage(6, 2<<20)
	const cut = 700000
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropAfter(t, w, img, cut)
			return
		}
		serve(w, r, img)
	})
	f := e.fetcher()
	f.Resumes = -1
	if _, err := e.fetch(f, img, e.url("/img")); err == nil {
		t.Fatal("first Fetch succeeded though the connection dropped and resumes are off")
	}
	e.noOutput()
	if _, err := e.fetch(f, img, e.url("/img")); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	e.verified(img)
	if reqs := e.log.get(); len(reqs) != 2 || reqs[1].rng != fmt.Sprintf("bytes=%d-", cut) {
		t.Errorf("requests %+v, want a second one with Range bytes=%d-", reqs, cut)
	}
}

// TestRangeIgnored: a server that answers a Range request with 200 and the
// whole body: the download restarts from zero and verifies.
func TestRangeIgnored(t *testing.T) {
	img := newImage(7, 2<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropAfter(t, w, img, 999999)
			return
		}
		w.Header().Set("ETag", img.etag)
		w.Header().Set("Content-Length", fmt.Sprint(len(img.data)))
		w.Write(img.data) // 200, Range or not
	})
	if _, err := e.fetch(e.fetcher(), img, e.url("/img")); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	e.verified(img)
	if reqs := e.log.get(); len(reqs) != 2 || reqs[1].rng == "" {
		t.Errorf("requests %+v, want a second one with Range", reqs)
	}
}

// TestValidatorChanged: the image on the server changed between the drop and
// the resume. Whether the server honours If-Range (200 with the new image) or
// not (206 with a new ETag), the agent starts again from zero.
func TestValidatorChanged(t *testing.T) {
	old := newImage(8, 2<<20)
	cur := newImage(9, 2<<20+5)
	for _, honour := range []bool{true, false} {
		t.Run(fmt.Sprintf("honours-if-range=%v", honour), func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch {
				case n == 1:
					dropAfter(t, w, old, 1<<20)
				case !honour:
					r.Header.Del("If-Range")
					serve(w, r, cur)
				default:
					serve(w, r, cur)
				}
			})
			if _, err := e.fetch(e.fetcher(), cur, e.url("/img")); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			e.verified(cur)
			reqs := e.log.get()
			if len(reqs) < 2 || reqs[1].rng != "bytes=1048576-" || reqs[1].ifRange != old.etag {
				t.Fatalf("requests %+v, want the second with Range bytes=1048576- If-Range %s", reqs, old.etag)
			}
			if !honour && (len(reqs) != 3 || reqs[2].rng != "") {
				t.Errorf("requests %+v, want a third from zero after the 206 with a new ETag", reqs)
			}
		})
	}
}

// TestGarbledTailRestarts: bytes past the last checkpoint that are not what
// the server has (a crash garbled the unsynced tail) fail verification after
// the resume; the agent downloads again from zero.
func TestGarbledTailRestarts(t *testing.T) {
	img := newImage(10, 2<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			dropAfter(t, w, img, 500000)
			return
		}
		serve(w, r, img)
	})
	f := e.fetcher()
	f.Resumes = -1
	if _, err := e.fetch(f, img, e.url("/img")); err == nil {
		t.Fatal("first Fetch succeeded")
	}
	part, _ := stageNames(e.stage, e.output, img.sum)
	pf, err := os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf.Write(bytes.Repeat([]byte{0xAA}, 4096))
	pf.Close()
	if _, err := e.fetch(f, img, e.url("/img")); err != nil {
		t.Fatalf("Fetch after a garbled tail: %v", err)
	}
	e.verified(img)
	reqs := e.log.get()
	if len(reqs) != 3 || reqs[1].rng != "bytes=504096-" || reqs[2].rng != "" {
		t.Errorf("requests %+v, want: full, Range bytes=504096-, full again", reqs)
	}
}

// TestCompleteButNotMoved: a crash after the last byte but before the rename
// is finished from the staging file alone, without the network.
func TestCompleteButNotMoved(t *testing.T) {
	img := newImage(11, 1<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) { serve(w, r, img) })
	st, err := openStage(e.stage, e.output, img.sum, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	st.f.Write(img.data)
	if err := st.save(&sidecar{URI: e.url("/img"), Total: int64(len(img.data)), HashState: marshalHash(sha256.New())}); err != nil {
		t.Fatal(err)
	}
	st.close()
	if _, err := e.fetch(e.fetcher(), img, e.url("/img")); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	e.verified(img)
	if reqs := e.log.get(); len(reqs) != 0 {
		t.Errorf("server saw %+v, want no request", reqs)
	}
}

func TestMaxSize(t *testing.T) {
	img := newImage(12, 1<<20)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if chunked {
					for i := 0; i < len(img.data); i += 64 << 10 {
						w.Write(img.data[i : i+64<<10])
						w.(http.Flusher).Flush()
					}
					return
				}
				serve(w, r, img)
			})
			f := e.fetcher()
			f.MaxSize = 1<<20 - 1
			_, err := e.fetch(f, img, e.url("/img"))
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			e.noOutput()
		})
	}
}

// TestIdleTimeout: a server that stops sending is abandoned for the next URI.
func TestIdleTimeout(t *testing.T) {
	img := newImage(13, 1<<20)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/stall" {
			w.Header().Set("Content-Length", fmt.Sprint(len(img.data)))
			w.Write(img.data[:1000])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		serve(w, r, img)
	})
	f := e.fetcher()
	f.IdleTimeout = time.Second
	f.Resumes = -1
	res, err := e.fetch(f, img, e.url("/stall"), e.url("/img"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if res.URI != e.url("/img") {
		t.Errorf("fetched from %s, want /img", res.URI)
	}
	e.verified(img)
}

// TestHTTPS: an image server's certificate is accepted blindly by default
// (RFC 8572 section 5.4, download-uri), and verified on request.
func TestHTTPS(t *testing.T) {
	img := newImage(14, 1<<20)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, img) }))
	defer srv.Close()
	dir := t.TempDir()
	req := Request{URIs: []string{srv.URL + "/img"}, SHA256: [][]byte{img.sum}, Output: filepath.Join(dir, "img")}

	if _, err := (&Fetcher{}).Fetch(context.Background(), req); err != nil {
		t.Fatalf("blind TLS: %v", err)
	}
	os.Remove(req.Output)
	if _, err := (&Fetcher{VerifyTLS: true}).Fetch(context.Background(), req); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("VerifyTLS with an unknown CA: err = %v, want a certificate error", err)
	}
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	if _, err := (&Fetcher{VerifyTLS: true, RootCAs: pool}).Fetch(context.Background(), req); err != nil {
		t.Fatalf("VerifyTLS with the server's CA: %v", err)
	}
}

func TestRequestErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "img")
	sum := make([]byte, 32)
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no uri", Request{SHA256: [][]byte{sum}, Output: out}, "no download-uri"},
		{"no hash", Request{URIs: []string{"http://x/"}, Output: out}, "no sha-256"},
		{"short hash", Request{URIs: []string{"http://x/"}, SHA256: [][]byte{sum[:31]}, Output: out}, "31 octets"},
		{"no output", Request{URIs: []string{"http://x/"}, SHA256: [][]byte{sum}}, "no output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&Fetcher{}).Fetch(context.Background(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStagingBesideOutput: without a StagingDir the staging file sits in a
// private directory next to the output (issue 10 item 1) and is renamed onto
// it; the directory goes away with it.
func TestStagingBesideOutput(t *testing.T) {
	img := newImage(15, 1<<20)
	var cut bool
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !cut
		cut = true
		mu.Unlock()
		if first {
			dropAfter(t, w, img, 4096)
			return
		}
		serve(w, r, img)
	}))
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "img")
	req := Request{URIs: []string{srv.URL + "/img"}, SHA256: [][]byte{img.sum}, Output: out}
	if _, err := (&Fetcher{Resumes: -1}).Fetch(context.Background(), req); err == nil {
		t.Fatal("first Fetch succeeded")
	}
	part, side := stageNames("", out, img.sum)
	for _, p := range []string{part, side} {
		if filepath.Dir(p) != filepath.Join(dir, StagingSubdir) {
			t.Fatalf("staging path %s not in %s beside the output", p, StagingSubdir)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("staging file missing after an interrupted fetch: %v", err)
		}
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), req); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "img" {
		t.Errorf("dir holds %v, want only img", names(ents))
	}
}

// TestConcurrentFetchLocked: a second Fetch of the same image while one runs
// fails instead of interleaving writes.
func TestConcurrentFetchLocked(t *testing.T) {
	img := newImage(16, 1<<20)
	dir := t.TempDir()
	st, err := openStage(dir, filepath.Join(dir, "img"), img.sum, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	_, err = (&Fetcher{StagingDir: dir}).Fetch(context.Background(), Request{
		URIs: []string{"http://127.0.0.1:1/img"}, SHA256: [][]byte{img.sum}, Output: filepath.Join(dir, "img")})
	if err == nil || !strings.Contains(err.Error(), "locking staging file") {
		t.Errorf("err = %v, want a lock error", err)
	}
}

// testLogger sends a Fetcher's log to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
