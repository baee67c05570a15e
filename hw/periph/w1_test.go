package periph

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseW1Slave(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want float64
		err  string
	}{
		{"reading", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n", 23.125, ""},
		{"below zero", "5e ff 4b 46 7f ff 02 10 56 : crc=56 YES\n5e ff 4b 46 7f ff 02 10 56 t=-10125\n", -10.125, ""},
		{"crc failed", "72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n", 0, "CRC"},
		{"all zeros", "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n", 0, "all zeros"},
		{"power-on value", "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n", 0, "power-on"},
		{"one line", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n", 0, "line"},
		{"no t=", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57\n", 0, "no t="},
		{"t= not a number", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 t=abc\n", 0, "millidegrees"},
		{"empty", "", 0, "line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseW1Slave(tc.in)
			checkReading(t, got, err, tc.want, tc.err)
		})
	}
}

func TestParseW1Temperature(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"23125\n", 23.125, ""},
		{"-55000", -55, ""},
		{"85000\n", 0, "power-on"},
		{"127000\n", 0, "range"},
		{"", 0, "millidegrees"},
		{"23.1\n", 0, "millidegrees"},
	} {
		got, err := parseW1Temperature(tc.in)
		checkReading(t, got, err, tc.want, tc.err)
	}
}

func checkReading(t *testing.T, got float64, err error, want float64, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil || got != want {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("got %v, %v; want an error saying %q", got, err, wantErr)
	}
	if err != nil && !errors.Is(err, ErrSensor) {
		t.Errorf("error %v does not wrap ErrSensor", err)
	}
}

// fakeSysfs writes files under a temporary sysfs root.
func fakeSysfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDS18B20_FromSysfs(t *testing.T) {
	root := fakeSysfs(t, map[string]string{
		"bus/w1/devices/28-0316a2791dff/temperature": "21500\n",
		"bus/w1/devices/28-00000a1b2c3d/w1_slave":    "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n",
		"bus/w1/devices/w1_bus_master1/uevent":       "",
	})
	for _, tc := range []struct {
		id   string
		want float64
	}{
		{"28-0316a2791dff", 21.5},
		{"28-0316A2791DFF", 21.5},
		{"28-00000a1b2c3d", 23.125}, // only w1_slave: an older kernel
		{"", 23.125},                // the first 28-* in sorted order
	} {
		d, err := newDS18B20(root, tc.id)
		if err != nil {
			t.Fatalf("%q: %v", tc.id, err)
		}
		got, err := d.read()
		if err != nil || got != tc.want {
			t.Errorf("%q: read = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	if _, err := newDS18B20(root, "28-ffffffffffff"); err == nil {
		t.Error("a device that is not there opened")
	}
	if _, err := newDS18B20(t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "w1-gpio") {
		t.Errorf("no w1 devices: %v, want a hint about the w1-gpio overlay", err)
	}
}

func TestThermalZone_FromSysfs(t *testing.T) {
	root := fakeSysfs(t, map[string]string{"class/thermal/thermal_zone0/temp": "47236\n"})
	z, err := newThermalZone(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := z.read(); err != nil || got != 47.236 {
		t.Errorf("read = %v, %v; want 47.236", got, err)
	}
	if _, err := newThermalZone(t.TempDir()); err == nil {
		t.Error("a missing thermal zone opened")
	}
	bad := fakeSysfs(t, map[string]string{"class/thermal/thermal_zone0/temp": "hot\n"})
	if _, err := newThermalZone(bad); !errors.Is(err, ErrSensor) {
		t.Errorf("unreadable zone: %v, want ErrSensor", err)
	}
}
