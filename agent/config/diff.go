package config

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// A Change is one key whose value differs between two versions of a file,
// found by DiffAgent or DiffCluster.
type Change struct {
	// Key is the key path, as problems name it: "log.level",
	// "hardware.outputs[1].max_on", "actions.ventilate.trigger.above". A
	// list whose length changed is one change of the whole list
	// ("hardware.outputs").
	Key string
	// Old and New are the values as the log shows them: durations as 1m30s,
	// lists as [a b], an absent value as "", a broker URL without its
	// password.
	Old, New string
}

// String is "key old→new", the form a reload logs.
func (c Change) String() string { return c.Key + " " + quoteEmpty(c.Old) + "→" + quoteEmpty(c.New) }

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// DiffAgent lists the keys whose values differ between old and new, in the
// order of the file's schema. Both should have been loaded (defaults
// filled in, paths resolved), so that a key written out with its default
// value is no change.
func DiffAgent(old, new *Agent) []Change {
	var out []Change
	diffValue(&out, "", reflect.ValueOf(*old), reflect.ValueOf(*new))
	for i := range out {
		if out[i].Key == "mqtt.url" {
			out[i].Old, out[i].New = redactURL(out[i].Old), redactURL(out[i].New)
		}
	}
	return out
}

// DiffCluster lists the keys whose values differ between old and new. The
// cluster file holds secrets (the gossip keys), so callers that log the
// result should log the keys only.
func DiffCluster(old, new *Cluster) []Change {
	var out []Change
	diffValue(&out, "", reflect.ValueOf(*old), reflect.ValueOf(*new))
	return out
}

// diffValue appends the differences between a and b, two values of one
// type found at path. Structs are walked field by field under their YAML
// names (unexported fields are not part of the file), maps key by key,
// lists of structs entry by entry when their lengths agree.
func diffValue(out *[]Change, path string, a, b reflect.Value) {
	switch a.Kind() {
	case reflect.Struct:
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			diffValue(out, keyPath(path, name), a.Field(i), b.Field(i))
		}
		return
	case reflect.Pointer:
		if !a.IsNil() && !b.IsNil() {
			diffValue(out, path, a.Elem(), b.Elem())
			return
		}
	case reflect.Map:
		keys := map[string]reflect.Value{}
		for _, k := range append(a.MapKeys(), b.MapKeys()...) {
			keys[fmt.Sprint(k.Interface())] = k
		}
		names := make([]string, 0, len(keys))
		for n := range keys {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			av, bv := a.MapIndex(keys[n]), b.MapIndex(keys[n])
			switch {
			case av.IsValid() && bv.IsValid():
				diffValue(out, keyPath(path, n), av, bv)
			case av.IsValid():
				*out = append(*out, Change{Key: keyPath(path, n), Old: show(av)})
			default:
				*out = append(*out, Change{Key: keyPath(path, n), New: show(bv)})
			}
		}
		return
	case reflect.Slice:
		if a.Len() == b.Len() && a.Type().Elem().Kind() == reflect.Struct {
			for i := range a.Len() {
				diffValue(out, indexPath(path, i), a.Index(i), b.Index(i))
			}
			return
		}
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		*out = append(*out, Change{Key: path, Old: show(a), New: show(b)})
	}
}

// show formats a value for a Change.
func show(v reflect.Value) string {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil():
		return ""
	case v.Kind() == reflect.Pointer:
		return show(v.Elem())
	case v.Kind() == reflect.Struct:
		return fmt.Sprintf("%+v", v.Interface())
	case v.Kind() == reflect.Slice && v.Len() == 0:
		return ""
	}
	return fmt.Sprint(v.Interface())
}

// redactURL masks a password in a broker URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "(unparsable URL)"
	case u.User == nil:
		return raw
	}
	return u.Redacted()
}
