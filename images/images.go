package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
)

// Request describes one image to fetch.
type Request struct {
	URIs   []string // tried in order (C72)
	SHA256 [][]byte // acceptable SHA-256 values; at least one (C73)
	// Output is the final path of the verified image. It is written through a
	// staging file beside it and renamed only after verification.
	Output string
}

// Result says what was fetched.
type Result struct {
	Path string
	URI  string
	Size int64
}

// Fetcher downloads and verifies images.
type Fetcher struct {
	Client  *http.Client // nil means a default client with timeouts
	MaxSize int64        // 0 means no limit
	Logger  *slog.Logger
}

// Fetch downloads the image from the first URI that yields bytes with an
// expected hash, and leaves it verified at req.Output.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Result, error) {
	if len(req.URIs) == 0 {
		return nil, errors.New("images: no download-uri")
	}
	if len(req.SHA256) == 0 {
		return nil, errors.New("images: no sha-256 to verify against")
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	var errs []error
	for _, uri := range req.URIs {
		res, err := f.fetchOne(ctx, client, uri, req)
		if err == nil {
			return res, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", uri, err))
	}
	return nil, fmt.Errorf("images: every download-uri failed: %w", errors.Join(errs...))
}

func (f *Fetcher) fetchOne(ctx context.Context, client *http.Client, uri string, req Request) (*Result, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(req.Output), ".image-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if err != nil {
		return nil, err
	}
	sum := h.Sum(nil)
	ok := false
	for _, want := range req.SHA256 {
		ok = ok || bytes.Equal(want, sum)
	}
	if !ok {
		return nil, fmt.Errorf("sha-256 mismatch: got %x", sum)
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), req.Output); err != nil {
		return nil, err
	}
	return &Result{Path: req.Output, URI: uri, Size: n}, nil
}
