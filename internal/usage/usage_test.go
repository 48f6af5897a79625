package usage

import (
	"errors"
	"fmt"
	"testing"
)

func TestIs(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
		{"usage", Errorf("--flag %q: bad", "v"), true},
		{"wrapped usage", fmt.Errorf("context: %w", Errorf("bad")), true},
		{"usage around plain", Error{errors.New("bad")}, true},
	} {
		if got := Is(tc.err); got != tc.want {
			t.Errorf("%s: Is(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if err := Errorf("--x: %w", errors.ErrUnsupported); !errors.Is(err, errors.ErrUnsupported) {
		t.Error("Errorf does not wrap %w")
	}
}
