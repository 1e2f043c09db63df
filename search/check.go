package search

import (
	"fmt"
	"slices"
	"strings"
)

// checkConfig checks what single keys cannot show: iterations against
// epochs, settings without effect, warmup against epochs and dropout
// against hidden.
func (p *parser) checkConfig(s *Spec) {
	// Exactly one of iterations and epochs, fixed or searched.
	var given []*item
	for _, it := range []*item{p.fixed["iterations"], p.fixed["epochs"], p.searched["iterations"], p.searched["epochs"]} {
		if it != nil {
			given = append(given, it)
		}
	}
	slices.SortStableFunc(given, func(a, b *item) int { return a.line - b.line })
	for _, it := range given[min(1, len(given)):] {
		if it.name == given[0].name {
			continue // fixed and searched: the searched value overrides
		}
		p.addAt(it, ErrConflict, "conflicts with %s (line %d): give iterations or epochs, not both", given[0].key, given[0].line)
	}
	if p.fixed["epochs"] != nil || p.searched["epochs"] != nil {
		s.Base.Iterations = 0
	}

	p.checkUnused(s)
	p.checkWarmup(s)
	p.checkDropout(s)
}

// checkUnused reports settings that have no effect with the sweep's
// optimizers or learning rate schedules (momentum with sgd, warmup_epochs
// with the step schedule): a mistake.
func (p *parser) checkUnused(s *Spec) {
	for i := range params {
		def := &params[i]
		key := def.with.key
		if key == "" || p.badFixed[key] || (p.searched[key] != nil && s.Search.param(key) == nil) {
			continue // always used, or the sweep's values of key have problems of their own
		}
		vals := s.values(key)
		if def.usedBy(vals) {
			continue
		}
		how := fmt.Sprintf("%s %s", key, quote(vals[0]))
		if len(vals) > 1 {
			how = fmt.Sprintf("%ss %s", key, quoteList(vals, " and "))
		} else if p.fixed[key] == nil && p.searched[key] == nil {
			how = "the default " + how
		}
		users := fmt.Sprintf("%s %s", key, quote(def.with.values[0]))
		if len(def.with.values) > 1 {
			users = fmt.Sprintf("%ss %s", key, quoteList(def.with.values, " and "))
		}
		for _, it := range []*item{p.fixed[def.name], p.searched[def.name]} {
			if it != nil {
				p.addAt(it, ErrConflict, "has no effect with %s: only %s use%s it", how, users, verbS(len(def.with.values) == 1))
			}
		}
	}
}

// checkWarmup: a cosine schedule's warmup must end before training does,
// when the spec trains by epochs, for every value of warmup_epochs and of
// epochs the sweep may combine. Training by iterations, the number of
// epochs depends on the size of the data, which the spec need not fix:
// only warmup_epochs >= 0 is checked.
func (p *parser) checkWarmup(s *Spec) {
	_, warm, ok := p.intBounds(s, "warmup_epochs")
	if !ok || warm == 0 || !lookupParam("warmup_epochs").usedBy(s.values("lr_schedule")) {
		return
	}
	epochs, _, ok := p.intBounds(s, "epochs")
	if !ok || epochs == 0 || warm < epochs {
		return
	}
	what, than := fmt.Sprint(warm), fmt.Sprintf("epochs = %d", epochs)
	if prm := s.Search.param("warmup_epochs"); prm != nil && prm.Len() > 1 {
		what = fmt.Sprintf("up to %d", warm)
	}
	if it := p.searched["epochs"]; it != nil {
		than = fmt.Sprintf("%d, the fewest epochs of %s (line %d)", epochs, it.key, it.line)
	}
	it := p.searched["warmup_epochs"]
	if it == nil {
		it = p.fixed["warmup_epochs"]
	}
	p.addAt(it, ErrInvalid, "%s is not less than %s: the warmup must end before the training does", what, than)
}

// intBounds returns the least and the largest of the values the sweep
// gives the integer key: its searched values, or its fixed one. It returns
// false when those values have problems of their own.
func (p *parser) intBounds(s *Spec, key string) (lo, hi int, ok bool) {
	if p.searched[key] == nil {
		v, _ := lookupParam(key).get(&s.Base).(int)
		return v, v, !p.badFixed[key]
	}
	prm := s.Search.param(key)
	switch {
	case prm == nil:
		return 0, 0, false
	case prm.Dist != "": // int_uniform: its steps, if any, include both ends
		return int(prm.Min), int(prm.Max), true
	}
	lo, hi = maxInt, 0
	for _, v := range prm.Values {
		lo, hi = min(lo, v.(int)), max(hi, v.(int))
	}
	return lo, hi, true
}

