package html

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// parallelLines returns the indexes (into ranked) of the trials with a
// metric, best first, and those of them the parallel coordinates draw:
// all of them up to MaxPoints; above, the best MaxPoints/4, an even
// sample of the others and the best trial, which note says.
func (s *study) parallelLines() (lines, shown []int, note string) {
	for i := range s.ranked {
		if report.HasMetrics(&s.ranked[i]) {
			lines = append(lines, i)
		}
	}
	shown = lines
	if len(lines) > MaxPoints {
		const top = MaxPoints / 4
		shown = slices.Clone(lines[:top])
		rest := lines[top:]
		n := MaxPoints - top
		for k := range n {
			shown = append(shown, rest[k*len(rest)/n])
		}
		if s.best >= 0 && !slices.Contains(shown, s.best) {
			shown = append(shown, s.best)
		}
		note = fmt.Sprintf("Of its %d trials, the best %d and an even sample of %d of the others are drawn.", len(lines), top, n)
	}
	return lines, shown, note
}

// parallelAxes are the axes of the parallel coordinates, unplaced: one
// per parameter, then the metric's.
func (s *study) parallelAxes() []axis {
	axes := make([]axis, len(s.params)+1)
	for j, p := range s.params {
		axes[j] = p.axis(0.03)
	}
	axes[len(s.params)] = s.yAxis()
	return axes
}

// parallel is the parallel-coordinates plot: an axis per parameter and
// one for the metric, a line per trial coloured by its metric.
func (s *study) parallel() figure {
	_, shown, cap := s.parallelLines()
	if cap != "" {
		cap = " " + cap
	}
	naxes := len(s.params) + 1
	w := math.Max(chartW, 150*float64(naxes)+marginR)
	const h = 420.0
	c := newCanvas("parallel", w, h, "parallel coordinates")
	yb, yt := h-40, marginT+24
	gap := (w - marginR - 2*marginL) / float64(max(naxes-1, 1))
	axes := s.parallelAxes()
	xs := make([]float64, naxes)
	for j := range naxes {
		xs[j] = marginL + float64(j)*gap
		axes[j] = axes[j].at(yb, yt)
	}
	lo, hi := s.yRange()
	// Worst first, so that the best lines are on top.
	for k := len(shown) - 1; k >= 0; k-- {
		i := shown[k]
		if i == s.best {
			continue
		}
		s.parallelLine(c, axes, xs, i, viridis(s.goodness(s.y[i], lo, hi)), len(shown) <= MaxPoints)
	}
	if s.best >= 0 && slices.Contains(shown, s.best) {
		s.parallelLine(c, axes, xs, s.best, "#000000", true)
	}
	for j, a := range axes {
		name := s.metric
		if j < len(s.params) {
			name = s.params[j].name
		}
		c.line(xs[j], yb, xs[j], yt, "paxis")
		for _, t := range a.ticks() {
			c.line(xs[j]-4, t.pos, xs[j], t.pos, "tick")
			c.text(xs[j]-6, t.pos+4, "end", "tl", t.label)
		}
		c.text(xs[j], yt-12, "middle", "at", name)
	}
	bestLo, bestHi := report.Metric(lo), report.Metric(hi)
	if !s.maximize {
		bestLo, bestHi = bestHi, bestLo
	}
	lx := w - marginR + 30
	c.colourBar(lx, yt+30, 200, bestLo, bestHi, s.metric)
	c.legend(lx, yt+270, []legendItem{{kind: "line", class: "best-line", col: "#000", label: "best trial"}})
	cap = fmt.Sprintf("One line per trial with a metric, through its value of each parameter and its %s; coloured by %s, brighter is better, the best trial in black. Log axes for log-uniform ranges.", s.metric, s.metric) + cap
	return figure{ID: "parallel", SVG: c.done(), Caption: cap}
}

