package dhcpopts

import (
	"errors"
	"fmt"
)

// optionWarning turns a parse error into the warning a lease carries.
func optionWarning(err error, code int) []string {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoOption):
		return []string{fmt.Sprintf("the lease has no option %d", code)}
	default:
		return []string{fmt.Sprintf("option %d discarded: %v", code, err)}
	}
}

func appendUnique(dst []string, s ...string) []string {
next:
	for _, v := range s {
		if v == "" {
			continue
		}
		for _, d := range dst {
			if d == v {
				continue next
			}
		}
		dst = append(dst, v)
	}
	return dst
}
