package client

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/client/conveyed"
)

// bigBodyServer answers every request with a body of size bytes, with a
// Content-Length or chunked, written from one reused buffer so the test
// measures the client's allocations, not the server's.
func bigBodyServer(t *testing.T, size int, chunked bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				tp := textproto.NewReader(bufio.NewReader(c))
				if _, err := tp.ReadLine(); err != nil {
					return
				}
				h, err := tp.ReadMIMEHeader()
				if err != nil {
					return
				}
				n, _ := strconv.Atoi(h.Get("Content-Length"))
				if _, err := io.CopyN(io.Discard, tp.R, int64(n)); err != nil {
					return
				}
				buf := make([]byte, 64<<10)
				for i := range buf {
					buf[i] = '{'
				}
				if chunked {
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/yang-data+json\r\nTransfer-Encoding: chunked\r\n\r\n")
				} else {
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/yang-data+json\r\nContent-Length: %d\r\n\r\n", size)
				}
				for left := size; left > 0; left -= len(buf) {
					p := buf[:min(len(buf), left)]
					if chunked {
						if _, err := fmt.Fprintf(c, "%x\r\n", len(p)); err != nil {
							return
						}
					}
					if _, err := c.Write(p); err != nil {
						return
					}
					if chunked {
						io.WriteString(c, "\r\n")
					}
				}
				if chunked {
					io.WriteString(c, "0\r\n\r\n")
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestHardening10_15_OversizedResponseAllocation: refusing a 17 MiB
// response must not cost a buffer the size of the 16 MiB cap (with a
// Content-Length) or the 2-3 times the cap of slice doubling (chunked)
// (issue 10 item 15). io.ReadAll allocated over 40 MiB for either.
func TestHardening10_15_OversizedResponseAllocation(t *testing.T) {
	const size = 17 << 20
	for _, tc := range []struct {
		name     string
		chunked  bool
		maxAlloc uint64
	}{
		{"content-length", false, 1 << 20},
		{"chunked", true, DefaultMaxResponseSize + DefaultMaxResponseSize/4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := bigBodyServer(t, size, tc.chunked)
			base, err := ServerURL("https://localhost")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := Dial(ctx, base, addr, ConnConfig{Mode: Provisional, Encoding: conveyed.JSON})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = c.GetBootstrappingData(ctx, &conveyed.GetBootstrappingDataInput{})
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Fatalf("GetBootstrappingData = %v, want a response-too-large error", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("refusing a %d-byte body allocated %d bytes (%v)", size, alloc, err)
			if alloc > tc.maxAlloc {
				t.Fatalf("refusing a %d-byte body allocated %d bytes, want at most %d", size, alloc, tc.maxAlloc)
			}
		})
	}
}
