package html

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sweep-dev/sweep/results"
)

// importance is the parameters' importance and how it was estimated.
type importance struct {
	method string    // one line: which estimator, on which trials
	short  string    // the estimator, in a few words
	names  []string  // the parameters, in the spec's order
	share  []float64 // each one's share, summing to 1 with rest (when the method has one)
	rest   float64   // grid ANOVA: the variance no main effect explains (interactions)
	table  []anovaRow
	note   string // why there is no estimate, when share is nil
}

// anovaRow is a parameter's line of a main-effect ANOVA table.
type anovaRow struct {
	name   string
	levels int
	ss     float64 // sum of squares of its marginal means about the grand mean, weighted by counts
	share  float64 // ss / total
}

// bars are imp's shares, largest first, then the interactions' (a grid
// ANOVA's rest) when there is one.
func (imp importance) bars() []Bar {
	var bars []Bar
	for j, n := range imp.names {
		bars = append(bars, Bar{Name: n, Share: imp.share[j]})
	}
	slices.SortStableFunc(bars, func(a, b Bar) int {
		switch {
		case a.Share > b.Share:
			return -1
		case a.Share < b.Share:
			return 1
		}
		return 0
	})
	if imp.rest > 0 {
		bars = append(bars, Bar{Name: "interactions (rest)", Share: imp.rest, Rest: true})
	}
	return bars
}

// scored returns the indexes (into ranked) of the trials importance is
// estimated on: done or diverged (trained to their end) with a finite
// metric.
func (s *study) scored() []int {
	var idx []int
	for i, t := range s.ranked {
		if (t.Status == results.Done || t.Status == results.Diverged) && finite(s.y[i]) {
			idx = append(idx, i)
		}
	}
	return idx
}

// importance estimates the parameters' importance: an exact main-effect
// ANOVA for a grid, PED-ANOVA otherwise.
func (s *study) importance() importance {
	imp := importance{}
	for _, p := range s.params {
		imp.names = append(imp.names, p.name)
	}
	idx := s.scored()
	switch {
	case len(s.params) == 0:
		imp.note = "nothing was searched"
		return imp
	case len(idx) < 3:
		imp.note = fmt.Sprintf("too few trials trained to their end with a finite %s (%d; at least 3 are needed)", s.metric, len(idx))
		return imp
	}
	if s.in.Spec != nil && s.in.Spec.Search.Method == "grid" {
		return s.gridANOVA(imp, idx)
	}
	return s.pedANOVA(imp, idx)
}

// levels returns the level (category, or distinct value) of each trial of
// idx for parameter p, and the number of levels.
func levels(p *param, idx []int) ([]int, int) {
	ids := map[float64]int{}
	out := make([]int, len(idx))
	for k, i := range idx {
		x := p.x[i]
		if math.IsNaN(x) {
			x = math.Inf(-1) // "no value" is a level of its own
		}
		id, ok := ids[x]
		if !ok {
			id = len(ids)
			ids[x] = id
		}
		out[k] = id
	}
	return out, len(ids)
}

