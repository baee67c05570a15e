package report

import (
	"slices"
	"strings"

	"github.com/seed44533760/pact/agent/capability"
	"github.com/seed44533760/pact/agent/config"
	"github.com/seed44533760/pact/agent/wire"
)

// Home Assistant MQTT discovery
//
// With Config.HomeAssistant set, the node announces itself to Home
// Assistant as one device (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
// a retained entity configuration on <prefix>/<component>/<object_id>/config
// for each sensor of its capability document, one for its state, and one
// for the last outcome of each catalogue action the document lets it
// perform. The configurations point at pact's own topics, so nothing is
// published twice for Home Assistant, with one exception: Home Assistant
// reads an entity's state from one concrete topic, and outcomes are spread
// over outcomes/<action>/<instance>, one retained message per instance, that
// a subscriber receives in the broker's order rather than in time order. The
// performer therefore also publishes each outcome it reports, byte for byte,
// on nodes/<node>/last/<action> (wire.KindLastOutcome), retained and through
// the outbox like the outcome itself.
//
// The configurations are derived from the capability document, so they are
// published with it: at every birth and whenever the document changes.
// An entity the new document no longer has is removed, as Home Assistant
// removes one, by an empty retained configuration.

// HomeAssistant configures Home Assistant MQTT discovery (Config.HomeAssistant).
type HomeAssistant struct {
	// Prefix is Home Assistant's discovery prefix. Default "homeassistant".
	Prefix string

	// Actions is the cluster's action catalogue, by name: the node gets a
	// last-outcome entity for every action whose needs its capability
	// document meets (the rule agreed state picks performers by).
	Actions map[string]config.Needs

	// SWVersion is the pact version the device reports.
	SWVersion string
}

// kindDiscovery marks a discovery configuration (or its removal): retained,
// QoS 1, best-effort and published again at every birth. It is not a topic
// of pact's contract, so wire.Kind's methods do not know it.
const kindDiscovery wire.Kind = "homeassistant"

// retained reports whether messages of kind k are published retained.
func retained(k wire.Kind) bool { return k == kindDiscovery || k.Retained() }

// expireAfter is how long, in seconds, Home Assistant shows a sensor's
// value without a new reading: readings come every 2 s, and a trigger uses
// none older than 60 s either.
const expireAfter = 60

// Values of the entities' availability.
const (
	haOnline  = "online"
	haOffline = "offline"
)

// haEntity is one discovery configuration. Fields are Home Assistant's
// names (the long forms, which its documentation uses).
type haEntity struct {
	Name                   string           `json:"name"`
	UniqueID               string           `json:"unique_id"`
	HasEntityName          bool             `json:"has_entity_name"`
	StateTopic             string           `json:"state_topic"`
	ValueTemplate          string           `json:"value_template"`
	UnitOfMeasurement      string           `json:"unit_of_measurement,omitempty"`
	DeviceClass            string           `json:"device_class,omitempty"`
	StateClass             string           `json:"state_class,omitempty"`
	Options                []string         `json:"options,omitempty"`
	EntityCategory         string           `json:"entity_category,omitempty"`
	ExpireAfter            int              `json:"expire_after,omitempty"`
	JSONAttributesTopic    string           `json:"json_attributes_topic,omitempty"`
	JSONAttributesTemplate string           `json:"json_attributes_template,omitempty"`
	Availability           []haAvailability `json:"availability,omitempty"`
	Device                 haDevice         `json:"device"`
	Origin                 haOrigin         `json:"origin"`
}

type haAvailability struct {
	Topic               string `json:"topic"`
	ValueTemplate       string `json:"value_template"`
	PayloadAvailable    string `json:"payload_available"`
	PayloadNotAvailable string `json:"payload_not_available"`
}

type haDevice struct {
	Identifiers   []string `json:"identifiers"`
	Name          string   `json:"name"`
	Model         string   `json:"model"`
	Manufacturer  string   `json:"manufacturer"`
	SWVersion     string   `json:"sw_version,omitempty"`
	SuggestedArea string   `json:"suggested_area,omitempty"`
}

type haOrigin struct {
	Name      string `json:"name"`
	SWVersion string `json:"sw_version,omitempty"`
}

