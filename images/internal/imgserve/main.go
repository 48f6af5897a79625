// Command imgserve is a small static file server for image download
// benchmarks and manual resume tests: it serves a directory on loopback with
// Range support (and sendfile), logs each request with its Range header,
// and can throttle bodies. It prints its base URL on stdout.
//
//	go run ./images/internal/imgserve -dir /tmp/x [-rate 4M] [-log]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	rate := flag.String("rate", "", "throttle each body to this many bytes/s (suffix K, M)")
	logReq := flag.Bool("log", false, "log every request and its Range header to stderr")
	flag.Parse()
	bps, err := parseRate(*rate)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	os.Stdout.Sync()
	fs := http.FileServer(http.Dir(*dir))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *logReq {
			log.Printf("%s %s range=%q if-range=%q", r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Range"))
		}
		if bps > 0 {
			w = &slowWriter{ResponseWriter: w, bps: bps}
		}
		fs.ServeHTTP(w, r)
	})
	log.Fatal(http.Serve(ln, h))
}

func parseRate(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad -rate %q", s)
	}
	return n * mul, nil
}

// slowWriter paces writes to bps; it hides ReadFrom, so no sendfile.
type slowWriter struct {
	http.ResponseWriter
	bps int64
}

func (s *slowWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), int(max(s.bps/20, 1)))
		m, err := s.ResponseWriter.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(time.Duration(int64(n) * int64(time.Second) / s.bps))
		p = p[n:]
	}
	return written, nil
}

var _ io.Writer = (*slowWriter)(nil)
