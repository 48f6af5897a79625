package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageFetch: issue 6 item 7: exit 0 verified, 1 failed, 2 usage; the
// hash is accepted as plain or colon hex, any case.
func TestImageFetch(t *testing.T) {
	data := bytes.Repeat([]byte("sztp image "), 100000)
	sum := sha256.Sum256(data)
	hexSum := fmt.Sprintf("%x", sum)
	var colonUpper []string
	for _, b := range sum {
		colonUpper = append(colonUpper, fmt.Sprintf("%02X", b))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/img" {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"plain hex, fallback", []string{"--hash", "sha-256:" + hexSum, srv.URL + "/missing", srv.URL + "/img"}, 0},
		{"colon hex upper case", []string{"--hash", "sha-256:" + strings.Join(colonUpper, ":"), srv.URL + "/img"}, 0},
		{"one of two hashes", []string{"--hash", "sha-256:" + strings.Repeat("00", 32), "--hash", hexSum, srv.URL + "/img"}, 0},
		{"state dir", []string{"--hash", hexSum, "--state-dir", filepath.Join(dir, "state"), srv.URL + "/img"}, 0},
		{"wrong hash", []string{"--hash", "sha-256:" + strings.Repeat("ab", 32), srv.URL + "/img"}, 1},
		{"not found", []string{"--hash", hexSum, srv.URL + "/missing"}, 1},
		{"bad hash", []string{"--hash", "sha-256:xyz", srv.URL + "/img"}, 2},
		{"no hash", []string{srv.URL + "/img"}, 2},
		{"no uri", []string{"--hash", hexSum}, 2},
		{"bad progress", []string{"--hash", hexSum, "--progress", "fancy", srv.URL + "/img"}, 2},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("img%d", i))
			args := append([]string{"image", "fetch", "--progress", "none", "--output", out}, tc.args...)
			if code := run(args); code != tc.wantCode {
				t.Fatalf("sztp %s: exit %d, want %d", strings.Join(args, " "), code, tc.wantCode)
			}
			got, err := os.ReadFile(out)
			if tc.wantCode == 0 && !bytes.Equal(got, data) {
				t.Errorf("output holds %d bytes (%v), want the %d-byte image", len(got), err, len(data))
			}
			if tc.wantCode != 0 && err == nil {
				t.Errorf("output exists after exit %d", tc.wantCode)
			}
		})
	}
}
