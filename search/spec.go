package search

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Spec is a parsed, validated sweep spec with every default filled in.
type Spec struct {
	Name    string // identifies the sweep in the database
	Seed    uint64 // every trial's seed derives from (Seed, trial key)
	Workers int    // concurrent trials; 0 means the number of CPUs
	Data    Data
	Base    Config // the fixed [model] and [train] settings; searched values override them
	Search  Search
}

// Data is the [data] table. Zero sizes mean the source's default, which the
// data package decides.
type Data struct {
	Source string // cifar10 | fashion-mnist | mnist | embedded | synthetic
	Path   string // the data's files, absolute (a relative path is resolved against the spec's directory); empty for embedded and synthetic
	Train  int    // training images: the first Train of the training file
	Val    int    // validation images: the ones after them
	Test   int    // test images
	// Seed, Classes and Dim shape synthetic data only: the generator's seed
	// (apart from the sweep's Seed, so that trials can be reseeded on the
	// same data) and the number of classes and features (0: the data
	// package's defaults).
	Seed         uint64
	Classes, Dim int
}

// Search is the [search] table.
type Search struct {
	Method    string  // grid | random | asha | hyperband
	Metric    string  // val_acc (maximised) | val_loss (minimised)
	Trials    int     // random, asha, hyperband: the number of trials (0 with a budget: max_trials); 0 for grid
	MaxTrials int     // guard against accidentally huge sweeps
	Keep      int     // how many of the best trials keep their weights
	Params    []Param // the searched parameters, in spec order

	// Sampler says how new configurations are drawn: random (the default)
	// or tpe; "" for a grid.
	Sampler string
	// Budget is the sweep's wall-clock budget, over all its runs; 0: none.
	Budget time.Duration
	// Eta and Min shape the rungs of asha and hyperband (0 otherwise): a
	// trial pauses at Min·Eta^k of the resource, up to the config's
	// length. The resource is epochs when the spec trains by epochs,
	// iterations when it trains by iterations (MinUnit says which).
	Eta, Min int
	MinUnit  string // "epochs" | "iterations"; "" for grid and random

	// NoFuse is fuse = false: every trial trains on its own, drawing its
	// own minibatches. By default a grid's or a random search's trials
	// that share their minibatch stream train in groups (see Fused).
	NoFuse bool
	// GroupSize is group_size, the most trials a group holds; 0 means
	// DefaultGroupSize.
	GroupSize int
}

// maxGroupSize bounds group_size: a group's wide buffers grow with it.
const maxGroupSize = 64

// DefaultGroupSize is the most trials a fused group holds when the spec
// does not say: past 8 to 12 trials a wider first-layer product is no
// faster per trial (nn's BenchmarkFusedFirstLayer, BenchmarkTrainGroupStep),
// and a sweep of 24 trials (the coursework's grid) makes two groups, one
// for each core of a 2-core machine. A worker trains one group at a time:
// a smaller group_size spreads a small sweep over more workers.
const DefaultGroupSize = 12

// Fused reports whether the sweep's trials train in groups: grid and
// random search (not adaptive ones, whose trials start and pause one by
// one), unless fuse = false.
func (s Search) Fused() bool {
	return !s.NoFuse && !s.Adaptive() && (s.Method == "grid" || s.Method == "random")
}

// Adaptive reports whether the sweep's trials are decided as it runs, from
// the results so far, rather than listed up front: asha and hyperband, tpe
// sampling, and random search bounded by a budget alone.
func (s Search) Adaptive() bool {
	return s.Method == "asha" || s.Method == "hyperband" || s.Sampler == "tpe" || (s.Method == "random" && s.Trials == 0)
}

// Maximize reports whether the metric is better when larger.
func (s Search) Maximize() bool { return s.Metric != "val_loss" }

// The sources, methods and metrics a spec may name.
var (
	sources  = []string{"cifar10", "fashion-mnist", "mnist", "embedded", "synthetic"}
	methods  = []string{"grid", "random", "asha", "hyperband"}
	samplers = []string{"random", "tpe"}
	metrics  = []string{"val_acc", "val_loss"}
)

// DefaultPath returns where a source's files are when [data] has no path,
// or "" when the spec must give one (or the source reads no files).
func DefaultPath(source string) string {
	if source == "fashion-mnist" {
		return "/usr/share/datasets/fashion-mnist"
	}
	return ""
}

// ParseFile reads and parses the spec at path; problems name the path.
func ParseFile(path string) (*Spec, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(path, src)
}

