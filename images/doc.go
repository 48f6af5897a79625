// Package images downloads boot images (RFC 8572 section 5.4, the
// boot-image of the onboarding information): it tries each download-uri in
// order (C72), verifies the SHA-256 of the bytes as they stream in (C73),
// stages the file with fsync, and resumes interrupted downloads with HTTP
// Range. Memory use does not grow with the image size.
//
// # Pipeline
//
// Three goroutines pass a fixed ring of buffers: one reads the response
// body, one hashes (crypto/sha256, which uses the SHA-NI or ARMv8 SHA2
// instructions when the CPU has them), one writes the staging file. The
// kernel is asked to start writeback every 8 MiB (sync_file_range), and a
// fourth goroutine checkpoints every Fetcher.Checkpoint bytes (64 MiB):
// fsync of the staging file, then the state file, off the hot path.
//
// # Staging and resume
//
// The image is staged as NAME.part in Fetcher.StagingDir (the agent uses
// STATE-DIR/images; empty means the directory .sztp-staging beside the
// output), NAME being the hex of the first expected hash. The staging
// directory must be private (owned by the agent's user, not writable by
// others, not a symbolic link), and a staged file is reused only when it is
// the agent's own regular file with no group or other access and one link;
// it is opened with O_NOFOLLOW, and created with O_EXCL.
//
// NAME.part.json, replaced atomically, records the URI (without its
// password), the validator (ETag, Last-Modified), the length, and a
// checkpoint: an offset known to be fsynced and the marshalled SHA-256
// state after exactly those bytes. A resume hashes the staged file again
// from disk, and starts from zero when the state after the checkpointed
// prefix differs (the bytes changed on disk); then it asks for the rest
// with Range and If-Range. It also starts again from zero when the server
// answers 200 (Range ignored, or If-Range saw a new validator), when a 206
// carries another validator or length, on 416, and once when a resumed
// image fails verification (a crash may have garbled unsynced bytes). Only
// a verified image is renamed (or, across file systems, atomically copied)
// onto the output path; nothing partial ever appears there.
//
// # Bounds
//
// A URI fails, and the next is tried, when it declares a size above
// Fetcher.MaxSize (default 4 GiB) or above the free space of the staging
// file system, when its body grows past MaxSize, when it averages less than
// Fetcher.MinRate over an idle-timeout window, or when a download from zero
// has the wrong hash (the same server would send the same bytes). Only a
// local failure (a write that runs out of space, a staging file that
// cannot be written) ends the Fetch.
//
// # Trust
//
// https image servers' certificates are accepted blindly unless
// Fetcher.VerifyTLS is set: RFC 8572's download-uri allows it, because the
// image's integrity comes from image-verification. A redirect from https
// to http is refused, and credentials (user:password in the URI, sent as
// HTTP Basic authentication) follow a redirect only to the same scheme and
// host:port. Passwords in URIs never appear in logs, errors or results. No
// proxy is used.
//
// The package is Linux-only (flock, statfs, sync_file_range).
package images
