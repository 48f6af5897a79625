// Package images downloads boot images (RFC 8572 section 5.6, digest 2.6):
// it tries each download-uri in order, verifies the SHA-256 of the bytes as
// they stream in, stages the file with fsync, and resumes interrupted
// downloads with HTTP Range. Memory use does not grow with the image size.
//
// # Pipeline
//
// Three goroutines pass a fixed ring of 1 MiB buffers: one reads the
// response body, one hashes (crypto/sha256, which uses the SHA-NI or ARMv8
// SHA2 instructions when the CPU has them), one writes the staging file.
// The kernel is asked to start writeback every 8 MiB (sync_file_range), and
// a fourth goroutine checkpoints every Fetcher.Checkpoint bytes (64 MiB):
// fsync of the staging file, then the state file, off the hot path.
//
// # Staging and resume
//
// The image is staged as NAME.part in Fetcher.StagingDir (the agent uses
// STATE-DIR/images; empty means beside the output), NAME being the hex of
// the first expected hash. NAME.part.json, replaced atomically, records the
// URI, the validator (ETag, Last-Modified), the length, and a checkpoint:
// an offset known to be fsynced and the marshalled SHA-256 state after
// exactly those bytes. A resume restores that state instead of re-reading
// the prefix, hashes any bytes the file holds past the checkpoint, and asks
// for the rest with Range and If-Range. It starts again from zero when the
// server answers 200 (Range ignored, or If-Range saw a new validator), when
// a 206 carries another validator or length, on 416, and once when a resumed
// image fails verification (a crash may have garbled unsynced bytes). Only a
// verified image is renamed (or, across file systems, atomically copied)
// onto the output path; nothing partial ever appears there.
//
// # Trust
//
// https image servers' certificates are accepted blindly unless
// Fetcher.VerifyTLS is set: RFC 8572's download-uri allows it, because the
// image's integrity comes from image-verification. No proxy is used.
//
// The package is Linux-only (flock, statfs, sync_file_range).
package images