func (s *study) parallelLine(c *canvas, axes []axis, xs []float64, i int, col string, title bool) {
	ys := make([]float64, len(axes))
	for j, a := range axes {
		var v float64
		if j < len(s.params) {
			v = s.params[j].x[i]
		} else {
			v, _ = plotY(a, s.y[i])
			v = invPos(a, v)
		}
		ys[j] = math.NaN()
		if !math.IsNaN(v) {
			ys[j] = a.pos(v)
		}
	}
	class := "trial"
	width := ""
	if i == s.best {
		class = "trial best"
		width = ` stroke-width="3"`
	}
	c.printf(`<path class="`, class, `" data-trial="`, strconv.Itoa(s.ranked[i].Number), `" d="`, pathData(xs, ys), `" stroke="`, col, `"`, width)
	if title {
		c.printf("><title>", esc(s.trialTitle(i)), "</title></path>")
	} else {
		c.printf("/>")
	}
}

// invPos is the value at pixel p of a numeric axis (for values drawn at
// its edge).
func invPos(a axis, p float64) float64 {
	v := a.lo + (p-a.p0)/(a.p1-a.p0)*(a.hi-a.lo)
	if a.kind == logScale {
		return math.Pow(10, v)
	}
	return v
}

// importanceChart draws imp's shares as horizontal bars, largest first.
func (s *study) importanceChart(imp importance) figure {
	bars := imp.bars()
	const w = chartW
	h := marginT + 28*float64(len(bars)) + 60
	c := newCanvas("importance", w, h, "parameter importance")
	x0, x1 := 200.0, w-80
	xa := newNumAxis(linear, 0, 1, 0).at(x0, x1)
	yb := h - 44
	c.rect(x0, marginT, x1-x0, yb-marginT, "plot", "", "")
	for _, t := range xa.ticks() {
		c.line(t.pos, marginT, t.pos, yb, "grid")
		c.line(t.pos, yb, t.pos, yb+4, "tick")
		c.text(t.pos, yb+16, "middle", "tl", t.label)
	}
	for k, b := range bars {
		y := marginT + 6 + 28*float64(k)
		col, class := okabeIto[0], "imp"
		if b.Rest {
			col, class = "#999999", "imp rest"
		}
		c.rect(x0, y, xa.pos(b.Share)-x0, 18, class, col, fmt.Sprintf("%s: %.1f%%", b.Name, 100*b.Share))
		c.text(x0-8, y+14, "end", "tl", b.Name)
		c.text(xa.pos(b.Share)+6, y+14, "start", "tl", fmt.Sprintf("%.1f%%", 100*b.Share))
	}
	c.text((x0+x1)/2, yb+36, "middle", "at", importanceXTitle)
	return figure{ID: "importance", SVG: c.done(), Caption: "Method: " + imp.method + "."}
}

// rungs are the rungs trials reached (adaptive search): the resources of
// their evaluations, in epochs, and how many trials reached each.
type rung struct {
	epochs float64
	n      int
}

func (s *study) rungs() []rung {
	perIter := s.epochsPerIteration()
	byRes := map[int]int{}
	for _, t := range s.ranked {
		seen := map[int]bool{}
		for _, e := range t.Evals {
			if !seen[e.Resource] {
				seen[e.Resource] = true
				byRes[e.Resource]++
			}
		}
	}
	var out []rung
	for r, n := range byRes {
		ep := float64(r)
		if s.in.Spec != nil && s.in.Spec.Search.MinUnit == "iterations" {
			ep = float64(r) * perIter
		}
		out = append(out, rung{ep, n})
	}
	slices.SortFunc(out, func(a, b rung) int {
		switch {
		case a.epochs < b.epochs:
			return -1
		case a.epochs > b.epochs:
			return 1
		}
		return 0
	})
	return out
}

