package search

import (
	"fmt"
	"strconv"
	"strings"
)

// setting is one fixed key of a spec with its value in TOML.
type setting struct {
	table string // "" for the top level, else "data", "model", "train" or "search"
	name  string
	value string
}

func (st setting) key() string {
	if st.table == "" {
		return st.name
	}
	return st.table + "." + st.name
}

// settings lists the spec's fixed settings in canonical order, defaults
// included. Keys that have no effect with the sweep's optimizers or
// learning rate schedules are left out (they hold their defaults), as are
// unset data sizes and paths, and keys newer than the first canonical forms
// at their defaults, so that older sweeps keep their canonical form.
func (s *Spec) settings() []setting {
	st := []setting{
		{"", "name", quote(s.Name)},
		{"", "seed", strconv.FormatUint(s.Seed, 10)},
		{"", "workers", strconv.Itoa(s.Workers)},
		{"data", "source", quote(s.Data.Source)},
	}
	if s.Data.Path != "" {
		st = append(st, setting{"data", "path", quote(s.Data.Path)})
	}
	for _, kv := range []struct {
		name string
		n    int
	}{{"train", s.Data.Train}, {"val", s.Data.Val}, {"test", s.Data.Test},
		{"classes", s.Data.Classes}, {"dim", s.Data.Dim}} {
		if kv.n > 0 {
			st = append(st, setting{"data", kv.name, strconv.Itoa(kv.n)})
		}
	}
	if s.Data.Source == "synthetic" {
		st = append(st, setting{"data", "seed", strconv.FormatUint(s.Data.Seed, 10)})
	}
	d := DefaultConfig()
	for i := range params {
		def := &params[i]
		v := def.get(&s.Base)
		switch {
		case !def.usedBy(s.values(def.with.key)),
			(def.name == "iterations" || def.name == "epochs") && v == 0,
			def.omitDefault && sameValue(v, def.get(&d)):
			continue
		}
		st = append(st, setting{def.section, def.name, tomlValue(v)})
	}
	st = append(st,
		setting{"search", "method", quote(s.Search.Method)},
		setting{"search", "metric", quote(s.Search.Metric)})
	if s.Search.Trials > 0 {
		st = append(st, setting{"search", "trials", strconv.Itoa(s.Search.Trials)})
	}
	if s.Search.Sampler != "" {
		st = append(st, setting{"search", "sampler", quote(s.Search.Sampler)})
	}
	if s.Search.Budget > 0 {
		st = append(st, setting{"search", "budget", quote(s.Search.Budget.String())})
	}
	// Newer than the first canonical forms: at their defaults (fused, the
	// default size) they are left out.
	if s.Search.NoFuse {
		st = append(st, setting{"search", "fuse", "false"})
	}
	if s.Search.GroupSize > 0 {
		st = append(st, setting{"search", "group_size", strconv.Itoa(s.Search.GroupSize)})
	}

	st = append(st,
		setting{"search", "max_trials", strconv.Itoa(s.Search.MaxTrials)},
		setting{"search", "keep", strconv.Itoa(s.Search.Keep)})
	if m := s.Search.Method; m == "asha" || m == "hyperband" {
		st = append(st, setting{"search." + m, "eta", strconv.Itoa(s.Search.Eta)})
		if s.Search.MinUnit != "" {
			st = append(st, setting{"search." + m, "min_" + s.Search.MinUnit, strconv.Itoa(s.Search.Min)})
		}
	}
	return st
}

// values returns the values the sweep's trials give the string key (an
// optimizer, a learning rate schedule): the searched ones, or the fixed
// one. It returns nil for "".
func (s *Spec) values(key string) []string {
	if key == "" {
		return nil
	}
	if p := s.Search.param(key); p != nil {
		vs := make([]string, len(p.Values))
		for i, v := range p.Values {
			vs[i], _ = v.(string)
		}
		return vs
	}
	def, d := lookupParam(key), DefaultConfig()
	v, _ := def.get(&s.Base).(string)
	if v == "" { // a Config made before the key existed
		v, _ = def.get(&d).(string)
	}
	return []string{v}
}

