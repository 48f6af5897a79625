// Package backoff computes capped exponential backoff with jitter, driven by
// an injectable clock so tests never sleep.
package backoff
