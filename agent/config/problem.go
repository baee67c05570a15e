package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Problem is one thing wrong (or, with Warning set, worth a look) in a
// configuration file. Validation returns every problem it finds, joined with
// errors.Join; Problems takes them apart again.
type Problem struct {
	// File is the file the problem is in; empty for a value built in code.
	File string
	// Line is the 1-based line of the key in File; 0 when unknown, e.g. for
	// a required key that is missing from the top level.
	Line int
	// Path is the key path: "hardware.outputs[1].pin", "validators.node-3".
	// Empty for problems with the file as a whole (a YAML syntax error).
	Path string
	// Msg says what is wrong and, where it helps, what to write instead.
	Msg string
	// Warning marks something legal but probably unintended. Validate never
	// returns warnings; Warnings does.
	Warning bool
}

// Error formats the problem as FILE:LINE: KEY.PATH: message, leaving out the
// parts that are unknown; warnings say so after the location.
func (p *Problem) Error() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		fmt.Fprintf(&b, "%s: ", p.File)
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems returns every *Problem inside err, which may be a single Problem
// or any tree of joined and wrapped errors. Errors that are not Problems (a
// file that could not be read) are left out: check err itself for those.
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *Problem:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// joinProblems returns the problems as one error in file and line order, or
// nil when there are none.
func joinProblems(ps []*Problem) error {
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// sortProblems orders problems by line and key path within each file,
// keeping the files in the order they first appear (the agent file before
// the cluster file it names).
func sortProblems(ps []*Problem) {
	rank := map[string]int{}
	for _, p := range ps {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(rank[a.File], rank[b.File]), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
}

// source remembers where a value was loaded from, so that problems found
// after decoding can still name the file and line of their key.
type source struct {
	file  string
	lines map[string]int // key path → line of the key (or list item)
}

// lineOf returns the line of path, or of its nearest ancestor that is in the
// file: a missing required key is reported at the mapping that lacks it.
func (s *source) lineOf(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if line, ok := s.lines[path]; ok {
			return line
		}
		path = parentPath(path)
	}
	return 0
}

// report collects the problems of one file.
type report struct {
	src  *source
	list []*Problem
	// broken holds the paths whose values failed to decode: checks of those
	// values would only repeat the decode error, so they are dropped.
	broken []string
}

func newReport(src *source) *report {
	if src == nil {
		src = &source{}
	}
	return &report{src: src}
}

func (r *report) add(warning bool, path, format string, args ...any) {
	for _, b := range r.broken {
		if b == "" || path == b || strings.HasPrefix(path, b+".") || strings.HasPrefix(path, b+"[") {
			return
		}
	}
	r.list = append(r.list, &Problem{
		File:    r.src.file,
		Line:    r.src.lineOf(path),
		Path:    path,
		Msg:     fmt.Sprintf(format, args...),
		Warning: warning,
	})
}

// errorf records an error at path.
func (r *report) errorf(path, format string, args ...any) { r.add(false, path, format, args...) }

// warnf records a warning at path.
func (r *report) warnf(path, format string, args ...any) { r.add(true, path, format, args...) }

func (r *report) err() error { return joinProblems(r.list) }

// Key paths are written as in the documentation: "a.b", "list[2]", and for a
// map key that is not a plain word, `map["key.with.dots"]`.

// keyPath appends a mapping key to path.
func keyPath(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parentPath removes the last key or index from path; "" at the top.
func parentPath(path string) string {
	cut, inQuote, escaped := 0, false, false
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '.' || c == '['):
			cut = i
		}
	}
	return path[:cut]
}
