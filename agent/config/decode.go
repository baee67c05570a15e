package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes data, the contents of file, into out (a pointer to a
// struct already holding its defaults) and returns where each key was and
// the problems found. Unknown keys and values of the wrong type are
// problems with their key path and line; decoding carries on past them so
// that every one is reported. fatal means the YAML could not be read at all
// (syntax error, duplicate key) and out must not be validated further.
//
// The strict decoder (KnownFields) is the authority on what is unknown or
// mistyped; its messages carry only a line, so a second pass over the node
// tree, typed against out, supplies the key path and the valid keys.
//
// broken lists the key paths whose values did not decode, so that rules
// checking them can stay quiet. A mapping with a duplicate key is not
// decoded at all, so its own path is broken ("" for the top level: then
// nothing decoded, and only the duplicates are reported).
func decodeYAML(file string, data []byte, out any) (src *source, problems []*Problem, broken []string, fatal bool) {
	src = &source{file: file, lines: map[string]int{}}
	fileProblem := func(line int, format string, args ...any) []*Problem {
		return []*Problem{{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}}
	}

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return src, fileProblem(0, "the file is empty"), nil, true
		}
		line, msg := splitYAMLError(err)
		return src, fileProblem(line, "%s", msg), nil, true
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return src, fileProblem(extra.Line, "more than one YAML document (a second '---'): put everything in one"), nil, true
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		line := root.Line
		if len(root.Content) > 0 {
			line = root.Content[0].Line
		}
		return src, fileProblem(line, "the file must be a mapping of keys to values (key: value), not %s", describeNode(root.Content)), nil, true
	}

	idx := &nodeIndex{src: src}
	idx.walk(root.Content[0], "", reflect.TypeOf(out), 0)

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	err := strict.Decode(out)
	var typeErr *yaml.TypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		for _, msg := range typeErr.Errors {
			if reDupKey.MatchString(msg) {
				continue // the walk reported every duplicate already
			}
			p := idx.explain(msg)
			problems = append(problems, p)
			if p.Path != "" {
				broken = append(broken, p.Path)
			}
		}
	default:
		line, msg := splitYAMLError(err)
		return src, fileProblem(line, "%s", msg), nil, true
	}
	problems = append(problems, idx.dups...)
	broken = append(broken, idx.dupMaps...)
	return src, problems, broken, false
}

// entry is one key (or list item) of the document, with the Go type its
// value decodes into (nil where the document strays from the schema).
type entry struct {
	path   string
	key    string // "" for a list item
	line   int
	value  *yaml.Node
	typ    reflect.Type // type of the value
	parent reflect.Type // type of the mapping holding the key
}

type nodeIndex struct {
	src     *source
	entries []entry
	dups    []*Problem // keys repeated within one mapping
	dupMaps []string   // paths of the mappings holding them
}

// maxDepth bounds the walk; the schema is nowhere near this deep, and it
// stops alias tricks from recursing for long.
const maxDepth = 32

func (x *nodeIndex) walk(n *yaml.Node, path string, t reflect.Type, depth int) {
	if depth > maxDepth {
		return
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := keyPath(path, k.Value)
			if line, dup := first[k.Value]; dup {
				x.dups = append(x.dups, &Problem{File: x.src.file, Line: k.Line, Path: p,
					Msg: fmt.Sprintf("key %q appears twice (first at line %d): keep one", k.Value, line)})
				x.dupMaps = append(x.dupMaps, path)
				continue
			}
			first[k.Value] = k.Line
			var vt reflect.Type
			if t != nil {
				switch t.Kind() {
				case reflect.Struct:
					vt = fieldType(t, k.Value)
				case reflect.Map:
					vt = t.Elem()
				}
			}
			x.entries = append(x.entries, entry{path: p, key: k.Value, line: k.Line, value: v, typ: vt, parent: t})
			if _, seen := x.src.lines[p]; !seen {
				x.src.lines[p] = k.Line
			}
			x.walk(v, p, vt, depth+1)
		}
	case yaml.SequenceNode:
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i, item := range n.Content {
			p := indexPath(path, i)
			x.entries = append(x.entries, entry{path: p, line: item.Line, value: item, typ: et})
			x.src.lines[p] = item.Line
			x.walk(item, p, et, depth+1)
		}
	}
}

var (
	reUnknown = regexp.MustCompile(`^line (\d+): field (.*) not found in type (.*)$`)
	reMistype = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.*)$") // backquotes inside: no raw string
	reDupKey  = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
	reLine    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// explain turns one message of the strict decoder into a Problem with the
// key path of the line it names.
func (x *nodeIndex) explain(msg string) *Problem {
	p := &Problem{File: x.src.file, Msg: msg}
	if m := reUnknown.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = fmt.Sprintf("unknown key %q", m[2])
		for _, e := range x.entries {
			if e.line == p.Line && e.key == m[2] && e.parent != nil && e.parent.Kind() == reflect.Struct {
				p.Path = e.path
				p.Msg += knownKeysHint(e.parent, m[2])
				break
			}
		}
		return p
	}
	if m := reMistype.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		tag, shown, into := m[2], m[3], m[4]
		e, ok := x.findValue(p.Line, tag, shown)
		if !ok {
			return p
		}
		p.Path = e.path
		got := describeValue(e.value)
		want := into
		if e.typ != nil {
			want = describeType(e.typ)
		}
		p.Msg = fmt.Sprintf("expected %s, got %s", want, got)
		return p
	}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	}
	return p
}

// findValue finds the entry whose value the decoder complained about: on
// the given line, of the given tag, showing the given (possibly shortened)
// text.
func (x *nodeIndex) findValue(line int, tag, shown string) (entry, bool) {
	shown = strings.TrimSuffix(shown, "...")
	var fallback *entry
	for i := range x.entries {
		e := &x.entries[i]
		v := e.value
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Line != line {
			continue
		}
		switch tag {
		case "!!seq":
			if v.Kind == yaml.SequenceNode {
				return *e, true
			}
		case "!!map":
			if v.Kind == yaml.MappingNode {
				return *e, true
			}
		default:
			if v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, shown) {
				return *e, true
			}
		}
		if fallback == nil {
			fallback = e
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return entry{}, false
}

// splitYAMLError takes the line number out of a yaml error message.
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := reLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, msg
}

// fieldType returns the type of the struct field that key decodes into, or
// nil when there is none.
func fieldType(t reflect.Type, key string) reflect.Type {
	for f := range t.Fields() {
		if yamlName(f) == key {
			return f.Type
		}
	}
	return nil
}

// yamlName is the key a struct field is decoded from: its yaml tag, or the
// lower-cased field name as go.yaml.in/yaml does; "" for skipped fields.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

// knownKeysHint suggests the key the user probably meant, or lists the keys
// allowed in t.
func knownKeysHint(t reflect.Type, key string) string {
	var names []string
	for f := range t.Fields() {
		if n := yamlName(f); n != "" {
			names = append(names, n)
		}
	}
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(key), n); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	slices.Sort(names)
	return "; valid keys here: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var durationType = reflect.TypeOf(time.Duration(0))

// describeType says in words what a value of type t looks like in YAML.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration such as 500ms, 10s or 1m30s"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value lines)"
	}
	return t.String()
}

// describeValue says in words what a YAML node holds.
func describeValue(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(n.Value)
}

func describeNode(content []*yaml.Node) string {
	if len(content) == 0 {
		return "nothing"
	}
	return describeValue(content[0])
}
