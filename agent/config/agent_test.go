package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentValidate_Valid(t *testing.T) {
	if err := validAgent().Validate(); err != nil {
		t.Fatalf("valid agent: %v", err)
	}
}

func TestAgentValidate_Rules(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(a *Agent)
		path     string
		mentions []string
	}{
		{"node missing", func(a *Agent) { a.Node = "" }, "node", []string{"required"}},
		{"node bad", func(a *Agent) { a.Node = "Node 1" }, "node", []string{"not a valid name"}},
		{"cluster file empty", func(a *Agent) { a.ClusterFile = "" }, "cluster_file", []string{"required"}},
		{"data dir empty", func(a *Agent) { a.DataDir = "" }, "data_dir", []string{"empty"}},
		{"bind empty", func(a *Agent) { a.Bind = "" }, "bind", []string{"empty"}},
		{"bind no port", func(a *Agent) { a.Bind = "0.0.0.0" }, "bind", []string{"host:port"}},
		{"bind port zero", func(a *Agent) { a.Bind = "0.0.0.0:0" }, "bind", []string{"1 to 65535"}},
		{"bind bad host", func(a *Agent) { a.Bind = "my_host:7946" }, "bind", []string{"neither an IP"}},
		{"advertise unspecified", func(a *Agent) { a.Advertise = "0.0.0.0:7946" }, "advertise", []string{"cannot dial"}},
		{"advertise no host", func(a *Agent) { a.Advertise = ":7946" }, "advertise", []string{"no host"}},
		{"seed no port", func(a *Agent) { a.Seeds = []string{"192.168.1.22:7946", "192.168.1.23"} }, "seeds[1]", []string{"host:port"}},
		{"seed port too big", func(a *Agent) { a.Seeds = []string{"192.168.1.22:70000"} }, "seeds[0]", []string{"65535"}},
		{"seed twice", func(a *Agent) { a.Seeds = []string{"a:1", "b:2", "a:1"} }, "seeds[2]", []string{"twice"}},
		{"admin empty", func(a *Agent) { a.Admin = "" }, "admin", []string{"empty"}},
		{"admin bad", func(a *Agent) { a.Admin = "localhost" }, "admin", []string{"host:port", "unix:"}},
		{"admin unix empty", func(a *Agent) { a.Admin = "unix:" }, "admin", []string{"socket path"}},
		{"admin unix too long", func(a *Agent) { a.Admin = "unix:/" + strings.Repeat("x", 120) }, "admin", []string{"bytes long"}},
		{"zone bad", func(a *Agent) { a.Zone = "Green House" }, "zone", nil},
		{"power unknown", func(a *Agent) { a.Constraints.Power = "nuclear" }, "constraints.power", []string{`"nuclear"`, "mains"}},
		{"duty above one", func(a *Agent) { a.Constraints.MaxDuty = 1.5 }, "constraints.max_duty", []string{"0 to 1"}},
		{"duty negative", func(a *Agent) { a.Constraints.MaxDuty = -0.1 }, "constraints.max_duty", nil},
		{"mqtt bad scheme", func(a *Agent) { a.MQTT.URL = "http://broker:1883" }, "mqtt.url", []string{"scheme"}},
		{"mqtt no host", func(a *Agent) { a.MQTT.URL = "tcp://:1883" }, "mqtt.url", []string{"no host"}},
		{"mqtt bad port", func(a *Agent) { a.MQTT.URL = "tcp://broker:99999" }, "mqtt.url", []string{"65535"}},
		{"mqtt password in url", func(a *Agent) { a.MQTT.URL = "tcp://u:p@broker:1883" }, "mqtt.url", []string{"password_file"}},
		{"mqtt qos 2", func(a *Agent) { a.MQTT.QoS = 2 }, "mqtt.qos", []string{"0 or 1"}},
		{"mqtt tls on tcp", func(a *Agent) { a.MQTT.URL = "tcp://broker:1883"; a.MQTT.TLS.CAFile = "/ca.pem" }, "mqtt.tls", []string{"ssl://"}},
		{"mqtt half client cert", func(a *Agent) { a.MQTT.URL = "ssl://broker:8883"; a.MQTT.TLS.CertFile = "/c.pem" }, "mqtt.tls", []string{"both"}},
		{"mqtt password without user", func(a *Agent) { a.MQTT.URL = "tcp://broker:1883"; a.MQTT.PasswordFile = "/p" }, "mqtt.password_file", []string{"username"}},
		{"home assistant wildcard prefix", func(a *Agent) { a.MQTT.HomeAssistant.Prefix = "ha/#" }, "mqtt.home_assistant.prefix", []string{"wildcard"}},
		{"home assistant empty level", func(a *Agent) { a.MQTT.HomeAssistant.Prefix = "ha//x" }, "mqtt.home_assistant.prefix", []string{"empty topic level"}},
		{"home assistant system prefix", func(a *Agent) { a.MQTT.HomeAssistant.Prefix = "$SYS/ha" }, "mqtt.home_assistant.prefix", []string{"$"}},
		{"home assistant no prefix", func(a *Agent) { a.MQTT.HomeAssistant = HomeAssistant{Enabled: true} }, "mqtt.home_assistant.prefix", []string{"must not be empty"}},
		{"hardware driver unknown", func(a *Agent) { a.Hardware.Driver = "gpio" }, "hardware.driver", []string{"sim, periph, none"}},
		{"hardware none with devices", func(a *Agent) { a.Hardware.Driver = DriverNone }, "hardware.driver", []string{"devices are listed"}},
		{"output name missing", func(a *Agent) { a.Hardware.Outputs[1].Name = "" }, "hardware.outputs[1].name", []string{"empty"}},
		{"output name duplicate", func(a *Agent) { a.Hardware.Outputs[1].Name = "led" }, "hardware.outputs[1].name", []string{"hardware.outputs[0]"}},
		{"device names shared across lists", func(a *Agent) { a.Hardware.Inputs[0].Name = "temp" }, "hardware.inputs[0].name", []string{"hardware.sensors[0]"}},
		{"output kind unknown", func(a *Agent) { a.Hardware.Outputs[0].Kind = "lamp" }, "hardware.outputs[0].kind", []string{`"lamp"`}},
		{"output pin missing", func(a *Agent) { a.Hardware.Outputs[0].Pin = "" }, "hardware.outputs[0].pin", []string{"required"}},
		{"output pin bad", func(a *Agent) { a.Hardware.Outputs[0].Pin = "pin 17" }, "hardware.outputs[0].pin", []string{"not a pin name"}},
		{"two outputs on one pin", func(a *Agent) { a.Hardware.Outputs[1].Pin = "GPIO17" }, "hardware.outputs[1].pin", []string{"already used by hardware.outputs[0]"}},
		{"one pin spelt two ways", func(a *Agent) { a.Hardware.Outputs[1].Pin = "17" }, "hardware.outputs[1].pin", []string{"already used"}},
		{"input on an output's pin", func(a *Agent) { a.Hardware.Inputs[0].Pin = "gpio27" }, "hardware.inputs[0].pin", []string{"hardware.outputs[1]"}},
		{"output active unknown", func(a *Agent) { a.Hardware.Outputs[0].Active = "on" }, "hardware.outputs[0].active", nil},
		{"output safe unknown", func(a *Agent) { a.Hardware.Outputs[0].Safe = "open" }, "hardware.outputs[0].safe", nil},
		{"output max_on negative", func(a *Agent) { a.Hardware.Outputs[0].MaxOn = -time.Second }, "hardware.outputs[0].max_on", []string{"negative"}},
		{"output min_off negative", func(a *Agent) { a.Hardware.Outputs[0].MinOff = -time.Second }, "hardware.outputs[0].min_off", []string{"negative"}},
		{"input kind unknown", func(a *Agent) { a.Hardware.Inputs[0].Kind = "pir" }, "hardware.inputs[0].kind", nil},
		{"input pull unknown", func(a *Agent) { a.Hardware.Inputs[0].Pull = "sideways" }, "hardware.inputs[0].pull", nil},
		{"input edge unknown", func(a *Agent) { a.Hardware.Inputs[0].Edge = "level" }, "hardware.inputs[0].edge", nil},
		{"watches without slash", func(a *Agent) { a.Hardware.Inputs[0].Watches = "node-2.led" }, "hardware.inputs[0].watches", []string{"node/output"}},
		{"watches two slashes", func(a *Agent) { a.Hardware.Inputs[0].Watches = "a/b/c" }, "hardware.inputs[0].watches", []string{"node/output"}},
		{"watches bad node", func(a *Agent) { a.Hardware.Inputs[0].Watches = "Node 2/led" }, "hardware.inputs[0].watches", []string{"node"}},
		{"watches on a button", func(a *Agent) { a.Hardware.Inputs[0].Kind = InputButton }, "hardware.inputs[0].watches", []string{"kind: witness"}},
		{"witness watching nothing", func(a *Agent) { a.Hardware.Inputs[0].Watches = "" }, "hardware.inputs[0].watches", []string{"required"}},
		{"sensor kind unknown", func(a *Agent) { a.Hardware.Sensors[0].Kind = "wind" }, "hardware.sensors[0].kind", []string{`"wind"`}},
		{"sensor driver unknown", func(a *Agent) { a.Hardware.Sensors[0].Driver = "dht22" }, "hardware.sensors[0].driver", []string{`"dht22"`}},
		{"sensor driver missing on periph", func(a *Agent) {
			a.Hardware.Driver = DriverPeriph
			a.Hardware.Sensors[0].Driver = ""
		}, "hardware.sensors[0].driver", []string{"required"}},
		{"driver cannot measure kind", func(a *Agent) { a.Hardware.Sensors[1].Kind = SensorSoCTemperature }, "hardware.sensors[1].kind", []string{"bme280 driver measures"}},
		{"bme280 without bus", func(a *Agent) { a.Hardware.Sensors[1].Bus = "" }, "hardware.sensors[1].bus", []string{"required"}},
		{"bme280 bad address", func(a *Agent) { a.Hardware.Sensors[1].Address = "0x40" }, "hardware.sensors[1].address", []string{"0x76 or 0x77"}},
		{"bme280 read twice", func(a *Agent) {
			a.Hardware.Sensors = append(a.Hardware.Sensors, Sensor{Name: "air2", Kind: SensorHumidity, Driver: SensorBME280, Bus: "1", Address: "118"})
		}, "hardware.sensors[2].address", []string{"already read by hardware.sensors[1]"}},
		{"ds18b20 bad id", func(a *Agent) {
			a.Hardware.Sensors[0] = Sensor{Name: "soil", Kind: SensorTemperature, Driver: SensorDS18B20, Address: "0x28"}
		}, "hardware.sensors[0].address", []string{"1-wire id"}},
		{"gpio sensor without pin", func(a *Agent) {
			a.Hardware.Sensors[0] = Sensor{Name: "pir", Kind: SensorDigital, Driver: SensorGPIO}
		}, "hardware.sensors[0].pin", []string{"required"}},
		{"pin past the header", func(a *Agent) { a.Hardware.Outputs[0].Pin = "GPIO28" }, "hardware.outputs[0].pin", []string{"GPIO0 to GPIO27"}},
		{"pin as header position", func(a *Agent) { a.Hardware.Inputs[0].Pin = "P1_11" }, "hardware.inputs[0].pin", []string{"not a pin name"}},
		{"pin with a space", func(a *Agent) { a.Hardware.Outputs[1].Pin = "GPIO 27" }, "hardware.outputs[1].pin", []string{"not a pin name"}},
		{"pin with a leading zero", func(a *Agent) { a.Hardware.Outputs[1].Pin = "GPIO07" }, "hardware.outputs[1].pin", []string{"not a pin name"}},
		{"gpio sensor on an unknown pin", func(a *Agent) {
			a.Hardware.Sensors[0] = Sensor{Name: "pir", Kind: SensorDigital, Driver: SensorGPIO, Pin: "99"}
		}, "hardware.sensors[0].pin", []string{"GPIO0 to GPIO27"}},
		{"output on the I²C bus a sensor uses", func(a *Agent) { a.Hardware.Outputs[0].Pin = "2" }, "hardware.outputs[0].pin", []string{"hardware.sensors[1]", "SDA"}},
		{"sim sensor on a real board", func(a *Agent) { a.Hardware.Driver = DriverPeriph }, "hardware.sensors[0].driver", []string{"hardware.driver: sim"}},
		{"adversary without mode", func(a *Agent) { a.Adversary = &Adversary{} }, "adversary.mode", []string{"required"}},
		{"adversary unknown", func(a *Agent) { a.Adversary = &Adversary{Mode: "chaos"} }, "adversary.mode", []string{`"chaos"`, "mixed"}},
		{"log level unknown", func(a *Agent) { a.Log.Level = "trace" }, "log.level", nil},
		{"log format unknown", func(a *Agent) { a.Log.Format = "xml" }, "log.format", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAgent()
			tt.mutate(a)
			err := a.Validate()
			if err == nil {
				t.Fatalf("Validate accepted it")
			}
			wantProblem(t, err, tt.path, tt.mentions...)
		})
	}
}

