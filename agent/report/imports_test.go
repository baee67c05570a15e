package report

import (
	"os/exec"
	"strings"
	"testing"
)

// paho stays behind this package: the rest of pact talks MQTT through
// Reports, so a change of client library, or of how paho is worked around,
// is one package's business.
func TestImports_OnlyReportImportsPaho(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go tool")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/seed44533760/pact/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/seed44533760/pact/agent/report"
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == self {
			continue
		}
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, "github.com/eclipse/paho.mqtt.golang") {
				t.Errorf("%s imports %s: only %s may", f[0], imp, self)
			}
		}
	}
}