// Parse parses and validates a spec. file names the spec in messages. When
// the spec has mistakes, the error is a *SpecError with all of them.
func Parse(file string, src []byte) (*Spec, error) {
	p := &parser{file: file, fixed: map[string]*item{}, badFixed: map[string]bool{}, rungs: map[string]*item{}}
	root, err := readTree(src)
	if err != nil {
		pr := &Problem{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: ErrSyntax}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			pr.Line, pr.Key, pr.Msg = pe.Position.Line, pe.LastKey, pe.Message
		}
		return nil, &SpecError{Problems: []*Problem{pr}}
	}
	s := p.spec(root)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b *Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &SpecError{Problems: p.problems}
	}
	return s, nil
}

// parser collects every problem of one spec.
type parser struct {
	file      string
	problems  []*Problem
	fixed     map[string]*item // [model] and [train] keys present in the spec
	badFixed  map[string]bool  // keys of fixed whose value has a problem: the config holds the default
	searched  map[string]*item // keys of [search.params]
	badParams bool             // some searched parameter has a problem
	rungs     map[string]*item // [search.asha] and [search.hyperband]
}

func (p *parser) add(line int, key string, sentinel error, format string, args ...any) {
	p.problems = append(p.problems, &Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

func (p *parser) addAt(it *item, sentinel error, format string, args ...any) {
	p.add(it.line, it.key, sentinel, format, args...)
}

// Keys of each table, for strict decoding and did-you-mean.
var (
	topKeys    = []string{"name", "seed", "workers", "data", "model", "train", "search"}
	dataKeys   = []string{"source", "path", "train", "val", "test", "seed", "classes", "dim"}
	searchKeys = []string{"method", "metric", "trials", "max_trials", "keep", "params", "sampler", "budget", "fuse", "group_size", "asha", "hyperband"}
	rungKeys   = []string{"min_epochs", "min_iterations", "eta"}
	rangeKeys  = []string{"uniform", "log_uniform", "int_uniform", "steps"}
	modelKeys  = sectionKeys("model")
	trainKeys  = sectionKeys("train")
	paramKeys  = append(slices.Clone(modelKeys), trainKeys...)
)

func sectionKeys(section string) []string {
	var keys []string
	for _, d := range params {
		if d.section == section {
			keys = append(keys, d.name)
		}
	}
	return keys
}

// unknown reports a key that table does not have, suggesting a spelling or
// the table the key belongs in.
func (p *parser) unknown(it *item, table string, keys []string) {
	if s := closest(it.name, keys); s != "" {
		p.addAt(it, ErrUnknownKey, "unknown key (did you mean %s?)", s)
		return
	}
	for _, sec := range []struct {
		name string
		keys []string
	}{{"", topKeys}, {"[data]", dataKeys}, {"[model]", modelKeys}, {"[train]", trainKeys}, {"[search]", searchKeys}} {
		if sec.name != table && slices.Contains(sec.keys, it.name) {
			where := sec.name
			if where == "" {
				where = "the top of the file"
			}
			p.addAt(it, ErrUnknownKey, "unknown key in %s: %s belongs in %s", tableName(table), it.name, where)
			return
		}
	}
	p.addAt(it, ErrUnknownKey, "unknown key (known keys: %s)", strings.Join(keys, ", "))
}

func tableName(t string) string {
	if t == "" {
		return "the top level"
	}
	return t
}

func (p *parser) spec(root *item) *Spec {
	s := &Spec{
		Base:   DefaultConfig(),
		Data:   Data{Source: "embedded"},
		Search: Search{Method: "grid", Metric: "val_acc", MaxTrials: DefaultMaxTrials, Keep: DefaultKeep},
	}
	var nameItem, searchItem, dataItem *item
	for _, it := range root.kids {
		switch it.name {
		case "name":
			nameItem = it
			if v, ok := p.str(it); ok {
				s.Name = v
				if !validName.MatchString(v) {
					p.addAt(it, ErrInvalid, "%s is not a valid name: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit", quote(v))
				}
			}
		case "seed":
			if v, ok := p.int(it, 0, 1<<63-1); ok {
				s.Seed = uint64(v)
			}
		case "workers":
			p.intTo(&s.Workers, it, 0, 4096)
		case "data":
			dataItem = it
			p.data(it, &s.Data)
		case "model", "train":
			p.config(it, &s.Base)
		case "search":
			searchItem = it
			p.search(it, &s.Search)
		default:
			p.unknown(it, "", topKeys)
		}
	}
	if nameItem == nil {
		p.add(0, "name", ErrMissing, "required: it names the sweep in the database")
	}
	p.checkData(dataItem, s)
	p.checkConfig(s)
	p.checkSearch(searchItem, s)
	return s
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// table reports whether it is a table, and a problem when it is not.
func (p *parser) table(it *item) bool {
	if !it.table {
		p.addAt(it, ErrType, "want a table, got %s", typeName(it.val))
	}
	return it.table
}

func (p *parser) str(it *item) (string, bool) {
	v, ok := it.val.(string)
	if !ok {
		p.addAt(it, ErrType, "want a string, got %s", typeName(it.val))
	}
	return v, ok
}

// enum reads a string that must be one of allowed.
func (p *parser) enum(it *item, what string, allowed []string) (string, bool) {
	v, ok := p.str(it)
	if ok && !slices.Contains(allowed, v) {
		p.addAt(it, ErrInvalid, "%s", unknownValue(what, v, allowed))
		return v, false
	}
	return v, ok
}

// int reads an integer in [lo, hi].
func (p *parser) int(it *item, lo, hi int) (int, bool) {
	v, ok := it.val.(int64)
	if !ok {
		p.addAt(it, ErrType, "want an integer, got %s", typeName(it.val))
		return 0, false
	}
	if v < int64(lo) || v > int64(hi) {
		want := fmt.Sprintf("%d to %d", lo, hi)
		if hi >= maxInt {
			want = fmt.Sprintf("%s >= %d", it.name, lo)
		}
		p.addAt(it, ErrInvalid, "%d is out of range: want %s", v, want)
		return 0, false
	}
	return int(v), true
}

// intTo sets *dst to the integer of it, when it is one in [lo, hi].
func (p *parser) intTo(dst *int, it *item, lo, hi int) {
	if v, ok := p.int(it, lo, hi); ok {
		*dst = v
	}
}

func (p *parser) data(t *item, d *Data) {
	if !p.table(t) {
		return
	}
	var synthetic []*item // keys of synthetic data only
	defer func() {
		if d.Source == "synthetic" || !slices.Contains(sources, d.Source) {
			return
		}
		for _, it := range synthetic {
			why := ""
			if it.name == "seed" {
				why = " (the top-level seed seeds the trials, never the data)"
			}
			p.addAt(it, ErrConflict, "applies to source synthetic only%s", why)
		}
	}()
	for _, it := range t.kids {
		switch it.name {
		case "source":
			d.Source, _ = p.enum(it, "source", sources)
		case "path":
			d.Path, _ = p.str(it)
			if d.Path == "" {
				p.addAt(it, ErrInvalid, "empty path: leave it out for the source's default")
			}
		case "train":
			p.intTo(&d.Train, it, 0, maxInt)
		case "val":
			p.intTo(&d.Val, it, 0, maxInt)
		case "test":
			p.intTo(&d.Test, it, 0, maxInt)
		case "seed":
			if v, ok := p.int(it, 0, 1<<63-1); ok {
				d.Seed = uint64(v)
			}
			synthetic = append(synthetic, it)
		case "classes":
			p.intTo(&d.Classes, it, 2, 1<<16)
			synthetic = append(synthetic, it)
		case "dim":
			p.intTo(&d.Dim, it, 1, 1<<24)
			synthetic = append(synthetic, it)
		default:
			p.unknown(it, "[data]", dataKeys)
		}
	}
}

func (p *parser) checkData(t *item, s *Spec) {
	d := &s.Data
	line := 0
	if t != nil {
		line = t.line
	}
	files := d.Source != "embedded" && d.Source != "synthetic"
	if files && d.Path != "" {
		d.Path = resolvePath(p.file, d.Path)
	}
	switch {
	case !slices.Contains(sources, d.Source):
		// reported already
	case !files && d.Path != "":
		p.add(line, "data.path", ErrConflict, "source %s reads no files: leave path out", d.Source)
	case files && d.Path == "":
		d.Path = DefaultPath(d.Source)
		if d.Path == "" {
			p.add(line, "data.path", ErrMissing, "required for source %s: the directory that holds its files", d.Source)
		}
	}
}

// resolvePath resolves a relative data path against the directory of the
// spec file that names it, so that a spec means the same data whatever the
// working directory. Absolute paths and "~/..." (the data package expands
// it) are kept as they are.
func resolvePath(file, path string) string {
	if filepath.IsAbs(path) || path == "~" || strings.HasPrefix(path, "~/") || file == "" {
		return path
	}
	abs, err := filepath.Abs(filepath.Join(filepath.Dir(file), path))
	if err != nil {
		return path // no working directory: the data package reports it
	}
	return abs
}

// config reads a [model] or [train] table into c.
func (p *parser) config(t *item, c *Config) {
	if !p.table(t) {
		return
	}
	keys := modelKeys
	if t.name == "train" {
		keys = trainKeys
	}
	for _, it := range t.kids {
		def := lookupParam(it.name)
		if def == nil || def.section != t.name {
			p.unknown(it, "["+t.name+"]", keys)
			continue
		}
		p.fixed[def.name] = it
		if v, ok := p.value(def, it, it.val); ok {
			def.set(c, v)
		} else {
			p.badFixed[def.name] = true
		}
	}
}

// value reads and checks one value of a parameter. The problem, if any, is
// reported at it.
func (p *parser) value(def *paramDef, it *item, raw any) (any, bool) {
	var v any
	switch def.kind {
	case kindFloat:
		v = toFloat(raw)
	case kindScale:
		if x, ok := raw.(string); ok {
			v = x
		} else {
			v = toFloat(raw)
		}
	case kindDropout:
		v = toFloat(raw)
		if xs, ok := raw.([]any); ok {
			ps := make([]float64, len(xs))
			for i, x := range xs {
				f := toFloat(x)
				if f == nil {
					p.addAt(it, ErrType, "want %s, got %s in the list", def.want(), typeName(x))
					return nil, false
				}
				ps[i] = f.(float64)
			}
			v = ps
			if len(ps) == 1 {
				v = ps[0] // one value for every layer, as a number
			}
		}
	case kindInt:
		if x, ok := raw.(int64); ok {
			if x < -maxInt || x > maxInt {
				p.addAt(it, ErrInvalid, "%d is out of range: want at most %d", x, maxInt)
				return nil, false
			}
			v = int(x)
		}
	case kindString:
		if x, ok := raw.(string); ok {
			v = x
		}
	case kindHidden:
		if xs, ok := raw.([]any); ok {
			h := make([]int, 0, len(xs))
			for _, x := range xs {
				n, ok := x.(int64)
				if !ok {
					h = nil
					break
				}
				if n > maxInt {
					p.addAt(it, ErrInvalid, "hidden layer size %d is out of range: want at most %d", n, maxInt)
					return nil, false
				}
				h = append(h, int(max(n, -1)))
			}
			if h != nil {
				v = h
			}
		}
	}
	if v == nil {
		p.addAt(it, ErrType, "want %s, got %s", def.want(), typeName(raw))
		return nil, false
	}
	if msg := def.check(v); msg != "" {
		p.addAt(it, ErrInvalid, "%s", msg)
		return nil, false
	}
	return v, true
}

// toFloat returns a TOML number as a float64 (no negative zero: -0 and 0
// are one value), or nil.
func toFloat(raw any) any {
	switch x := raw.(type) {
	case float64:
		if x == 0 {
			x = 0
		}
		return x
	case int64:
		return float64(x)
	}
	return nil
}

func (p *parser) search(t *item, s *Search) {
	if !p.table(t) {
		return
	}
	for _, it := range t.kids {
		switch it.name {
		case "method":
			s.Method, _ = p.enum(it, "method", methods)
		case "metric":
			s.Metric, _ = p.enum(it, "metric", metrics)
		case "trials":
			p.intTo(&s.Trials, it, 1, maxSteps)
		case "max_trials":
			p.intTo(&s.MaxTrials, it, 1, maxSteps)
		case "keep":
			p.intTo(&s.Keep, it, 1, maxInt)
		case "sampler":
			s.Sampler, _ = p.enum(it, "sampler", samplers)
		case "budget":
			if v, ok := it.val.(string); ok {
				d, err := ParseBudget(v)
				if err != nil {
					p.addAt(it, ErrInvalid, "%s", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
				} else {
					s.Budget = d
				}
			} else {
				p.addAt(it, ErrType, "want a string such as \"10m\", got %s", typeName(it.val))
			}
		case "fuse":
			if v, ok := it.val.(bool); ok {
				s.NoFuse = !v
			} else {
				p.addAt(it, ErrType, "want true or false, got %s", typeName(it.val))
			}
		case "group_size":
			p.intTo(&s.GroupSize, it, 1, maxGroupSize)
		case "asha", "hyperband":
			if p.table(it) {
				p.rungs[it.name] = it
			}
		case "params":
			if !p.table(it) {
				continue
			}
			p.searched = make(map[string]*item)
			for _, pi := range it.kids {
				def := lookupParam(pi.name)
				if def == nil {
					p.unknownParam(pi)
					p.badParams = true
					continue
				}
				p.searched[def.name] = pi
				if prm, ok := p.param(def, pi); ok {
					s.Params = append(s.Params, prm)
				} else {
					p.badParams = true
				}
			}
		default:
			p.unknown(it, "[search]", searchKeys)
		}
	}
}

func (p *parser) unknownParam(it *item) {
	switch {
	case closest(it.name, paramKeys) != "":
		p.addAt(it, ErrUnknownParam, "unknown parameter%s", didYouMean(it.name, paramKeys))
	case slices.Contains(dataKeys, it.name) || slices.Contains(searchKeys, it.name) || slices.Contains(topKeys, it.name):
		p.addAt(it, ErrUnknownParam, "%s cannot be searched: only [model] and [train] keys can", it.name)
	default:
		p.addAt(it, ErrUnknownParam, "unknown parameter (searchable: %s)", strings.Join(paramKeys, ", "))
	}
}