func TestAgentValidate_AcceptsVariants(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Agent)
	}{
		{"bind every interface without host", func(a *Agent) { a.Bind = ":7946" }},
		{"ipv6 bind and seed", func(a *Agent) { a.Bind = "[::]:7946"; a.Seeds = []string{"[fd00::22]:7946"} }},
		{"admin unix socket", func(a *Agent) { a.Admin = "unix:/run/pact/admin.sock" }},
		{"every adversary mode", func(a *Agent) { a.Adversary = &Adversary{Mode: "lie-sensor"} }},
		{"mqtt over websockets with tls", func(a *Agent) {
			a.MQTT = MQTT{URL: "wss://broker.example:443/mqtt", Username: "pi", PasswordFile: "/p", TLS: TLS{CAFile: "/ca"}, QoS: 0}
		}},
		{"no hardware", func(a *Agent) { a.Hardware = Hardware{Driver: DriverNone} }},
		{"ds18b20 first found", func(a *Agent) {
			a.Hardware.Sensors[0] = Sensor{Name: "soil", Kind: SensorTemperature, Driver: SensorDS18B20}
		}},
		{"duty zero", func(a *Agent) { a.Constraints.MaxDuty = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAgent()
			tt.mutate(a)
			if err := a.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestAgent_ApplyDefaults(t *testing.T) {
	a := DefaultAgent()
	a.Node = "pi"
	a.DataDir = "/srv/pact"
	a.Hardware = Hardware{
		Driver:  DriverSim,
		Sensors: []Sensor{{Name: "t", Kind: SensorTemperature}, {Name: "h", Kind: SensorHumidity}},
		Outputs: []Output{{Name: "led", Kind: OutputLED, Pin: "GPIO17"}},
		Inputs:  []Input{{Name: "w", Pin: "GPIO22", Watches: "b/led"}, {Name: "b", Pin: "GPIO23"}},
	}
	a.ApplyDefaults()
	if a.KeyFile != filepath.Join("/srv/pact", IdentityFileName) {
		t.Errorf("KeyFile = %q", a.KeyFile)
	}
	h := a.Hardware
	if h.Sensors[0].Driver != SensorSim || h.Sensors[0].Unit != "°C" || h.Sensors[1].Unit != "%" {
		t.Errorf("sensor defaults: %+v", h.Sensors)
	}
	if h.Outputs[0].Active != High || h.Outputs[0].Safe != SafeOff {
		t.Errorf("output defaults: %+v", h.Outputs[0])
	}
	if h.Inputs[0].Kind != InputWitness || h.Inputs[1].Kind != InputGeneric || h.Inputs[0].Pull != "none" || h.Inputs[0].Edge != "both" {
		t.Errorf("input defaults: %+v", h.Inputs)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestAgent_AdminListen(t *testing.T) {
	a := validAgent()
	if n, addr := a.AdminListen(); n != "tcp" || addr != DefaultAdmin {
		t.Errorf("AdminListen = %s %s", n, addr)
	}
	a.Admin = "unix:/run/pact.sock"
	if n, addr := a.AdminListen(); n != "unix" || addr != "/run/pact.sock" {
		t.Errorf("AdminListen = %s %s", n, addr)
	}
}

func TestAgent_CanPerform(t *testing.T) {
	c := validCluster(t)
	a := validAgent()
	if !a.CanPerform(c.Actions["blink"]) || !a.CanPerform(c.Actions["ventilate"]) {
		t.Errorf("node-1 with led and fan in the greenhouse cannot perform blink or ventilate")
	}
	a.Zone = "shed"
	if a.CanPerform(c.Actions["ventilate"]) {
		t.Errorf("a node in the shed can perform ventilate, which needs the greenhouse")
	}
	a.Hardware.Outputs[1].Kind = OutputFan
	a.Zone = "greenhouse"
	if a.CanPerform(c.Actions["ventilate"]) {
		t.Errorf("a fan of kind fan satisfies needs.output_kind relay")
	}
}