// gridANOVA is the main-effect analysis of variance of a grid: each
// parameter's share is the sum of squares of its marginal means about the
// grand mean (weighted by their counts) over the total sum of squares.
// On a full grid (every cell once) the main effects are orthogonal and
// the shares plus the interactions' sum to 1 exactly; on an incomplete
// one they are not, and the method says so.
func (s *study) gridANOVA(imp importance, idx []int) importance {
	n := float64(len(idx))
	var mean float64
	for _, i := range idx {
		mean += s.y[i]
	}
	mean /= n
	var total float64
	for _, i := range idx {
		total += (s.y[i] - mean) * (s.y[i] - mean)
	}
	cells := 1
	keys := map[string]bool{}
	lv := make([][]int, len(s.params))
	for j, p := range s.params {
		var nl int
		lv[j], nl = levels(p, idx)
		want := nl
		if sp := s.specParam(p.name); sp != nil && sp.Len() > 0 {
			want = max(nl, sp.Len())
		}
		cells *= want
	}
	for k := range idx {
		var key strings.Builder
		for j := range s.params {
			fmt.Fprintf(&key, "%d,", lv[j][k])
		}
		keys[key.String()] = true
	}
	full := len(keys) == len(idx) && len(idx) == cells
	var explained float64
	for j, p := range s.params {
		_, nl := levels(p, idx)
		sum, cnt := make([]float64, nl), make([]float64, nl)
		for k, i := range idx {
			sum[lv[j][k]] += s.y[i]
			cnt[lv[j][k]]++
		}
		var ss float64
		for l := range sum {
			d := sum[l]/cnt[l] - mean
			ss += cnt[l] * d * d
		}
		row := anovaRow{name: p.name, levels: nl, ss: ss}
		if total > 0 {
			row.share = ss / total
		}
		explained += row.share
		imp.table = append(imp.table, row)
		imp.share = append(imp.share, row.share)
	}
	if total > 0 {
		imp.rest = math.Max(0, 1-explained)
	}
	if full {
		imp.short = "exact main-effect ANOVA of the full grid"
		imp.method = fmt.Sprintf("exact main-effect ANOVA of the full grid (%d cells): each parameter's share of the variance of %s is the variance of its marginal means; the rest is interactions", cells, s.metric)
	} else {
		imp.short = "main-effect ANOVA of an incomplete grid (approximate)"
		imp.method = fmt.Sprintf("main-effect ANOVA of an incomplete grid (%d of %d cells have a final %s): the marginal means of an unbalanced design are not orthogonal, so the shares are approximate", len(idx), cells, s.metric)
		imp.rest = 0
	}
	if total == 0 {
		imp.note = fmt.Sprintf("every trial has the same %s: no variance to explain", s.metric)
		imp.share = nil
	}
	return imp
}

// PED-ANOVA's settings, Optuna's defaults (PedAnovaImportanceEvaluator).
const (
	pedQuantile   = 0.1 // the top 10% of the trials
	pedMinTop     = 2   // at least this many in the top
	pedSteps      = 50  // a numeric domain is discretised into this many points
	pedPriorWeigh = 1.0 // the weight of the prior component of each estimator
)

// pedANOVA is PED-ANOVA (Watanabe, Bansal and Hutter, IJCAI 2023; the
// estimator optuna-dashboard uses): a parameter matters as much as the
// distribution of its values among the top trials (top 10% of the metric)
// departs from their distribution among all trials, as the Pearson
// divergence of two 1-D Parzen estimators (Scott's bandwidth, on a 50-point
// grid of the range, in log space for a log axis; per value for
// categories). The shares are normalised to sum to 1.
func (s *study) pedANOVA(imp importance, idx []int) importance {
	loss := make([]float64, len(idx))
	for k, i := range idx {
		loss[k] = s.y[i]
		if s.maximize {
			loss[k] = -loss[k]
		}
	}
	sorted := slices.Clone(loss)
	slices.Sort(sorted)
	cut := math.Max(sorted[pedMinTop-1], sorted[max(int(math.Ceil(pedQuantile*float64(len(sorted))))-1, 0)])
	var top []int
	for k, i := range idx {
		if loss[k] <= cut {
			top = append(top, i)
		}
	}
	var sum float64
	for _, p := range s.params {
		all, ntop := pedCounts(p, idx), pedCounts(p, top)
		var d float64
		if len(all) > 1 {
			local, best := parzen(all, p.kind == categorical), parzen(ntop, p.kind == categorical)
			for g := range local {
				pl, pt := local[g]+1e-12, best[g]+1e-12
				d += pl * (pt/pl - 1) * (pt/pl - 1)
			}
		}
		imp.share = append(imp.share, d)
		sum += d
	}
	for j := range imp.share {
		if sum > 0 {
			imp.share[j] /= sum
		} else {
			imp.share[j] = 1 / float64(len(imp.share))
		}
	}
	imp.short = "PED-ANOVA"
	imp.method = fmt.Sprintf("PED-ANOVA (as optuna-dashboard): how much each parameter's distribution among the top %d of %d trials (the best 10%% by %s, at least 2) departs from its distribution among all of them", len(top), len(idx), s.metric)
	if len(top) == len(idx) {
		imp.note = "every trial is in the top: the estimate gives every parameter the same share"
	}
	return imp
}

