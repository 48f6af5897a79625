package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/httpx"
)

// TestHardening10_1_ResumeRehashes: 4 KiB overwritten inside a staged .part
// between two fetches (bit rot, storage that lost acknowledged writes,
// another writer). The resumed fetch must not declare the garbled image
// verified: the prefix is hashed again from the file, differs from its
// checkpoint, and the download starts from zero. Without the re-hash the
// stored hash state is trusted, the second request asks for the rest only
// (Range), and the wrong image lands at the output as "verified".
func TestHardening10_1_ResumeRehashes(t *testing.T) {
	img := newImage(101, 4<<20)
	const cut = 3 << 20
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
		t.Fatal("first Fetch succeeded though the connection dropped")
	}
	part, _ := stageNames(e.stage, e.output, img.sum)
	pf, err := os.OpenFile(part, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pf.WriteAt(bytes.Repeat([]byte{0x5A}, 4096), 1<<20+100); err != nil {
		t.Fatal(err)
	}
	pf.Close()

	if _, err := e.fetch(f, img, e.url("/img")); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	e.verified(img) // the bytes at the output are the image's, not the garbled ones
	if reqs := e.log.get(); len(reqs) != 2 || reqs[1].rng != "" {
		t.Errorf("requests %+v, want the second from zero (no Range)", reqs)
	}
}

// TestHardening10_1_PlantedStagingRefused: what is found under the staging
// file's name is reused only when it is our own regular file with no group
// or other access and one link. A symbolic link is not followed (its
// target stays untouched); a group-readable file, a hard link or another
// user's file is discarded and the download starts from zero.
func TestHardening10_1_PlantedStagingRefused(t *testing.T) {
	img := newImage(102, 1<<20)
	tests := []struct {
		name  string
		plant func(t *testing.T, part, victim, uri string)
	}{
		{"symlink", func(t *testing.T, part, victim, uri string) {
			if err := os.Symlink(victim, part); err != nil {
				t.Fatal(err)
			}
		}},
		{"group-readable", func(t *testing.T, part, victim, uri string) {
			plantPrefix(t, part, uri, img, 0o640)
		}},
		{"hard link", func(t *testing.T, part, victim, uri string) {
			plantPrefix(t, part, uri, img, 0o600)
			if err := os.Link(part, victim+".link"); err != nil {
				t.Fatal(err)
			}
		}},
		{"other owner", func(t *testing.T, part, victim, uri string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			plantPrefix(t, part, uri, img, 0o600)
			if err := os.Chown(part, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) { serve(w, r, img) })
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("victim"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(e.stage, 0o700); err != nil {
				t.Fatal(err)
			}
			part, _ := stageNames(e.stage, e.output, img.sum)
			tc.plant(t, part, victim, e.url("/img"))
			if _, err := e.fetch(e.fetcher(), img, e.url("/img")); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			e.verified(img)
			if b, _ := os.ReadFile(victim); string(b) != "victim" {
				t.Errorf("the symlink's target was written (%d bytes)", len(b))
			}
			if reqs := e.log.get(); len(reqs) != 1 || reqs[0].rng != "" {
				t.Errorf("requests %+v, want one from zero: the planted file is not resumed", reqs)
			}
		})
	}
}

// plantPrefix writes the first half of img as a staged file with a sidecar
// that describes it correctly, so that only the file checks stop a resume.
func plantPrefix(t *testing.T, part, uri string, img image, mode os.FileMode) {
	t.Helper()
	half := img.data[:len(img.data)/2]
	if err := os.WriteFile(part, half, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(part, mode); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(half)
	st := &stage{side: part + ".json"}
	if err := st.save(&sidecar{URI: uri, Total: int64(len(img.data)), Offset: int64(len(half)), HashState: marshalHash(h)}); err != nil {
		t.Fatal(err)
	}
}

// TestHardening10_1_StagingDirPrivate: the staging directory must be ours
// and not writable by others, and it is never a symbolic link; without a
// StagingDir the image is staged in a private subdirectory beside the
// output (not under a predictable name in the output's directory, which may
// be /tmp).
func TestHardening10_1_StagingDirPrivate(t *testing.T) {
	img := newImage(103, 64<<10)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (stagingDir string)
		want  string
	}{
		{"group-writable staging dir", func(t *testing.T, dir string) string {
			d := filepath.Join(dir, "stage")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(d, 0o770)
			return d
		}, "writable by group or others"},
		{"symlinked staging dir beside the output", func(t *testing.T, dir string) string {
			if err := os.Symlink(t.TempDir(), filepath.Join(dir, StagingSubdir)); err != nil {
				t.Fatal(err)
			}
			return ""
		}, "symbolic link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, img) }))
			defer srv.Close()
			dir := t.TempDir()
			f := &Fetcher{StagingDir: tc.setup(t, dir), Logger: testLogger(t)}
			out := filepath.Join(dir, "img")
			_, err := f.Fetch(context.Background(), Request{URIs: []string{srv.URL}, SHA256: [][]byte{img.sum}, Output: out})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the refused staging directory")
			}
		})
	}
}

