package periph

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxPin is the highest GPIO on a Raspberry Pi's 40-pin header (BCM
// numbering): GPIO0 to GPIO27.
const MaxPin = 27

// ParsePin reads a pin the way the agent file writes it: GPIO17, gpio17 or
// the bare BCM number 17. It returns the canonical name (GPIO17) and the
// number, which is also the line's offset on the SoC's GPIO controller.
//
// Anything else is refused rather than guessed at: "GPIO 17", "P1_11" (a
// header position, not a GPIO), "GPIO017", "GPIO28" and beyond. agent/config
// applies the same rule when it validates the file; agent/hwspec has a test
// holding the two together.
func ParsePin(s string) (name string, number int, err error) {
	digits := s
	if len(s) > 4 && strings.EqualFold(s[:4], "GPIO") {
		digits = s[4:]
	}
	n, convErr := strconv.Atoi(digits)
	switch {
	case digits == "" || convErr != nil || digits[0] == '+' || digits[0] == '-':
		return "", 0, fmt.Errorf("%w: %q is not GPIO0 to GPIO%d (BCM numbering) or a bare number", ErrPinName, s, MaxPin)
	case len(digits) > 1 && digits[0] == '0':
		return "", 0, fmt.Errorf("%w: %q has a leading zero; write GPIO%d", ErrPinName, s, n)
	case n > MaxPin:
		return "", 0, fmt.Errorf("%w: %q is past GPIO%d, the last GPIO on the 40-pin header", ErrPinName, s, MaxPin)
	}
	return "GPIO" + strconv.Itoa(n), n, nil
}
