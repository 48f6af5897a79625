package images

import (
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkResumeRehash compares the two ways issue 10 item 1 allows to
// stop trusting a staged prefix: re-hash the prefix from the file on
// resume (what Fetch does: paid only by a resumed download, for the bytes
// already staged), or read the whole staged file back before the rename
// (paid by every download, for every byte). Both run at the speed of
// reading and hashing; the per-fetch cost is what differs: here a resume
// half-way re-reads half the image, the read-back re-reads all of it, and a
// download that is not resumed (the common case) pays nothing.
func BenchmarkResumeRehash(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	img := newImage(200, size)
	st, err := openStage(dir, filepath.Join(dir, "img"), img.sum, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	if _, err := st.f.Write(img.data); err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	h.Write(img.data[:size/2])
	sc := &sidecar{URI: "x", Total: size, Offset: size / 2, HashState: marshalHash(h)}
	b.Run("rehash-on-resume-at-half", func(b *testing.B) {
		b.SetBytes(size / 2)
		for b.Loop() {
			if _, _, err := st.resume(sc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-back-before-rename", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, rehashBuf)
		for b.Loop() {
			f, err := os.Open(st.path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(sha256.New(), f, buf); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
