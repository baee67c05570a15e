package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate reports every problem of the agent file at once, joined with
// errors.Join; each is a *Problem naming its key path (and line, when a was
// loaded from a file). It checks the agent file alone: Load adds the checks
// that need the cluster file.
func (a *Agent) Validate() error {
	r := newReport(a.src)
	a.validate(r)
	return r.err()
}

func (a *Agent) validate(r *report) {
	if a.Node == "" {
		r.errorf("node", "required: this node's name, as listed under validators in the cluster file")
	} else if msg := checkName(a.Node); msg != "" {
		r.errorf("node", "node name %s", msg)
	}
	if a.ClusterFile == "" {
		r.errorf("cluster_file", "required: the path of the cluster file")
	}
	if a.DataDir == "" {
		r.errorf("data_dir", "must not be empty (default %s)", DefaultDataDir)
	}
	if a.KeepHeights < 100 {
		r.errorf("keep_heights", "%d is too few to serve peers that fell behind: at least 100 (default %d)", a.KeepHeights, DefaultKeepHeights)
	}

	if a.Bind == "" {
		r.errorf("bind", "must not be empty (default %s)", DefaultBind)
	} else if msg := checkHostPort(a.Bind, hostPortRules{emptyHost: true, unspecified: true}); msg != "" {
		r.errorf("bind", "%s", msg)
	}
	if a.Advertise != "" {
		if msg := checkHostPort(a.Advertise, hostPortRules{}); msg != "" {
			r.errorf("advertise", "%s", msg)
		}
	}
	for i, s := range a.Seeds {
		p := indexPath("seeds", i)
		if msg := checkHostPort(s, hostPortRules{}); msg != "" {
			r.errorf(p, "%s", msg)
		} else if slices.Index(a.Seeds, s) < i {
			r.errorf(p, "%q is listed twice", s)
		}
	}

	a.validateAdmin(r)

	if a.Zone != "" {
		if msg := checkName(a.Zone); msg != "" {
			r.errorf("zone", "zone %s", msg)
		}
	}
	if msg := oneOf(a.Constraints.Power, Powers); msg != "" {
		r.errorf("constraints.power", "%s", msg)
	}
	if d := a.Constraints.MaxDuty; !(d >= 0 && d <= 1) {
		r.errorf("constraints.max_duty", "%g is not a fraction from 0 to 1", d)
	}

	a.MQTT.validate(r, "mqtt")
	a.Hardware.validate(r)

	if a.Adversary != nil {
		if a.Adversary.Mode == "" {
			r.errorf("adversary.mode", "required when adversary is set: %s", joinWords(AdversaryModes))
		} else if msg := oneOf(a.Adversary.Mode, AdversaryModes); msg != "" {
			r.errorf("adversary.mode", "%s", msg)
		}
	}
	if msg := oneOf(a.Log.Level, logLevels); msg != "" {
		r.errorf("log.level", "%s", msg)
	}
	if msg := oneOf(a.Log.Format, logFormats); msg != "" {
		r.errorf("log.format", "%s", msg)
	}
}

func (a *Agent) validateAdmin(r *report) {
	if a.Admin == "" {
		r.errorf("admin", "must not be empty (default %s, or unix:/run/pact/admin.sock)", DefaultAdmin)
		return
	}
	if sock, ok := strings.CutPrefix(a.Admin, "unix:"); ok {
		if sock == "" {
			r.errorf("admin", "unix: needs a socket path, e.g. unix:/run/pact/admin.sock")
		} else if len(sock) > 104 {
			// sun_path is 108 bytes on Linux, 104 on the BSDs.
			r.errorf("admin", "socket path is %d bytes long; Unix sockets allow about 104", len(sock))
		}
		return
	}
	if msg := checkHostPort(a.Admin, hostPortRules{unspecified: true}); msg != "" {
		r.errorf("admin", "%s (or unix:/path for a socket)", msg)
	}
}

// mqttSchemes are the URL schemes paho understands; tlsSchemes those that
// use TLS.
var (
	mqttSchemes = []string{"tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss"}
	tlsSchemes  = []string{"ssl", "tls", "mqtts", "wss"}
)

