package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPurity_NoClockNoGoroutinesNoIO keeps the simulator reproducible: its
// (non-test) code may use time only for durations, starts no goroutine,
// and imports nothing that reaches the outside world or a global random
// source.
func TestPurity_NoClockNoGoroutinesNoIO(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbiddenImports := map[string]bool{
		"os": true, "os/exec": true, "net": true, "net/http": true, "crypto/rand": true,
		"math/rand": true, "syscall": true, "log": true, "log/slog": true, "io/ioutil": true,
	}
	forbiddenTime := map[string]bool{
		"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
		"Tick": true, "NewTimer": true, "NewTicker": true,
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if forbiddenImports[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: goroutine started", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && forbiddenTime[n.Sel.Name] {
					t.Errorf("%s: time.%s reads or waits on the clock", fset.Position(n.Pos()), n.Sel.Name)
				}
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "rand" && !strings.HasPrefix(n.Sel.Name, "New") && n.Sel.Name != "Rand" && n.Sel.Name != "PCG" {
					t.Errorf("%s: rand.%s uses the global random source", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
}
