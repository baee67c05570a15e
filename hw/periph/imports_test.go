package periph

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports_OnlyThisPackageImportsHost keeps periph.io/x/host, and with
// it memory-mapped registers and driver registration, behind this one
// package: everything else reaches real hardware through hw.Board.
func TestImports_OnlyThisPackageImportsHost(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go tool")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	cmd := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/seed44533760/pact/hw/periph"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == self {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "periph.io/x/host/v3" || strings.HasPrefix(imp, "periph.io/x/host/") {
				t.Errorf("%s imports %s: only %s may", fields[0], imp, self)
			}
		}
	}
}
