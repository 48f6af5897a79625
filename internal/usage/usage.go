package usage

import (
	"errors"
	"fmt"
)

// Error is a mistake in the command line, config file or kernel command
// line.
type Error struct{ Err error }

func (e Error) Error() string { return e.Err.Error() }
func (e Error) Unwrap() error { return e.Err }

// Errorf formats a usage Error.
func Errorf(format string, a ...any) error { return Error{fmt.Errorf(format, a...)} }

// Is reports whether err is, or wraps, a usage Error.
func Is(err error) bool {
	var e Error
	return errors.As(err, &e)
}