// checkDropout checks every list of drop probabilities, one per hidden
// layer, against every hidden value the sweep may combine it with: a grid
// or a random search pairs each searched value with each other.
func (p *parser) checkDropout(s *Spec) {
	hidden, hiddenItem := [][]int{s.Base.Hidden}, p.fixed["hidden"]
	if it := p.searched["hidden"]; it != nil {
		prm := s.Search.param("hidden")
		if prm == nil {
			return // its problems are reported
		}
		hidden, hiddenItem = nil, it
		for _, v := range prm.Values {
			hidden = append(hidden, v.([]int))
		}
	} else if p.badFixed["hidden"] {
		return
	}
	var lists []any
	dropItem := p.searched["dropout"]
	if dropItem != nil {
		if prm := s.Search.param("dropout"); prm != nil {
			lists = prm.Values
		}
	} else if dropItem = p.fixed["dropout"]; dropItem != nil {
		lists = []any{lookupParam("dropout").get(&s.Base)}
	}
	where := " (the default)"
	if hiddenItem != nil {
		where = fmt.Sprintf(" (%s, line %d)", hiddenItem.key, hiddenItem.line)
	}
	for _, v := range lists {
		d, ok := v.([]float64)
		if !ok {
			continue // one value for every layer
		}
		var bad []string
		for _, h := range hidden {
			if len(h) != len(d) {
				bad = append(bad, fmt.Sprintf("%s has %d layer%s", FormatValue(h), len(h), plural(len(h))))
			}
		}
		if len(bad) > 0 {
			p.addAt(dropItem, ErrInvalid, "%s has %d drop probabilities, but hidden %s%s: give one per hidden layer, or one number for all",
				FormatValue(d), len(d), strings.Join(bad, " and "), where)
		}
	}
}

// param returns the searched parameter name, or nil.
func (s *Search) param(name string) *Param {
	for i := range s.Params {
		if s.Params[i].Name == name {
			return &s.Params[i]
		}
	}
	return nil
}

// checkSearch checks the method against the parameters and the number of
// trials against max_trials.
func (p *parser) checkSearch(t *item, s *Spec) {
	at := func(name string) *item {
		if t == nil {
			return &item{key: "search." + name}
		}
		for _, it := range t.kids {
			if it.name == name {
				return it
			}
		}
		return &item{key: "search." + name, line: t.line}
	}
	sr := &s.Search
	// Sizes of a space with mistakes in it would only mislead.
	sized := !p.badParams
	switch sr.Method {
	case "grid":
		if sr.Trials > 0 {
			p.addAt(at("trials"), ErrConflict, "only random search takes trials: a grid has one trial per combination of values")
		}
		for _, prm := range sr.Params {
			if prm.Dist != "" && prm.Steps == 0 {
				p.addAt(p.searched[prm.Name], ErrMissing, "a range on a grid needs steps = N (or use method = \"random\")")
			}
		}
		if n, formula := gridSize(sr.Params); sized && n > sr.MaxTrials {
			p.addAt(at("params"), ErrTooManyTrials, "the grid has %s trials, more than max_trials = %d: search fewer values or raise search.max_trials", formula, sr.MaxTrials)
		}
	case "random", "asha", "hyperband":
		switch {
		case sr.Trials == 0:
			if it := at("trials"); it.val == nil && sr.Budget == 0 {
				p.addAt(it, ErrMissing, "%s needs trials = N or a budget", methodName(sr.Method))
			}
		case sr.Trials > sr.MaxTrials:
			p.addAt(at("trials"), ErrTooManyTrials, "%d trials is more than max_trials = %d: ask for fewer or raise search.max_trials", sr.Trials, sr.MaxTrials)
		case !sized:
		default:
			if n, formula := spaceSize(sr.Params); n > 0 && sr.Trials > n {
				p.addAt(at("trials"), ErrInvalid, "random search asks for %d distinct trials, but the space has only %s: ask for fewer or use method = \"grid\"", sr.Trials, formula)
			}
		}
	}
	p.checkSampler(at("sampler"), s)
	p.checkRungs(s, at("method"))
	p.checkFuse(s, at)
}

// checkFuse: groups are a grid's or a random search's; group_size says
// how large they are, so it needs them.
func (p *parser) checkFuse(s *Spec, at func(string) *item) {
	sr := &s.Search
	fuse, size := at("fuse"), at("group_size")
	switch {
	case fuse.val == true && sr.Adaptive():
		p.addAt(fuse, ErrConflict, "%s decides its trials as it runs, one at a time: fused groups are for grid and random search with trials = N (leave fuse out)", adaptiveName(sr))
	case size.val != nil && sr.NoFuse:
		p.addAt(size, ErrConflict, "group_size sizes fused groups, and fuse = false turns them off: leave one out")
	case size.val != nil && !sr.Fused():
		p.addAt(size, ErrConflict, "group_size sizes fused groups, which are for grid and random search with trials = N")
	}
}

