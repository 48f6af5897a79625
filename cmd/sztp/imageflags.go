package main

import (
	"github.com/spf13/pflag"

	"github.com/sztp/sztp/images"
)

// imageFlags bound boot-image downloads; `sztp run` (and so the config file
// and kernel command line) and `sztp image fetch` share them.
type imageFlags struct {
	maxSize int64
	minRate int64
}

func (f *imageFlags) add(fs *pflag.FlagSet) {
	fs.Int64Var(&f.maxSize, "max-image-size", images.DefaultMaxSize, "largest boot image accepted, in `BYTES` (0: no limit); a larger declared size fails that download-uri")
	fs.Int64Var(&f.minRate, "image-min-rate", images.DefaultMinRate, "a download-uri averaging fewer `BYTES` per second over a minute fails (0: no floor)")
}

// apply sets the bounds on fe, or says which flag is wrong.
func (f *imageFlags) apply(fe *images.Fetcher) error {
	if f.maxSize < 0 {
		return usagef("--max-image-size %d: must not be negative (0: no limit)", f.maxSize)
	}
	if f.minRate < 0 {
		return usagef("--image-min-rate %d: must not be negative (0: no floor)", f.minRate)
	}
	fe.MaxSize, fe.MinRate = f.maxSize, f.minRate
	if f.maxSize == 0 {
		fe.MaxSize = -1
	}
	if f.minRate == 0 {
		fe.MinRate = -1
	}
	return nil
}
