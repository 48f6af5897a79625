// Command imgserve is a small static file server for image download
// benchmarks and manual resume tests: it serves a directory on loopback with
// Range support (and sendfile), logs each request with its Range header,
// and can throttle bodies. It prints its base URL on stdout.
//
// With -bootstrap PKIDIR it also runs a bootstrap server (client/sztptest)
// whose onboarding information offers the file -image of -dir as the boot
// image (OS "BenchOS" version "2"), writes the PKI files (ca.pem,
// device.pem, device.key, ...) into PKIDIR, and prints the bootstrap
// server's URL as a second line: `sztp run` can then be measured fetching
// the image exactly as on a device.
//
//	go run ./images/internal/imgserve -dir /tmp/x [-rate 4M] [-log] [-bootstrap PKIDIR -image NAME]
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	rate := flag.String("rate", "", "throttle each body to this many bytes/s (suffix K, M)")
	logReq := flag.Bool("log", false, "log every request and its Range header to stderr")
	pkiDir := flag.String("bootstrap", "", "also run a bootstrap server offering -image; write its PKI files into `DIR`")
	imgName := flag.String("image", "", "file of -dir offered as the boot image with -bootstrap")
	flag.Parse()
	bps, err := parseRate(*rate)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := fmt.Sprintf("http://%s/", ln.Addr())
	fmt.Println(base)
	if *pkiDir != "" {
		u, err := bootstrap(*pkiDir, filepath.Join(*dir, *imgName), base+*imgName)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u)
	}
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

// bootstrap starts a bootstrap server that offers the image at path,
// downloadable from uri, and returns its URL.
func bootstrap(pkiDir, path, uri string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	const serial = "BENCH-1"
	p, err := sztptest.NewPKI(serial)
	if err != nil {
		return "", err
	}
	if _, err := p.WriteFiles(pkiDir); err != nil {
		return "", err
	}
	s, err := sztptest.NewServer(sztptest.Options{Certificate: p.Server.TLS(), ClientCAs: p.ClientCAs()})
	if err != nil {
		return "", err
	}
	s.SetResponse(serial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{OSName: "BenchOS", OSVersion: "2", DownloadURIs: []string{uri},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: h.Sum(nil)}}},
		ConfigurationHandling: conveyed.Merge, Configuration: []byte("{}"),
	}}})
	return s.URL, nil
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
