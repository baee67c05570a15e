package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Names of nodes, clusters, zones and actions travel as MQTT topic levels,
// memberlist node names, mDNS labels and command-line arguments. They are
// DNS labels: lower-case letters, digits and inner hyphens, 1 to 63
// characters. A leading hyphen is refused because `pact admit -node` would
// read as a flag.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkName returns what is wrong with a name, or "".
func checkName(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 63:
		return fmt.Sprintf("%q is %d characters long, the limit is 63", s, len(s))
	case !nameRE.MatchString(s):
		return fmt.Sprintf("%q is not a valid name: use lower-case letters, digits and hyphens, starting and ending with a letter or digit", s)
	}
	return ""
}

// ValidName reports whether s may name a node, cluster, zone or action.
func ValidName(s string) bool { return checkName(s) == "" }

// paramRE is the form of action parameter names (`--param duration=2s`).
var paramRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// pinRE accepts the GPIOs of a Raspberry Pi's 40-pin header in BCM
// numbering, GPIO0 to GPIO27, in any case, or as a bare number. A header
// position ("P1_11") is refused: it is not what the pinout card calls the
// pin, and hw/periph would not find it. hw/periph.ParsePin applies the same
// rule; agent/hwspec's tests hold the two together.
var pinRE = regexp.MustCompile(`^(?i:gpio)?(0|[1-9]|1[0-9]|2[0-7])$`)

// normalPin maps the spellings of one pin to one form, so that "17" and
// "gpio17" are seen to be the same pin as "GPIO17".
func normalPin(pin string) string {
	p := strings.ToUpper(pin)
	if _, err := strconv.Atoi(p); err == nil {
		return "GPIO" + p
	}
	return p
}

var hostnameRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)

// hostPortRules say which addresses a key accepts.
type hostPortRules struct {
	emptyHost   bool // ":7946" means every interface (bind only)
	unspecified bool // 0.0.0.0 and :: are allowed (bind only)
}

// checkHostPort returns what is wrong with a host:port address, or "".
func checkHostPort(s string, rules hostPortRules) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (e.g. 192.168.1.21:7946; IPv6 as [fd00::21]:7946)", s)
	}
	if msg := checkPort(port); msg != "" {
		return fmt.Sprintf("%q: %s", s, msg)
	}
	if host == "" {
		if rules.emptyHost {
			return ""
		}
		return fmt.Sprintf("%q has no host", s)
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() && !rules.unspecified {
			return fmt.Sprintf("%q: %s means \"every interface\", which other nodes cannot dial; give this node's own address", s, host)
		}
		return ""
	}
	if len(host) > 253 || !hostnameRE.MatchString(host) {
		return fmt.Sprintf("%q: %q is neither an IP address nor a host name", s, host)
	}
	return ""
}

func checkPort(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("port %q must be a number from 1 to 65535", port)
	}
	return ""
}

// oneOf returns what is wrong with v if it is not among allowed, or "".
func oneOf[S ~string](v S, allowed []S) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	words := make([]string, len(allowed))
	for i, a := range allowed {
		words[i] = string(a)
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(words, ", "))
}