// tomlValue is FormatValue with floats that stay floats in TOML.
func tomlValue(v any) string {
	f, ok := v.(float64)
	if !ok {
		return FormatValue(v)
	}
	s := fmtFloat(f)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// Canonical returns the spec as TOML in canonical form: every setting with
// its resolved value (defaults written out), tables and keys in a fixed
// order, searched parameters in spec order. Parsing it gives back an equal
// Spec, and equal specs have byte-equal canonical forms, so it is what a
// store keeps and compares.
func (s *Spec) Canonical() []byte {
	var b strings.Builder
	table := ""
	for _, st := range s.settings() {
		if st.table != table {
			table = st.table
			fmt.Fprintf(&b, "\n[%s]\n", table)
		}
		fmt.Fprintf(&b, "%s = %s\n", st.name, st.value)
	}
	if len(s.Search.Params) > 0 {
		b.WriteString("\n[search.params]\n")
		for _, p := range s.Search.Params {
			b.WriteString(p.String())
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// Change is one fixed setting that differs between two specs.
type Change struct {
	Key      string // dotted key, e.g. "train.iterations"
	Old, New string // TOML values; "" when the setting is absent
}

// ChangeError is returned by CheckCompatible: the fixed settings of an
// existing sweep that a spec changes.
type ChangeError struct {
	Name    string // the sweep
	Changes []Change
}

func (e *ChangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sweep %q exists with other fixed settings:\n", e.Name)
	for _, c := range e.Changes {
		old, new := c.Old, c.New
		if old == "" {
			old = "(not set)"
		}
		if new == "" {
			new = "(not set)"
		}
		fmt.Fprintf(&b, "  %s: %s -> %s\n", c.Key, old, new)
	}
	b.WriteString("put them back to extend the sweep, or give the spec a new name to start a new one")
	return b.String()
}

// Unwrap returns ErrChanged.
func (e *ChangeError) Unwrap() error { return ErrChanged }

// CheckCompatible reports whether spec may extend or continue the existing
// sweep old: it may search other values (more grid values, more random
// trials, a new searched key) and change workers, keep, max_trials, budget,
// fuse and group_size (which group the trials created from then on), but
// every other setting must be as before: the seed, [data], the method and
// metric, and each [model] and [train] key searched in neither spec. The
// error is a *ChangeError listing every change.
func CheckCompatible(old, spec *Spec) error {
	searched := make(map[string]bool)
	for _, s := range []*Spec{old, spec} {
		for _, p := range s.Search.Params {
			searched[p.Name] = true
		}
	}
	// fuse and group_size decide the groups of trials created from now
	// on: a trial's group never changes.
	free := map[string]bool{"name": true, "workers": true, "search.trials": true, "search.max_trials": true, "search.keep": true, "search.budget": true,
		"search.fuse": true, "search.group_size": true}
	fixed := func(s *Spec) map[string]string {
		m := make(map[string]string)
		for _, st := range s.settings() {
			if !free[st.key()] && !searched[st.name] {
				m[st.key()] = st.value
			}
		}
		return m
	}
	a, b := fixed(old), fixed(spec)
	var changes []Change
	add := func(st setting) {
		k := st.key()
		if a[k] != b[k] && !containsKey(changes, k) {
			changes = append(changes, Change{Key: k, Old: a[k], New: b[k]})
		}
	}
	for _, st := range old.settings() {
		add(st)
	}
	for _, st := range spec.settings() {
		add(st)
	}
	if len(changes) > 0 {
		return &ChangeError{Name: old.Name, Changes: changes}
	}
	return nil
}

func containsKey(cs []Change, key string) bool {
	for _, c := range cs {
		if c.Key == key {
			return true
		}
	}
	return false
}