// TestHardening10_3_DeclaredSizeTriesNextURI: C72: a declared size that
// does not fit in the free space (a Content-Length, or the total of a 206
// Content-Range) fails that URI, and the next URI is tried. Before the fix
// it ended the whole fetch as a local "no space" error.
func TestHardening10_3_DeclaredSizeTriesNextURI(t *testing.T) {
	img := newImage(104, 256<<10)
	const huge = 1 << 55 // more than any test machine has free
	tests := []struct {
		name string
		// prime, when set, is fetched first (and fails) to leave a staged
		// prefix of /huge with an unknown total.
		prime bool
		huge  func(w http.ResponseWriter, r *http.Request)
	}{
		{"content-length", false, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(int64(huge)))
			w.WriteHeader(http.StatusOK)
		}},
		{"206 total", true, func(w http.ResponseWriter, r *http.Request) {
			rng := r.Header.Get("Range")
			if rng == "" { // the priming request: a chunked body that drops
				w.Write(img.data[:4096])
				w.(http.Flusher).Flush()
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 4096-%d/%d", int64(huge)-1, int64(huge)))
			w.WriteHeader(http.StatusPartialContent)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path == "/huge" {
					tc.huge(w, r)
					return
				}
				serve(w, r, img)
			})
			f := e.fetcher()
			f.MaxSize = -1
			if tc.prime {
				f.Resumes = -1
				if _, err := e.fetch(f, img, e.url("/huge")); err == nil {
					t.Fatal("priming Fetch succeeded")
				}
				f.Resumes = 0
			}
			res, err := e.fetch(f, img, e.url("/huge"), e.url("/img"))
			if err != nil {
				t.Fatalf("Fetch: %v (the declared size ended the fetch instead of failing the URI)", err)
			}
			if res.URI != e.url("/img") {
				t.Errorf("fetched from %s, want /img", res.URI)
			}
			e.verified(img)
		})
	}
}

// TestHardening10_4_DefaultMaxSize: a zero Fetcher (as `sztp run` built it)
// has a size limit: a declared size above DefaultMaxSize fails the URI
// with ErrTooLarge before anything is staged.
func TestHardening10_4_DefaultMaxSize(t *testing.T) {
	img := newImage(105, 1024)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Length", fmt.Sprint(int64(DefaultMaxSize)+1))
		w.WriteHeader(http.StatusOK)
	})
	f := &Fetcher{StagingDir: e.stage, Logger: testLogger(t)}
	_, err := e.fetch(f, img, e.url("/img"))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	e.noOutput()
}

// TestHardening10_4_MinRate: a server that drips a byte well inside the
// idle timeout no longer holds the fetch: below MinRate over a window the
// URI fails with ErrTooSlow and is not resumed. Without the floor this
// fetch succeeds after the whole drip (about 8 s).
func TestHardening10_4_MinRate(t *testing.T) {
	img := newImage(106, 400)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Length", fmt.Sprint(len(img.data)))
		for i := range img.data {
			if _, err := w.Write(img.data[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	f := e.fetcher()
	f.IdleTimeout = time.Second // the window: at most 50 bytes arrive, the floor is 1000
	f.MinRate = 1000
	_, err := e.fetch(f, img, e.url("/drip"))
	if !errors.Is(err, ErrTooSlow) {
		t.Fatalf("err = %v, want ErrTooSlow", err)
	}
	if reqs := e.log.get(); len(reqs) != 1 {
		t.Errorf("server saw %d requests, want 1 (a slow server is not resumed)", len(reqs))
	}
	e.noOutput()
}

// TestHardening10_4_MismatchNotRetried: a download from zero whose hash is
// wrong is final for that URI: the same server would send the same bytes.
// Before the fix it was downloaded again Resumes more times.
func TestHardening10_4_MismatchNotRetried(t *testing.T) {
	img := newImage(107, 512<<10)
	other := newImage(108, 512<<10)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/wrong" {
			serve(w, r, other)
			return
		}
		serve(w, r, img)
	})
	if _, err := e.fetch(e.fetcher(), img, e.url("/wrong"), e.url("/img")); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	e.verified(img)
	var wrong int
	for _, r := range e.log.get() {
		if r.path == "/wrong" {
			wrong++
		}
	}
	if wrong != 1 {
		t.Errorf("/wrong asked %d times, want 1", wrong)
	}
}

