package audit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The auditor is a pure function of the payloads and times it is given:
// no I/O, no clock, no randomness, no goroutines. Its source is parsed and
// checked.
func TestSource_StaysPure(t *testing.T) {
	forbiddenImports := map[string]bool{
		"net": true, "net/http": true, "os": true, "os/exec": true, "syscall": true,
		"math/rand": true, "math/rand/v2": true, "crypto/rand": true, "log": true, "log/slog": true,
		"io/ioutil": true, "github.com/eclipse/paho.mqtt.golang": true, "github.com/hashicorp/memberlist": true,
	}
	forbiddenCalls := map[string]bool{
		"time.Now": true, "time.Since": true, "time.Until": true, "time.Sleep": true, "time.After": true,
		"time.AfterFunc": true, "time.Tick": true, "time.NewTicker": true, "time.NewTimer": true,
	}
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if forbiddenImports[path] || strings.HasPrefix(path, "periph.io/x/host") {
				t.Errorf("%s imports %s", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s:%d starts a goroutine", name, fset.Position(n.Pos()).Line)
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && forbiddenCalls[id.Name+"."+n.Sel.Name] {
					t.Errorf("%s:%d uses %s.%s: times are the caller's", name, fset.Position(n.Pos()).Line, id.Name, n.Sel.Name)
				}
			}
			return true
		})
	}
}
