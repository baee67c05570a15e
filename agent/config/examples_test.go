package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The examples in configs/ must load, validate, and mention every key of
// the schema, so they cannot rot as the schema grows. Their keys are
// placeholders, which is the only thing Warnings may say about them.
func TestExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "configs")
	clusterFile := filepath.Join(dir, "cluster.yaml")
	agentFile := filepath.Join(dir, "pact.yaml")

	c, err := LoadCluster(clusterFile)
	if err != nil {
		t.Fatalf("configs/cluster.yaml: %v", err)
	}
	// The example points at /etc/pact/cluster.yaml; check it alone, then
	// with the example cluster file.
	a, err := LoadAgent(agentFile)
	if err != nil {
		t.Fatalf("configs/pact.yaml: %v", err)
	}
	for _, w := range Warnings(a, c) {
		if !strings.Contains(w.Msg, "readable text") {
			t.Errorf("unexpected warning: %v", w)
		}
	}
	if !a.CanPerform(c.Actions["blink"]) || !a.CanPerform(c.Actions["ventilate"]) {
		t.Errorf("the example node cannot perform the example actions")
	}

	for _, tt := range []struct {
		file string
		typ  reflect.Type
	}{{clusterFile, reflect.TypeOf(Cluster{})}, {agentFile, reflect.TypeOf(Agent{})}} {
		text, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range schemaKeys(tt.typ, map[reflect.Type]bool{}) {
			if !regexp.MustCompile(`(?m)^[\s#-]*` + regexp.QuoteMeta(key) + `:|[{,]\s*` + regexp.QuoteMeta(key) + `:`).Match(text) {
				t.Errorf("%s does not show the key %q", tt.file, key)
			}
		}
	}
}

// schemaKeys lists every YAML key of t's structs.
func schemaKeys(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() != reflect.TypeOf(Agent{}).PkgPath() {
		return nil
	}
	seen[t] = true
	var out []string
	for f := range t.Fields() {
		if name := yamlName(f); name != "" {
			out = append(out, name)
			out = append(out, schemaKeys(f.Type, seen)...)
		}
	}
	return out
}