// TestHardening10_11_RedirectDowngradeRefused: an https download-uri that
// redirects to http is refused (it would quietly defeat VerifyTLS); the
// http server is never asked.
func TestHardening10_11_RedirectDowngradeRefused(t *testing.T) {
	img := newImage(109, 64<<10)
	var plainHits sync.Map
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Store(r.URL.Path, true)
		serve(w, r, img)
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/img", http.StatusFound)
	}))
	defer tlsSrv.Close()
	dir := t.TempDir()
	f := &Fetcher{Logger: testLogger(t)}
	_, err := f.Fetch(context.Background(), Request{URIs: []string{tlsSrv.URL + "/img"}, SHA256: [][]byte{img.sum}, Output: filepath.Join(dir, "img")})
	if err == nil || !strings.Contains(err.Error(), "https to http") {
		t.Fatalf("err = %v, want a refused downgrade", err)
	}
	if _, hit := plainHits.Load("/img"); hit {
		t.Error("the http server was asked after an https redirect to it")
	}
}

// TestHardening10_11_RedirectDropsAuthorization: credentials (here from
// the URI's user:password, sent as Basic authentication) follow a redirect
// only when scheme and host:port stay the same. Before the fix they went
// along whenever the URL's host:port text matched, also from http to https.
func TestHardening10_11_RedirectDropsAuthorization(t *testing.T) {
	img := newImage(110, 64<<10)
	type seen struct{ path, auth string }
	var mu sync.Mutex
	var got []seen
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{r.URL.Path, r.Header.Get("Authorization")})
	}
	// One name, img.test:8080, served over http by one server and over
	// https by another, so that only the scheme changes.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/img", http.StatusFound)
		case "/to-https":
			http.Redirect(w, r, "https://img.test:8080/img", http.StatusFound)
		default:
			serve(w, r, img)
		}
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		serve(w, r, img)
	}))
	defer secure.Close()
	client := &httpx.Client{
		MaxRedirects: 5,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", plain.Listener.Addr().String())
		},
		DialTLS: func(ctx context.Context, addr string) (net.Conn, error) {
			return (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}).DialContext(ctx, "tcp", secure.Listener.Addr().String())
		},
	}
	tests := []struct {
		path     string
		wantAuth []bool // per request, in order
	}{
		{"/same", []bool{true, true}},
		{"/to-https", []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			dir := t.TempDir()
			f := &Fetcher{Client: client, Logger: testLogger(t)}
			uri := "http://user:secret@img.test:8080" + tc.path
			if _, err := f.Fetch(context.Background(), Request{URIs: []string{uri}, SHA256: [][]byte{img.sum}, Output: filepath.Join(dir, "img")}); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != len(tc.wantAuth) {
				t.Fatalf("requests %+v, want %d", got, len(tc.wantAuth))
			}
			for i, want := range tc.wantAuth {
				if (got[i].auth != "") != want {
					t.Errorf("request %d (%s) Authorization %q, want present=%v", i, got[i].path, got[i].auth, want)
				}
			}
		})
	}
}

// TestHardening10_12_CredentialsRedacted: a download-uri with
// user:password is used for Basic authentication to that server, and the
// password never appears in the log, the error or the Result.
func TestHardening10_12_CredentialsRedacted(t *testing.T) {
	img := newImage(111, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		serve(w, r, img)
	}))
	defer srv.Close()
	var logBuf bytes.Buffer
	var mu sync.Mutex
	f := &Fetcher{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	with := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	out := filepath.Join(t.TempDir(), "img")
	res, err := f.Fetch(context.Background(), Request{URIs: []string{with + "/missing", with + "/img"}, SHA256: [][]byte{img.sum}, Output: out})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	_, err = f.Fetch(context.Background(), Request{URIs: []string{with + "/missing"}, SHA256: [][]byte{img.sum}, Output: out + "2"})
	if err == nil {
		t.Fatal("Fetch of /missing succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	for what, s := range map[string]string{"log": logBuf.String(), "error": err.Error(), "result": res.URI} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("the password is in the %s: %s", what, s)
		}
	}
	if !strings.Contains(logBuf.String(), "user:xxxxx@") {
		t.Errorf("log does not show the redacted URI:\n%s", logBuf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
