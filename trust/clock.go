package trust

import (
	"runtime/debug"
	"time"
)

// buildDate may be set at link time:
//
//	-ldflags '-X github.com/sztp/sztp/trust.buildDate=2026-11-30T00:00:00Z'
var buildDate string

// minimumBuildTime is a floor for BuildTime when neither the link-time
// date nor the VCS time is known: no clock reading before it can be right.
var minimumBuildTime = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// BuildTime returns the date the binary was built: the link-time buildDate,
// else the vcs.time build setting, else a date compiled into this package.
// It is the earliest time a correct clock can show.
func BuildTime() time.Time {
	best := minimumBuildTime
	if t, err := time.Parse(time.RFC3339, buildDate); err == nil && t.After(best) {
		best = t
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil && t.After(best) {
					best = t
				}
			}
		}
	}
	return best
}

// ClockTrustworthy reports whether a clock reading can be right: a clock
// that shows a time before the binary was built has been reset (no RTC
// battery, no network time) and must not be used for expiry checks. The
// engine sets Options.ClockUntrusted = !ClockTrustworthy(time.Now(),
// BuildTime()) unless the operator said --clock trusted or untrusted.
func ClockTrustworthy(now, build time.Time) bool {
	return !now.Before(build)
}