// adaptiveName names what makes a search adaptive, for messages.
func adaptiveName(sr *Search) string {
	switch {
	case sr.Method == "asha" || sr.Method == "hyperband":
		return sr.Method
	case sr.Sampler == "tpe":
		return "tpe sampling"
	}
	return "random search bounded by a budget alone"
}

func methodName(m string) string {
	if m == "random" {
		return "random search"
	}
	return m
}

// checkSampler: a sampler draws new configurations, which a grid has not.
func (p *parser) checkSampler(it *item, s *Spec) {
	sr := &s.Search
	switch {
	case sr.Method == "grid" && it.val != nil && sr.Sampler == "tpe":
		p.addAt(it, ErrConflict, "tpe draws new configurations and a grid has none to draw: use method = \"random\", \"asha\" or \"hyperband\"")
	case sr.Method == "grid":
		sr.Sampler = ""
	case sr.Sampler == "":
		sr.Sampler = "random"
	}
}

// checkRungs reads [search.asha] or [search.hyperband] into the rungs of
// an adaptive method, whose resource is the unit the spec trains by.
// method is the method's item, for the line of problems of a missing table.
func (p *parser) checkRungs(s *Spec, method *item) {
	sr := &s.Search
	for name, t := range p.rungs {
		if name != sr.Method {
			p.addAt(t, ErrConflict, "applies to method %s only", quote(name))
		}
	}
	if sr.Method != "asha" && sr.Method != "hyperband" {
		return
	}
	for _, k := range []string{"epochs", "iterations"} {
		if it := p.searched[k]; it != nil {
			p.addAt(it, ErrConflict, "cannot be searched with method %s: %s decides how long each trial trains", quote(sr.Method), sr.Method)
		}
	}
	line := method.line
	t := p.rungs[sr.Method]
	if t != nil {
		line = t.line
	}
	by := ""
	switch {
	case p.fixed["epochs"] != nil:
		by = "epochs"
	case p.fixed["iterations"] != nil:
		by = "iterations"
	default:
		p.add(line, "search."+sr.Method, ErrMissing, "needs train.epochs or train.iterations: the rungs are fractions of it")
	}
	sr.Eta, sr.MinUnit = DefaultEta, by
	var minItem *item
	if t != nil {
		for _, it := range t.kids {
			switch it.name {
			case "eta":
				p.intTo(&sr.Eta, it, 2, 1000)
			case "min_epochs", "min_iterations":
				if by != "" && it.name != "min_"+by {
					p.addAt(it, ErrConflict, "the spec trains by %s: give min_%s", by, by)
					continue
				}
				minItem = it
				p.intTo(&sr.Min, it, 1, maxInt)
			default:
				p.unknown(it, "[search."+sr.Method+"]", rungKeys)
			}
		}
	}
	max := s.Base.Epochs
	if by == "iterations" {
		max = s.Base.Iterations
	}
	switch {
	case by == "":
	case minItem == nil && by == "iterations":
		p.add(line, "search."+sr.Method+".min_iterations", ErrMissing, "required when the spec trains by iterations: the first rung")
	case minItem == nil:
		sr.Min = DefaultMinEpochs
	}
	if by != "" && sr.Min > max {
		it := minItem
		if it == nil {
			it = &item{key: "search." + sr.Method + ".min_" + by, line: line}
		}
		p.addAt(it, ErrInvalid, "%d is above train.%s = %d: the first rung must be at most the last", sr.Min, by, max)
	}
}

// gridSize returns the number of grid points, saturated above maxSteps, and
// how it comes about: "4 x 2 x 3 = 24".
func gridSize(prms []Param) (int, string) {
	n := 1
	factors := make([]string, 0, len(prms))
	for _, prm := range prms {
		n = min(n*max(prm.Len(), 1), maxSteps+1)
		factors = append(factors, fmt.Sprint(prm.Len()))
	}
	if len(factors) < 2 {
		return n, fmt.Sprint(n)
	}
	size := fmt.Sprint(n)
	if n > maxSteps {
		size = fmt.Sprintf("more than %d", maxSteps)
	}
	return n, strings.Join(factors, " x ") + " = " + size
}

// spaceSize is gridSize for a space of finite parameters, and 0 when a
// parameter is a continuous range.
func spaceSize(prms []Param) (int, string) {
	for _, prm := range prms {
		if prm.Len() == 0 {
			return 0, ""
		}
	}
	return gridSize(prms)
}

// plural returns the "s" of a noun counting n.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// verbS returns the "s" of a verb in the third person singular.
func verbS(singular bool) string {
	if singular {
		return "s"
	}
	return ""
}
