package wire

import (
	"os/exec"
	"strings"
	"testing"
)

// The agreed state verifies requests with this package, so it must not drag
// a network client into the consensus application.
func TestImports_NoClient(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go tool")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/seed44533760/pact/agent/wire").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		for _, banned := range []string{"github.com/eclipse/paho.mqtt.golang", "github.com/hashicorp/", "periph.io/", "go.etcd.io/bbolt"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("wire depends on %s", dep)
			}
		}
	}
}