// pedCounts counts the trials of idx at each point of p's grid: its
// categories, or pedSteps points over its (log) range. Trials without a
// value are not counted.
func pedCounts(p *param, idx []int) []float64 {
	if p.kind == categorical {
		c := make([]float64, len(p.cats))
		for _, i := range idx {
			if x := p.x[i]; !math.IsNaN(x) {
				c[int(x)]++
			}
		}
		return c
	}
	lo, hi := p.lo, p.hi
	scale := func(v float64) float64 { return v }
	if p.kind == logScale && lo > 0 {
		scale = math.Log
	}
	lo, hi = scale(lo), scale(hi)
	steps := pedSteps
	if p.dist == "int_uniform" {
		steps = min(steps, int(p.hi-p.lo)+1)
	}
	c := make([]float64, steps)
	if hi <= lo {
		for _, i := range idx {
			if !math.IsNaN(p.x[i]) {
				c[0]++
			}
		}
		return c[:1]
	}
	step := (hi - lo) / float64(steps-1)
	for _, i := range idx {
		x := p.x[i]
		if math.IsNaN(x) {
			continue
		}
		k := int(math.Ceil((scale(x) - step/2 - lo) / step))
		c[min(max(k, 0), steps-1)]++
	}
	return c
}

// parzen returns the probability of each grid point under a Parzen
// estimator of counts: one component per occupied point (weighted by its
// count) plus a prior, broad one, weighted pedPriorWeigh. Numeric grids
// take discretised truncated normals with Scott's bandwidth; categories
// take Optuna's categorical kernel (the observed value, plus the prior's
// weight spread over every value).
func parzen(counts []float64, categorical bool) []float64 {
	n := len(counts)
	var obs []int
	var total float64
	for k, c := range counts {
		if c > 0 {
			obs = append(obs, k)
			total += c
		}
	}
	pdf := make([]float64, n)
	if total == 0 { // no observation: the prior alone, uniform enough
		for g := range pdf {
			pdf[g] = 1 / float64(n)
		}
		return pdf
	}
	wsum := total + pedPriorWeigh
	if categorical {
		fill := pedPriorWeigh / float64(len(obs)+1)
		for _, k := range obs {
			for g := range pdf {
				v := fill
				if g == k {
					v++
				}
				pdf[g] += counts[k] / wsum * v / (fill*float64(n) + 1)
			}
		}
		for g := range pdf {
			pdf[g] += pedPriorWeigh / wsum / float64(n)
		}
		return pdf
	}
	var mean float64
	for _, k := range obs {
		mean += float64(k) * counts[k] / total
	}
	var v float64
	for _, k := range obs {
		v += (float64(k) - mean) * (float64(k) - mean) * counts[k]
	}
	sigma := math.Sqrt(v / math.Max(1, total-1))
	var cum []float64
	acc := 0.0
	for _, k := range obs {
		acc += counts[k]
		cum = append(cum, acc)
	}
	q25, _ := slices.BinarySearch(cum, math.Floor(total/4))
	q75 := searchRight(cum, math.Floor(total*3/4))
	iqr := float64(obs[min(len(obs)-1, q75)] - obs[q25])
	sigma = 1.059 * math.Min(iqr/1.34, sigma) * math.Pow(total, -0.2)
	sigma = math.Max(sigma, 0.5/1.64)
	add := func(mu, sd, w float64) {
		z := normCDF((float64(n-1)+0.5-mu)/sd) - normCDF((-0.5-mu)/sd)
		for g := range pdf {
			pdf[g] += w * (normCDF((float64(g)+0.5-mu)/sd) - normCDF((float64(g)-0.5-mu)/sd)) / z
		}
	}
	for _, k := range obs {
		add(float64(k), sigma, counts[k]/wsum)
	}
	add(0.5*float64(n-1), float64(n), pedPriorWeigh/wsum)
	return pdf
}

// searchRight is numpy's searchsorted(side="right"): the first index
// whose value is greater than v.
func searchRight(xs []float64, v float64) int {
	for i, x := range xs {
		if x > v {
			return i
		}
	}
	return len(xs)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
