package consensus

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The core must stay a pure state machine: no network, files, clock or
// global randomness, and none of the project's I/O dependencies. The
// standard library is checked on the packages' own imports (crypto/ed25519
// itself imports os and crypto/rand, which the core never calls); every other
// module is checked on the transitive list from `go list -deps`.
func TestImports_CoreStaysPure(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go tool")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	for _, pkg := range []string{".", "./quorum"} {
		direct, err := exec.Command(goBin, "list", "-f", `{{join .Imports "\n"}}`, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(direct)) {
			if forbiddenStd(dep) || forbiddenModule(dep) {
				t.Errorf("%s imports %s: the consensus core must not do I/O, read the clock or use global randomness", pkg, dep)
			}
		}
		all, err := exec.Command(goBin, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(all)) {
			if forbiddenModule(dep) {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

func TestImports_CheckerCatchesForbidden(t *testing.T) {
	for _, dep := range []string{"time", "net", "os", "math/rand/v2", "github.com/hashicorp/memberlist", "periph.io/x/conn/v3/gpio"} {
		if !forbiddenStd(dep) && !forbiddenModule(dep) {
			t.Errorf("%s is not caught", dep)
		}
	}
	for _, dep := range []string{"crypto/ed25519", "encoding/binary", "github.com/seed44533760/pact/consensus/quorum"} {
		if forbiddenStd(dep) || forbiddenModule(dep) {
			t.Errorf("%s is refused but is allowed", dep)
		}
	}
}

func forbiddenStd(dep string) bool {
	for _, bad := range []string{
		"net", "net/http", "os", "os/exec", "os/signal", "time", "math/rand", "math/rand/v2",
		"crypto/rand", "io/ioutil", "syscall", "log", "log/slog", "runtime/pprof",
	} {
		if dep == bad {
			return true
		}
	}
	return false
}

func forbiddenModule(dep string) bool {
	for _, prefix := range []string{
		"github.com/hashicorp/", "github.com/eclipse/paho", "periph.io/", "go.etcd.io/bbolt",
		"github.com/seed44533760/pact/agent", "github.com/seed44533760/pact/hw", "github.com/seed44533760/pact/cmd",
	} {
		if strings.HasPrefix(dep, prefix) {
			return true
		}
	}
	return false
}

// No goroutines either: the caller owns the only one. The package's source is
// parsed and any go statement fails the test.
func TestSource_StartsNoGoroutine(t *testing.T) {
	for _, dir := range []string{".", "quorum"} {
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if g, ok := n.(*ast.GoStmt); ok {
					t.Errorf("%s:%d starts a goroutine", name, fset.Position(g.Pos()).Line)
				}
				return true
			})
		}
	}
}
