// Package images downloads boot images: it tries each download URI in order,
// verifies the SHA-256 of the bytes as they stream in, stages the file in a
// directory with fsync, and resumes interrupted downloads with HTTP Range.
// Memory use does not grow with the image size.
package images
