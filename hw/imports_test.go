package hw

import (
	"os/exec"
	"strings"
	"testing"
)

// hw knows nothing of pact's networks, consensus or agent, and only
// hw/periph may reach real hardware through periph.io/x/host: the
// interfaces, the limits, the fakes and the simulation must build and run
// anywhere.
func TestImports_OnlyPeriphTouchesHost(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go tool")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	for _, pkg := range []string{".", "./hwtest", "./sim"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if forbiddenDep(dep) {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

func TestImports_CheckerCatchesForbidden(t *testing.T) {
	for _, dep := range []string{"periph.io/x/host/v3", "periph.io/x/host/v3/rpi", "github.com/seed44533760/pact/agent", "github.com/seed44533760/pact/consensus", "github.com/hashicorp/memberlist", "github.com/eclipse/paho.mqtt.golang"} {
		if !forbiddenDep(dep) {
			t.Errorf("%s is not caught", dep)
		}
	}
	for _, dep := range []string{"periph.io/x/conn/v3/gpio/gpiotest", "periph.io/x/devices/v3/bmxx80", "github.com/seed44533760/pact/hw/hwtest"} {
		if forbiddenDep(dep) {
			t.Errorf("%s is refused but is allowed", dep)
		}
	}
}

func forbiddenDep(dep string) bool {
	for _, prefix := range []string{
		"periph.io/x/host/", "github.com/seed44533760/pact/agent", "github.com/seed44533760/pact/consensus",
		"github.com/seed44533760/pact/cmd", "github.com/hashicorp/", "github.com/eclipse/paho", "go.etcd.io/bbolt",
	} {
		if strings.HasPrefix(dep, prefix) || dep+"/" == prefix {
			return true
		}
	}
	return false
}
