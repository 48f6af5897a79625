// Package atomicfile writes files so that a crash leaves either the old or the
// new content, never a mix: temp file in the same directory, fsync, rename,
// then fsync of the directory.
package atomicfile
