package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The agent and cluster files are read at every start and every SIGHUP, by
// ParseAgent and ParseCluster (LoadAgent and LoadCluster read the file and
// call them). Their seed corpus is committed under testdata/fuzz/FuzzParse,
// so plain `go test` replays it.

// parseSeeds are the example files shipped in configs/, each prefixed with
// the byte that picks its parser (0 agent, 1 cluster).
func parseSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for i, name := range []string{"pact.yaml", "cluster.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte{byte(i)}, b...))
	}
	return out
}

// Whatever the file holds, parsing it reports problems and never panics or
// hangs (YAML aliases, deep nesting, huge numbers). A file that parses
// without problems marshals (config.Marshal, what `pact testnet` and
// `pact config` write) to YAML that parses without problems and marshals to
// the same bytes.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds(f) {
		f.Add(s)
	}
	file := filepath.Join(f.TempDir(), "pact.yaml")
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		data := in[1:]
		_, _ = DetectKind(data)
		var (
			v   any
			err error
		)
		parse := func(b []byte) (any, error) {
			if in[0]%2 == 0 {
				a, err := ParseAgent(file, b)
				if a == nil {
					return nil, err
				}
				_ = Warnings(a, nil)
				return a, err
			}
			c, err := ParseCluster(file, b)
			if c == nil {
				return nil, err
			}
			_ = Warnings(nil, c)
			return c, err
		}
		if v, err = parse(data); err != nil || v == nil {
			_ = Problems(err)
			return
		}
		out, err := Marshal(v, "")
		if err != nil {
			t.Fatalf("Marshal of a valid file: %v", err)
		}
		v2, err := parse(out)
		if err != nil {
			t.Fatalf("a valid file marshals to an invalid one: %v\n--- in\n%s\n--- out\n%s", err, data, out)
		}
		out2, err := Marshal(v2, "")
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("marshal, parse, marshal changed the file (%v):\n--- first\n%s\n--- second\n%s", err, out, out2)
		}
	})
}
