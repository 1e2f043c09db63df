package html

import (
	"cmp"
	"math"
	"slices"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// study is an Input digested once for every figure.
type study struct {
	in       *Input
	metric   string // the sweep's metric: val_acc or val_loss
	maximize bool
	ranked   []results.Trial // best first, by results.Less
	y        []float64       // the metric of ranked[i]; NaN when it has none (hasMetric)
	best     int             // index in ranked of the best trial (selected, or the leader); -1 if none
	final    bool            // best is the selected best trial (Input.Best)
	params   []*param
	topK     int
}

// param is one searched parameter and the trials' values of it.
type param struct {
	name string
	kind scaleKind
	lo   float64 // numeric: the domain (the spec's range, else the values')
	hi   float64
	dist string   // the spec's distribution: uniform, log_uniform, int_uniform; "" for a list
	cats []string // categorical: the values, in axis order
	// x holds the value of each ranked trial: a number, or a category
	// index on a categorical axis; NaN when the trial has no value.
	x []float64
}

func (p *param) axis(pad float64) axis {
	if p.kind == categorical {
		return newCatAxis(p.cats)
	}
	return newNumAxis(p.kind, p.lo, p.hi, pad)
}

// title is the title of p's axis: its name and scale.
func (p *param) title() string { return p.name + " (" + p.scaleName() + ")" }

func (p *param) scaleName() string {
	switch p.kind {
	case logScale:
		return "log scale"
	case categorical:
		return "categories"
	}
	return "linear scale"
}

func newStudy(in *Input) *study {
	s := &study{in: in, metric: in.Sweep.Metric, maximize: in.Sweep.Maximize(), best: -1, topK: in.TopK}
	if s.metric == "" {
		s.metric = "val_acc"
	}
	if s.topK <= 0 {
		s.topK = DefaultTopK
	}
	s.ranked = slices.Clone(in.Trials)
	results.Rank(s.ranked, s.maximize)
	s.y = make([]float64, len(s.ranked))
	for i := range s.ranked {
		s.y[i] = math.NaN()
		if report.HasMetrics(&s.ranked[i]) {
			s.y[i] = metricOf(&s.ranked[i], s.metric)
		}
	}
	if in.Best != nil {
		for i := range s.ranked {
			if s.ranked[i].Number == in.Best.Trial {
				s.best, s.final = i, true
			}
		}
	}
	if s.best < 0 && len(s.ranked) > 0 && s.ranked[0].Status == results.Done {
		s.best = 0
	}
	s.params = s.buildParams()
	return s
}

// buildParams lists the searched parameters: the spec's, in its order,
// then any other a trial has.
func (s *study) buildParams() []*param {
	var specParams []search.Param
	if s.in.Spec != nil {
		specParams = s.in.Spec.Search.Params
	}
	var names []string
	for _, p := range specParams {
		names = append(names, p.Name)
	}
	for _, t := range s.ranked {
		for _, p := range t.Params {
			if !slices.Contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
	}
	out := make([]*param, 0, len(names))
	for _, name := range names {
		var sp *search.Param
		for i := range specParams {
			if specParams[i].Name == name {
				sp = &specParams[i]
			}
		}
		out = append(out, s.buildParam(name, sp))
	}
	return out
}

func (s *study) buildParam(name string, sp *search.Param) *param {
	p := &param{name: name, x: make([]float64, len(s.ranked))}
	vals := make([]any, len(s.ranked))
	numeric, seen := true, false
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, t := range s.ranked {
		v, ok := t.Params.Get(name)
		if !ok {
			continue
		}
		vals[i], seen = v, true
		x, isNum := v.(float64)
		if !isNum {
			numeric = false
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	switch {
	case sp != nil && sp.Dist == "log_uniform":
		p.kind, p.dist, p.lo, p.hi = logScale, sp.Dist, sp.Min, sp.Max
	case sp != nil && sp.Dist != "":
		p.kind, p.dist, p.lo, p.hi = linear, sp.Dist, sp.Min, sp.Max
	case sp == nil && numeric && seen:
		p.kind, p.lo, p.hi = linear, lo, hi
		if lo > 0 && hi/lo >= 100 {
			p.kind = logScale
		}
	default:
		p.kind = categorical
	}
	if p.kind != categorical && !numeric {
		p.kind = categorical // a value the range cannot hold: show what is there
	}
	if p.kind != categorical {
		p.lo, p.hi = math.Min(p.lo, lo), math.Max(p.hi, hi)
		for i, v := range vals {
			p.x[i] = math.NaN()
			if x, ok := v.(float64); ok {
				p.x[i] = x
			}
		}
		return p
	}
	p.cats = categories(vals, sp, numeric)
	index := make(map[string]int, len(p.cats))
	for i, c := range p.cats {
		index[c] = i
	}
	for i, v := range vals {
		p.x[i] = math.NaN()
		if v != nil {
			p.x[i] = float64(index[report.HumanValue(v)])
		}
	}
	return p
}

// categories are the distinct values of vals as text: numbers in
// ascending order, anything else in the spec's order, then as they come.
func categories(vals []any, sp *search.Param, numeric bool) []string {
	var cats []string
	if numeric {
		var xs []float64
		for _, v := range vals {
			if x, ok := v.(float64); ok && !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
		slices.Sort(xs)
		for _, x := range xs {
			if c := report.HumanValue(x); !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
		return cats
	}
	if sp != nil {
		for _, v := range sp.Values {
			if c := report.HumanValue(v); !slices.Contains(cats, c) && slices.ContainsFunc(vals, func(w any) bool { return w != nil && report.HumanValue(w) == c }) {
				cats = append(cats, c)
			}
		}
	}
	for _, v := range vals {
		if v == nil {
			continue
		}
		if c := report.HumanValue(v); !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	return cats
}

// yRange is the metric's axis range: over the trials with a finite
// metric that are done, paused or pruned (a diverged trial's value may be
// far off: it is drawn at the edge when outside), or over every finite
// value if there are none of those. Accuracies get at least [lo, hi] in
// [0, 1].
func (s *study) yRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for pass := 0; pass < 2 && lo > hi; pass++ {
		for i, y := range s.y {
			if !finite(y) || (pass == 0 && s.ranked[i].Status == results.Diverged) {
				continue
			}
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if lo > hi {
		return 0, 1
	}
	if s.metric == "val_acc" {
		lo, hi = math.Max(0, lo), math.Min(1, hi)
	}
	return lo, hi
}

// startOrder returns the indexes (into ranked) of the trials that started,
// by start time, then number.
func (s *study) startOrder() []int {
	var idx []int
	for i, t := range s.ranked {
		if !t.Started.IsZero() {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		ta, tb := &s.ranked[a], &s.ranked[b]
		if c := ta.Started.Compare(tb.Started); c != 0 {
			return c
		}
		return cmp.Compare(ta.Number, tb.Number)
	})
	return idx
}

// counts are the trials by status, in results.Statuses order.
func (s *study) counts() map[results.Status]int {
	m := map[results.Status]int{}
	for _, t := range s.ranked {
		m[t.Status]++
	}
	return m
}

// specParam is the spec's parameter name, nil without a spec or if it is
// not there.
func (s *study) specParam(name string) *search.Param {
	if s.in.Spec == nil {
		return nil
	}
	for i := range s.in.Spec.Search.Params {
		if s.in.Spec.Search.Params[i].Name == name {
			return &s.in.Spec.Search.Params[i]
		}
	}
	return nil
}