// epochsPerIteration is read from a history row (0 without one).
func (s *study) epochsPerIteration() float64 {
	for _, h := range s.in.Histories {
		for _, e := range h {
			if e.Iteration > 0 && e.Epoch > 0 {
				return e.Epoch / float64(e.Iteration)
			}
		}
	}
	return 0
}

// curveSets returns the indexes (into ranked) of the trials whose
// learning curves are drawn: the topK best with a history and a metric,
// in colour, and the others with a history, faint (an even sample of
// MaxFaintCurves of them when there are more); note says what the faint
// ones are, or which trials have no history.
func (s *study) curveSets() (top, faint []int, note string) {
	for i := range s.ranked {
		if len(s.in.Histories[s.ranked[i].Number]) == 0 {
			continue
		}
		if len(top) < s.topK && report.HasMetrics(&s.ranked[i]) {
			top = append(top, i)
		} else {
			faint = append(faint, i)
		}
	}
	if len(faint) > MaxFaintCurves {
		all := len(faint)
		sample := make([]int, 0, MaxFaintCurves)
		for k := range MaxFaintCurves {
			sample = append(sample, faint[k*all/MaxFaintCurves])
		}
		faint = sample
		note = fmt.Sprintf("%d other trials' curves are drawn faintly, an even sample over the ranking.", MaxFaintCurves)
	} else if len(faint) > 0 {
		note = fmt.Sprintf("The other %d trials with a history are drawn faintly.", len(faint))
	}
	if missing := len(s.ranked) - len(top) - len(faint); missing > 0 && note == "" {
		note = fmt.Sprintf("%d trial%s have no history here.", missing, plural(missing))
	}
	return top, faint, note
}

// noHistory is said when no trial has a history to draw.
const noHistory = "No trial has a recorded history yet."

// curves are the learning curves: training loss, and validation and
// training accuracy, per epoch; the topK trials in colour, the others with
// histories faint.
func (s *study) curves() ([]figure, string) {
	top, faint, note := s.curveSets()
	if len(top)+len(faint) == 0 {
		return nil, noHistory
	}
	if note != "" {
		note = " " + note
	}
	rs := s.rungs()
	lossFig := s.curveChart("curves-loss", top, faint, rs, false)
	accFig := s.curveChart("curves-acc", top, faint, rs, true)
	var nums []string
	for _, i := range top {
		nums = append(nums, strconv.Itoa(s.ranked[i].Number))
	}
	lossFig.Caption = fmt.Sprintf("Training loss at the end of each epoch of the %d best trials (trials %s), each in its colour.", len(top), strings.Join(nums, ", ")) + note
	accFig.Caption = "Validation accuracy (solid) and training accuracy (dashed) at the end of each epoch, same colours, a dot where each trial stopped; faint lines: validation accuracy of the other trials." + note
	if len(rs) > 0 {
		var parts []string
		for k, r := range rs {
			parts = append(parts, fmt.Sprintf("rung %d at %s epochs: %d trial%s", k+1, report.Human(r.epochs), r.n, plural(r.n)))
		}
		accFig.Caption += " Dotted vertical lines: the rungs of the adaptive search (" + strings.Join(parts, "; ") + ")."
	}
	return []figure{lossFig, accFig}, ""
}

// curveValues are the values a learning-curve chart draws of an epoch:
// the training loss, or the validation and training accuracies.
func curveValues(acc bool) func(results.Epoch) []float64 {
	if acc {
		return func(e results.Epoch) []float64 { return []float64{e.ValAcc, e.TrainAcc} }
	}
	return func(e results.Epoch) []float64 { return []float64{e.Loss} }
}

// curveTitle is the y title of a learning-curve chart.
func curveTitle(acc bool) string {
	if acc {
		return "accuracy"
	}
	return "training loss"
}

