package periph

import (
	"periph.io/x/conn/v3/driver/driverreg"

	"github.com/seed44533760/pact/hw"
)

// DriverName is the Report's Driver.
const DriverName = "periph"

// reportOf turns what periph's host.Init found into a Report. A driver is
// skipped when its hardware is absent (bcm283x-gpio off a Raspberry Pi),
// failed when its hardware is there but would not load (no permission on
// /dev/gpiomem, say).
func reportOf(st *driverreg.State) hw.Report {
	r := hw.Report{Driver: DriverName, Loaded: []string{}, Skipped: map[string]string{}, Failed: map[string]string{}}
	if st == nil {
		return r
	}
	for _, d := range st.Loaded {
		r.Loaded = append(r.Loaded, d.String())
	}
	for _, f := range st.Skipped {
		r.Skipped[f.D.String()] = errString(f.Err)
	}
	for _, f := range st.Failed {
		r.Failed[f.D.String()] = errString(f.Err)
	}
	return r
}

func errString(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}