// haID builds an object id and unique id from names: lower-case, every
// character outside [a-z0-9_] replaced by '_', the parts joined by '_'.
// pact's names are [a-z0-9-], so only hyphens change.
func haID(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, c := range strings.ToLower(p) {
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' {
				b.WriteRune(c)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// readingTemplate picks sensor's value out of a readings payload's list.
// A payload without it renders "", which Home Assistant ignores for a
// numeric sensor and a binary one, so the last value stays. The name is a
// pact name ([a-z0-9-]): discovery leaves out a sensor whose name is not
// (the agent file's validation refuses one), as it is quoted in Jinja.
func readingTemplate(sensor, value string) string {
	return "{% for r in value_json.readings %}{% if r.sensor == '" + sensor + "' %}" + value + "{% endif %}{% endfor %}"
}

// Units Home Assistant accepts for a device class; another unit gets no
// device class (Home Assistant refuses the entity otherwise).
var haUnits = map[string][]string{
	"temperature": {"°C", "°F", "K"},
	"humidity":    {"%"},
	"pressure":    {"Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"},
}

// sensorDeviceClass is the device class of a sensor kind, if its unit fits.
func sensorDeviceClass(kind, unit string) string {
	class := ""
	switch config.SensorKind(kind) {
	case config.SensorTemperature, config.SensorSoCTemperature:
		class = "temperature"
	case config.SensorHumidity:
		class = "humidity"
	case config.SensorPressure:
		class = "pressure"
	}
	if !slices.Contains(haUnits[class], unit) {
		return ""
	}
	return class
}

// discovery returns the discovery configurations for doc, in a fixed
// order: the node's state, its sensors, its actions. It returns nil when
// discovery is off.
func (e encoder) discovery(doc *capability.Document) []message {
	h := e.ha
	if h == nil || doc == nil {
		return nil
	}
	prefix := h.Prefix
	if prefix == "" {
		prefix = config.DefaultHomeAssistantPrefix
	}
	device := haDevice{
		Identifiers:   []string{haID("pact", e.cluster, e.node)},
		Name:          e.node,
		Model:         "pact node (cluster " + e.cluster + ")",
		Manufacturer:  "pact",
		SWVersion:     h.SWVersion,
		SuggestedArea: doc.Zone,
	}
	origin := haOrigin{Name: "pact", SWVersion: h.SWVersion}
	stateTopic := e.topics.State(e.node)
	available := []haAvailability{{
		Topic:               stateTopic,
		ValueTemplate:       "{{ '" + haOnline + "' if value_json.state == '" + string(wire.StateReady) + "' else '" + haOffline + "' }}",
		PayloadAvailable:    haOnline,
		PayloadNotAvailable: haOffline,
	}}
	var out []message
	add := func(component, suffix string, ent haEntity) {
		id := haID("pact", e.cluster, e.node, suffix)
		ent.UniqueID, ent.HasEntityName, ent.Device, ent.Origin = id, true, device, origin
		out = append(out, message{prefix + "/" + component + "/" + id + "/config", kindDiscovery, marshal(&ent)})
	}

	// The state has no availability: "lost" is what it is there to show.
	add("sensor", "state", haEntity{
		Name:                   "State",
		StateTopic:             stateTopic,
		ValueTemplate:          "{{ value_json.state }}",
		DeviceClass:            "enum",
		Options:                []string{string(wire.StateReady), string(wire.StateLost), string(wire.StateDisconnected), string(wire.StateEjected)},
		JSONAttributesTopic:    stateTopic,
		JSONAttributesTemplate: "{{ {'bdseq': value_json.bdseq, 'since': value_json.ts} | tojson }}",
	})

	// Sensors are available while the node is ready: a lost node's last
	// value is stale, and an ejected node's readings are not trusted.
	readings := e.topics.Readings(e.node)
	for _, s := range doc.Sensors {
		if !config.ValidName(s.Name) {
			continue
		}
		if config.SensorKind(s.Kind) == config.SensorDigital {
			add("binary_sensor", "sensor_"+s.Name, haEntity{
				Name:          s.Name,
				StateTopic:    readings,
				ValueTemplate: readingTemplate(s.Name, "{{ 'ON' if r.value else 'OFF' }}"),
				ExpireAfter:   expireAfter,
				Availability:  available,
			})
			continue
		}
		ent := haEntity{
			Name:              s.Name,
			StateTopic:        readings,
			ValueTemplate:     readingTemplate(s.Name, "{{ r.value }}"),
			UnitOfMeasurement: s.Unit,
			DeviceClass:       sensorDeviceClass(s.Kind, s.Unit),
			StateClass:        "measurement",
			ExpireAfter:       expireAfter,
			Availability:      available,
		}
		if config.SensorKind(s.Kind) == config.SensorSoCTemperature {
			ent.EntityCategory = "diagnostic"
		}
		add("sensor", "sensor_"+s.Name, ent)
	}

	// An action's last outcome stays true while the node is away: no
	// availability.
	names := make([]string, 0, len(h.Actions))
	for name, needs := range h.Actions {
		if config.ValidName(name) && canPerform(doc, needs) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		last := e.topics.LastOutcome(e.node, name)
		add("sensor", "action_"+name, haEntity{
			Name:                name + " last outcome",
			StateTopic:          last,
			ValueTemplate:       "{{ 'ok' if value_json.ok else 'failed' }}",
			DeviceClass:         "enum",
			Options:             []string{"ok", "failed"},
			JSONAttributesTopic: last,
			JSONAttributesTemplate: "{{ {'instance': value_json.instance, 'request_id': value_json.request_id, " +
				"'height': value_json.height, 'started': value_json.started, 'finished': value_json.finished, " +
				"'error': value_json.error, 'readback': value_json.readback} | tojson }}",
		})
	}
	return out
}

// canPerform reports whether doc meets needs: its zone, and an output of
// the name and kind asked for (agreed state's rule for performers).
func canPerform(doc *capability.Document, n config.Needs) bool {
	if n.Zone != "" && doc.Zone != n.Zone {
		return false
	}
	for _, o := range doc.Outputs {
		if (n.Output == "" || o.Name == n.Output) && (n.OutputKind == "" || o.Kind == string(n.OutputKind)) {
			return true
		}
	}
	return false
}

// withdrawals are the empty retained messages that remove the entities of
// old that next does not have.
func withdrawals(old, next []message) []message {
	var out []message
	for _, m := range old {
		if !slices.ContainsFunc(next, func(n message) bool { return n.topic == m.topic }) {
			out = append(out, message{m.topic, kindDiscovery, []byte{}})
		}
	}
	return out
}

// lastOutcome is the copy of an outcome's message for
// nodes/<node>/last/<action>, when discovery is on and this node performed
// it.
func (e encoder) lastOutcome(o *wire.Outcome, m message) (message, bool) {
	if e.ha == nil || o.Performer != e.node {
		return message{}, false
	}
	return message{e.topics.LastOutcome(e.node, o.Action), wire.KindLastOutcome, m.payload}, true
}
