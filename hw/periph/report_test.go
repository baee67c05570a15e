package periph

import (
	"errors"
	"slices"
	"testing"

	"periph.io/x/conn/v3/driver"
	"periph.io/x/conn/v3/driver/driverreg"
)

type fakeDriver string

func (d fakeDriver) String() string          { return string(d) }
func (d fakeDriver) Prerequisites() []string { return nil }
func (d fakeDriver) After() []string         { return nil }
func (d fakeDriver) Init() (bool, error)     { return true, nil }

func TestReportOf_DriverState(t *testing.T) {
	r := reportOf(&driverreg.State{
		Loaded:  []driver.Impl{fakeDriver("ioctl-gpio"), fakeDriver("sysfs-i2c")},
		Skipped: []driverreg.DriverFailure{{D: fakeDriver("bcm283x-gpio"), Err: errors.New("bcm283x CPU not detected")}},
		Failed:  []driverreg.DriverFailure{{D: fakeDriver("sysfs-gpio"), Err: nil}},
	})
	if r.Driver != "periph" || !slices.Equal(r.Loaded, []string{"ioctl-gpio", "sysfs-i2c"}) {
		t.Errorf("report %+v", r)
	}
	if r.Skipped["bcm283x-gpio"] != "bcm283x CPU not detected" || r.Failed["sysfs-gpio"] == "" {
		t.Errorf("skipped %v, failed %v", r.Skipped, r.Failed)
	}
	if empty := reportOf(nil); empty.Loaded == nil || empty.Skipped == nil || empty.Failed == nil {
		t.Errorf("reportOf(nil) = %+v: JSON would say null", empty)
	}
}
