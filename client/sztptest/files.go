package sztptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/sztp/sztp/internal/httpx"
	"net"
	"strconv"
	"strings"
	"sync"
)

// FileServer serves boot images over HTTPS on 127.0.0.1 without client
// authentication, like a plain download server (download-uri).
type FileServer struct {
	URL   string // https://127.0.0.1:PORT
	hs    *httpx.Server
	mu    sync.Mutex
	files map[string][]byte
	gets  map[string]int
}

// NewFileServer starts a file server with the given certificate.
func NewFileServer(cert tls.Certificate) (*FileServer, error) {
	if len(cert.Certificate) == 0 {
		return nil, errors.New("sztptest: a server certificate is required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sztptest: %w", err)
	}
	fs := &FileServer{URL: "https://" + ln.Addr().String(), files: map[string][]byte{}, gets: map[string]int{}}
	fs.hs = &httpx.Server{Handler: fs, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go fs.hs.Serve(ln)
	return fs, nil
}

// Add serves data at /NAME and returns its URL.
func (fs *FileServer) Add(name string, data []byte) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.files[name] = data
	return fs.URL + "/" + name
}

// Gets returns how many times NAME was requested.
func (fs *FileServer) Gets(name string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.gets[name]
}

// Close stops the server.
func (fs *FileServer) Close() { fs.hs.Close() }

// ServeHTTPX serves the files (with Range support).
func (fs *FileServer) ServeHTTPX(w httpx.ResponseWriter, r *httpx.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	fs.mu.Lock()
	data, ok := fs.files[name]
	fs.gets[name]++
	fs.mu.Unlock()
	if !ok {
		httpx.Error(w, "not found", httpx.StatusNotFound)
		return
	}
	// Range: bytes=N- only (what a resuming download sends).
	if rg := r.Header.Get("Range"); strings.HasPrefix(rg, "bytes=") && strings.HasSuffix(rg, "-") {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n < 0 || n >= len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(httpx.StatusRangeNotSatisfiable)
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data)))
		w.WriteHeader(httpx.StatusPartialContent)
		w.Write(data[n:])
		return
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}
