// Package usage marks errors that are the caller's mistake: a bad flag,
// argument or setting. The command line exits 2 for them (1 for every other
// failure), whichever package found the mistake.
package usage