func (m MQTT) validate(r *report, path string) {
	if m.QoS != 0 && m.QoS != 1 {
		r.errorf(keyPath(path, "qos"), "%d is not 0 or 1", m.QoS)
	}
	m.HomeAssistant.validate(r, keyPath(path, "home_assistant"))
	if m.URL == "" {
		return
	}
	u, err := url.Parse(m.URL)
	switch {
	case err != nil:
		r.errorf(keyPath(path, "url"), "%q is not a URL: %v", m.URL, err)
		return
	case !slices.Contains(mqttSchemes, u.Scheme):
		r.errorf(keyPath(path, "url"), "%q: the scheme must be one of %s (e.g. tcp://192.168.1.10:1883)", m.URL, strings.Join(mqttSchemes, ", "))
		return
	case u.Hostname() == "":
		r.errorf(keyPath(path, "url"), "%q has no host", m.URL)
		return
	case u.User != nil:
		r.errorf(keyPath(path, "url"), "put the user name in username and the password in password_file, not in the URL")
	}
	if p := u.Port(); p != "" {
		if msg := checkPort(p); msg != "" {
			r.errorf(keyPath(path, "url"), "%s", msg)
		}
	}
	tlsPath := keyPath(path, "tls")
	if m.TLS.Enabled() && !slices.Contains(tlsSchemes, u.Scheme) {
		r.errorf(tlsPath, "TLS settings need a TLS URL (ssl://, mqtts:// or wss://), but url is %s://", u.Scheme)
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		r.errorf(tlsPath, "a client certificate needs both cert_file and key_file")
	}
	if m.PasswordFile != "" && m.Username == "" {
		r.errorf(keyPath(path, "password_file"), "set username too: brokers take a password only with a user name")
	}
}

func (h HomeAssistant) validate(r *report, path string) {
	p := keyPath(path, "prefix")
	switch {
	case h.Prefix == "" && h.Enabled:
		r.errorf(p, "must not be empty when enabled (default %s)", DefaultHomeAssistantPrefix)
	case h.Prefix != "":
		if msg := CheckTopicPrefix(h.Prefix); msg != "" {
			r.errorf(p, "%s (default %s)", msg, DefaultHomeAssistantPrefix)
		}
	}
}

// CheckTopicPrefix returns what keeps s from being the first levels of an
// MQTT topic name that pact publishes under, or "": one or more non-empty
// levels of printable text, no wildcards (+, #), not starting with $ (the
// broker's own topics) nor ending with /.
func CheckTopicPrefix(s string) string {
	switch {
	case len(s) > 200:
		return fmt.Sprintf("%d bytes is too long for a topic prefix (at most 200)", len(s))
	case strings.ContainsAny(s, "+#"):
		return fmt.Sprintf("%q has an MQTT wildcard (+ or #): a prefix is part of topic names, not a filter", s)
	case strings.HasPrefix(s, "$"):
		return fmt.Sprintf("%q starts with $, which brokers keep for their own topics", s)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return fmt.Sprintf("%q has an empty topic level: no leading, trailing or double /", s)
	}
	for _, c := range s {
		if c == utf8.RuneError || unicode.IsControl(c) || unicode.IsSpace(c) {
			return fmt.Sprintf("%q has a space, a control character or invalid UTF-8", s)
		}
	}
	return ""
}

// warnings are legal agent settings that are probably mistakes.
func (a *Agent) warnings(r *report) {
	if a.Adversary != nil && a.Adversary.Mode != "" {
		r.warnf("adversary", "this node will misbehave on purpose (%s): for tests and demos only", a.Adversary.Mode)
	}
	if len(a.Seeds) == 0 && !a.MDNS {
		r.warnf("seeds", "no seeds and mdns is off: this node finds no peers by itself and waits for others to join it")
	}
	if network, addr := a.AdminListen(); network == "tcp" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				r.warnf("admin", "%s is reachable from other machines, and the admin API has no authentication; prefer 127.0.0.1 or unix:/path", addr)
			}
		}
	}
	if a.MQTT.URL == "" && (a.MQTT.Username != "" || a.MQTT.PasswordFile != "" || a.MQTT.TLS.Enabled() || a.MQTT.ClientID != "") {
		r.warnf("mqtt.url", "is empty, so MQTT is off and the other mqtt settings are ignored")
	}
	if a.MQTT.URL == "" && a.MQTT.HomeAssistant.Enabled {
		r.warnf("mqtt.home_assistant.enabled", "is on, but mqtt.url is empty: nothing is announced to Home Assistant")
	}
	if a.MQTT.TLS.InsecureSkipVerify {
		r.warnf("mqtt.tls.insecure_skip_verify", "any broker certificate is accepted: testing only")
	}
	for i, in := range a.Hardware.Inputs {
		if node, _, ok := strings.Cut(in.Watches, "/"); ok && node == a.Node {
			r.warnf(indexPath("hardware.inputs", i)+".watches", "watches this node's own output, which proves nothing to the others; wire it to another node (readback checks one's own pins)")
		}
	}
}
