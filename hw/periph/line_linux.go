//go:build linux

package periph

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

// chardev takes pins through the GPIO character device (/dev/gpiochipN),
// on the SoC's own controller: the chip whose label starts with pinctrl-
// (pinctrl-bcm2835 on a Pi Zero to 3, pinctrl-bcm2711 on a Pi 4,
// pinctrl-rp1 on a Pi 5), where BCM GPIO n is line n. periph's gpioioctl
// sorts those chips first, and its bcm283x driver makes the same
// assumption.
//
// Each pin is a one-line gpioioctl.LineSet rather than a GPIOLine: a line
// set reads an output's level back without touching its direction (see
// pinLine for why a GPIOLine cannot), and tells rising from falling edges.
type chardev struct {
	chip *gpioioctl.GPIOChip
}

// piChip finds the Raspberry Pi's GPIO controller among the chips periph's
// ioctl-gpio driver opened.
func piChip() (*gpioioctl.GPIOChip, error) {
	var labels []string
	for _, c := range gpioioctl.Chips {
		if strings.HasPrefix(c.Label(), "pinctrl-") && c.LineCount() > MaxPin {
			return c, nil
		}
		labels = append(labels, c.Label())
	}
	if len(labels) > 0 {
		return nil, fmt.Errorf("%w: none of the GPIO chips (%s) is a Raspberry Pi's pinctrl-* controller", ErrNoGPIO, strings.Join(labels, ", "))
	}
	devs, _ := filepath.Glob("/dev/gpiochip*")
	if len(devs) == 0 {
		return nil, fmt.Errorf("%w: no /dev/gpiochip* on this machine (not a Raspberry Pi, or a kernel without the GPIO character device); use hardware.driver: sim to try pact without one", ErrNoGPIO)
	}
	return nil, fmt.Errorf("%w: %s cannot be opened (add the pact user to the gpio group, or check the unit's DeviceAllow=)", ErrNoGPIO, strings.Join(devs, ", "))
}

// lineName returns the kernel's name of BCM GPIO n: the line set API
// addresses lines by name. On a Pi 4 the header lines carry their function
// names (GPIO14 is TXD1), so the name is looked up by offset.
func (c chardev) lineName(name string, n int) (*gpioioctl.GPIOLine, string, error) {
	l := c.chip.ByNumber(n)
	if l == nil {
		return nil, "", fmt.Errorf("%s: no line %d on %s", name, n, c.chip.Label())
	}
	ln := l.Name()
	if ln == "" || ln == "-" || ln == "_" || c.chip.ByName(ln) != l {
		return nil, "", fmt.Errorf("%s: line %d on %s has no unique name (%q), and periph's line sets address lines by name", name, n, c.chip.Label(), ln)
	}
	// A line named GPIOm with m != n means the chip is not numbered the way
	// BCM numbering assumes: refuse rather than drive the wrong pin.
	if m, ok := strings.CutPrefix(ln, "GPIO"); ok {
		if k, err := strconv.Atoi(m); err == nil && k != n {
			return nil, "", fmt.Errorf("%s: line %d on %s is named %s; refusing to guess which pin is meant", name, n, c.chip.Label(), ln)
		}
	}
	return l, ln, nil
}

func (c chardev) request(name string, n int, dir gpioioctl.LineDir, edge gpio.Edge, pull gpio.Pull) (*gpioioctl.LineSet, error) {
	l, ln, err := c.lineName(name, n)
	if err != nil {
		return nil, err
	}
	ls, err := c.chip.LineSet(dir, edge, pull, ln)
	if err != nil {
		if strings.Contains(err.Error(), "busy") {
			holder := "another process"
			if who := l.Consumer(); who != "" {
				holder = who
			}
			return nil, fmt.Errorf("%s (line %d of %s) is held by %s: is the pact agent running? (%w)", name, n, c.chip.Label(), holder, err)
		}
		return nil, fmt.Errorf("%s (line %d of %s): %w", name, n, c.chip.Label(), err)
	}
	return ls, nil
}

func (c chardev) Output(name string, n int, initial gpio.Level) (line, error) {
	// periph's request carries no initial value, so the kernel drives the
	// line low between the request and the first write, a few
	// microseconds: see doc.go.
	ls, err := c.request(name, n, gpioioctl.LineOutput, gpio.NoEdge, gpio.PullNoChange)
	if err != nil {
		return nil, err
	}
	l := lineSetLine{ls}
	if err := l.Out(initial); err != nil {
		_ = ls.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

func (c chardev) Input(name string, n int, pull gpio.Pull, edges bool) (line, error) {
	edge := gpio.NoEdge
	if edges {
		edge = gpio.BothEdges
	}
	ls, err := c.request(name, n, gpioioctl.LineInput, edge, pull)
	if err != nil {
		return nil, err
	}
	return lineSetLine{ls}, nil
}

func (c chardev) Observe(name string, n int) (line, error) {
	// No direction flag: the kernel takes the line as it is.
	ls, err := c.request(name, n, gpioioctl.LineDirNotSet, gpio.NoEdge, gpio.PullNoChange)
	if err != nil {
		return nil, err
	}
	return lineSetLine{ls}, nil
}

// lineSetLine is a line over a one-line gpioioctl.LineSet.
type lineSetLine struct {
	ls *gpioioctl.LineSet
}

func (l lineSetLine) Out(v gpio.Level) error {
	var bits gpio.GPIOValue
	if v {
		bits = 1
	}
	return l.ls.Out(bits, 1)
}

func (l lineSetLine) Level() (gpio.Level, error) {
	v, err := l.ls.Read(1)
	return gpio.Level(v&1 != 0), err
}

func (l lineSetLine) WaitForEdge(d time.Duration) (bool, error) {
	if d <= 0 {
		d = time.Millisecond // 0 would mean "for ever" to periph
	}
	_, edge, err := l.ls.WaitForEdge(d)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	case err != nil:
		return false, err
	}
	return edge != gpio.NoEdge, nil
}

func (l lineSetLine) Close() error { return l.ls.Close() }
