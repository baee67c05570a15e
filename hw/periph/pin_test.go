package periph

import (
	"errors"
	"testing"
)

func TestParsePin_Spellings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		n    int
	}{
		{"GPIO17", "GPIO17", 17},
		{"gpio17", "GPIO17", 17},
		{"Gpio4", "GPIO4", 4},
		{"17", "GPIO17", 17},
		{"0", "GPIO0", 0},
		{"GPIO0", "GPIO0", 0},
		{"GPIO27", "GPIO27", 27},
	} {
		name, n, err := ParsePin(tc.in)
		if err != nil || name != tc.name || n != tc.n {
			t.Errorf("ParsePin(%q) = %q, %d, %v; want %q, %d", tc.in, name, n, err, tc.name, tc.n)
		}
	}
}

func TestParsePin_Refused(t *testing.T) {
	for _, in := range []string{
		"", "GPIO", "GPIO 17", " GPIO17", "GPIO17 ", "GPIO-1", "-1", "+17", "GPIO+17",
		"GPIO28", "28", "40", "GPIO017", "017", "P1_11", "pin17", "GPIO17a", "GPIOGPIO17", "0x11",
	} {
		if name, n, err := ParsePin(in); !errors.Is(err, ErrPinName) {
			t.Errorf("ParsePin(%q) = %q, %d, %v; want ErrPinName", in, name, n, err)
		}
	}
}