// curveAxes are the axes of a learning-curve chart, unplaced: the epochs
// of every curve drawn, and the span of the top curves' values (the
// faint ones' when there are no top ones), accuracies within [0, 1].
func (s *study) curveAxes(top, faint []int, acc bool) (xa, ya axis) {
	vals := curveValues(acc)
	maxEp := 0.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, i := range append(slices.Clone(top), faint...) {
		for _, e := range s.in.Histories[s.ranked[i].Number] {
			maxEp = math.Max(maxEp, e.Epoch)
		}
	}
	span := top
	if len(span) == 0 {
		span = faint
	}
	for _, i := range span {
		for _, e := range s.in.Histories[s.ranked[i].Number] {
			for _, v := range vals(e) {
				if finite(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if acc {
		lo, hi = math.Max(lo, 0), math.Min(hi, 1)
	} else if lo > hi {
		lo, hi = 0, 1
	}
	return newNumAxis(linear, 0, math.Max(maxEp, 1), 0.02), newNumAxis(linear, lo, hi, 0.05)
}

func (s *study) curveChart(id string, top, faint []int, rs []rung, acc bool) figure {
	what, vals := curveTitle(acc), curveValues(acc)
	c := newCanvas(id, chartW, chartH, what+" per epoch")
	x0, x1, yb, yt := plotArea(chartW, chartH)
	xa, ya := s.curveAxes(top, faint, acc)
	xa, ya = xa.at(x0, x1), ya.at(yb, yt)
	c.frame(xa, ya, "epoch", what)
	for k, r := range rs {
		x := xa.pos(r.epochs)
		c.line(x, yt, x, yb, "rung")
		label := fmt.Sprintf("rung %d: %d", k+1, r.n)
		if x > (x0+x1)/2 {
			c.text(x-3, yt+12+float64(k%3)*12, "end", "tl rung-label", label)
		} else {
			c.text(x+3, yt+12+float64(k%3)*12, "start", "tl rung-label", label)
		}
	}
	line := func(i int, series int, class, col, style string) {
		h := s.in.Histories[s.ranked[i].Number]
		xs, ys := make([]float64, 0, len(h)+1), make([]float64, 0, len(h)+1)
		for _, e := range h {
			v := vals(e)[series]
			if !finite(v) {
				continue
			}
			xs, ys = append(xs, xa.pos(e.Epoch)), append(ys, ya.pos(v))
		}
		c.printf(`<g class="`, class, `" data-trial="`, strconv.Itoa(s.ranked[i].Number), `">`)
		c.path(xs, ys, "curve", "stroke:"+col+style)
		if n := len(xs); n > 0 && class == "top" {
			// Where the trial stopped (a pruned trial at its rung; a
			// one-epoch curve is this dot alone).
			c.printf(`<circle cx="`, f(xs[n-1]), `" cy="`, f(ys[n-1]), `" r="3" fill="`, col, `" class="end"/>`)
		}
		c.printf("</g>")
	}
	for _, i := range faint {
		line(i, 0, "faint", "#999999", ";stroke-opacity:0.35;stroke-width:1")
	}
	var items []legendItem
	for k, i := range top {
		col := okabeIto[k%len(okabeIto)]
		if acc {
			line(i, 1, "top train", col, ";stroke-dasharray:5 3")
		}
		line(i, 0, "top", col, "")
		items = append(items, legendItem{kind: "line", class: "curve", col: col, label: fmt.Sprintf("trial %d (#%d)", s.ranked[i].Number, k+1)})
	}
	if acc {
		items = append(items, legendItem{kind: "line", class: "curve", col: "#444", label: "validation"},
			legendItem{kind: "dash", class: "curve", col: "#444", label: "training"})
	}
	if len(faint) > 0 {
		items = append(items, legendItem{kind: "line", class: "curve faint-key", col: "#bbbbbb", label: "other trials"})
	}
	if len(rs) > 0 {
		items = append(items, legendItem{kind: "dash", class: "rung-key", col: "#555", label: "rung: trials reaching it"})
	}
	c.legend(x1+16, yt+12, items)
	return figure{ID: id, SVG: c.done()}
}
