package html

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// figure is one chart and its caption.
type figure struct {
	ID      string
	SVG     template.HTML
	Caption string
}

// plotArea returns the x and y pixel ranges of an x-y chart.
func plotArea(w, h float64) (x0, x1, yBottom, yTop float64) {
	return marginL, w - marginR, h - marginB, marginT
}

// metricAxis is the y axis of the sweep's metric.
func (s *study) metricAxis(bottom, top float64) axis {
	return s.yAxis().at(bottom, top)
}

// yAxis is the sweep's metric's axis, before it is placed.
func (s *study) yAxis() axis {
	lo, hi := s.yRange()
	return newNumAxis(linear, lo, hi, 0.05)
}

// plotY is the pixel of metric value y, and whether it is off the axis
// (drawn at its edge: a non-finite or far value).
func plotY(a axis, y float64) (float64, bool) {
	if !finite(y) {
		if (math.IsInf(y, 1)) == (a.p1 < a.p0) { // +Inf at the top of a y axis
			return a.p1, true
		}
		return a.p0, true
	}
	return a.pos(y), !a.contains(y)
}

// historyData is the optimization history in data units.
type historyData struct {
	order []int       // ranked indexes of the trials that started, in start order
	pts   []int       // those with a metric, in start order
	pos   map[int]int // ranked index -> start position, 1-based
	steps []XY        // the corners of the best-so-far step line, over the trials trained to their end
	x     axis        // the start positions
}

func (s *study) historyData() historyData {
	order := s.startOrder()
	h := historyData{order: order, pos: map[int]int{}, x: newNumAxis(linear, 1, float64(max(len(order), 1)), 0.02)}
	for k, i := range order {
		h.pos[i] = k + 1
		if report.HasMetrics(&s.ranked[i]) {
			h.pts = append(h.pts, i)
		}
	}
	cur := math.NaN()
	for k, i := range order {
		t := &s.ranked[i]
		if t.Status == results.Done && finite(s.y[i]) && (math.IsNaN(cur) || better(s.y[i], cur, s.maximize)) {
			if !math.IsNaN(cur) {
				h.steps = append(h.steps, XY{float64(k + 1), cur})
			}
			cur = s.y[i]
			h.steps = append(h.steps, XY{float64(k + 1), cur})
		}
	}
	if n := len(h.steps); n > 0 {
		h.steps = append(h.steps, XY{float64(len(order)), h.steps[n-1].Y})
	}
	return h
}

// history is the optimization history: each trial's metric in start
// order, and the best so far.
func (s *study) history() figure {
	hd := s.historyData()
	order, pts, pos := hd.order, hd.pts, hd.pos
	c := newCanvas("history", chartW, chartH, "optimization history")
	x0, x1, yb, yt := plotArea(chartW, chartH)
	xa := hd.x.at(x0, x1)
	ya := s.metricAxis(yb, yt)
	c.frame(xa, ya, historyXTitle, s.metric)
	if len(hd.steps) > 0 {
		bx, by := make([]float64, len(hd.steps)), make([]float64, len(hd.steps))
		for k, st := range hd.steps {
			bx[k], by[k] = xa.pos(st.X), ya.pos(st.Y)
		}
		c.path(bx, by, "best-so-far", "")
	}
	titles := len(pts) <= MaxPoints
	for _, i := range pts {
		if i != s.best {
			s.point(c, xa.pos(float64(pos[i])), ya, i, titles)
		}
	}
	if s.best >= 0 && pos[s.best] > 0 {
		s.point(c, xa.pos(float64(pos[s.best])), ya, s.best, true)
	}
	items := s.statusLegend(pts)
	items = append(items, legendItem{kind: "line", class: "best-so-far", col: "#000", label: "best so far (done)"})
	c.legend(x1+16, yt+12, items)
	cap := fmt.Sprintf("%s of each of the %d trials with a metric, in the order they started; the line is the best %s of the trials done so far. Filled: trained to the end; hollow: stopped at a rung (pruned, paused); crossed: diverged. A value beyond the axis (a diverged trial's, or NaN) is drawn at its edge.", s.metric, len(pts), s.metric)
	if n := len(order) - len(pts); n > 0 {
		cap += fmt.Sprintf(" %d started trial%s without a metric (failed, running, interrupted) are counted on the x axis but not drawn.", n, plural(n))
	}
	return figure{ID: "history", SVG: c.done(), Caption: cap}
}

// point draws ranked[i] at x and its metric on ya.
func (s *study) point(c *canvas, x float64, ya axis, i int, title bool) {
	y, off := plotY(ya, s.y[i])
	tt := ""
	if title {
		tt = s.trialTitle(i)
	}
	c.mark(x, y, &s.ranked[i], i == s.best, off, tt)
}

// jitter spreads points of a category over part of its band,
// deterministically by trial number.
func jitter(n int) float64 {
	h := uint32(n) * 2654435761
	return (float64(h>>8)/float64(1<<24) - 0.5) * 0.5
}

// slicePoints are the indexes (into ranked) of the trials a slice plot
// of p draws: those with a metric and a value of p.
func (s *study) slicePoints(p *param) []int {
	var pts []int
	for i := range s.ranked {
		if report.HasMetrics(&s.ranked[i]) && !math.IsNaN(p.x[i]) {
			pts = append(pts, i)
		}
	}
	return pts
}

// slices returns one slice plot per searched parameter.
func (s *study) slices() []figure {
	var out []figure
	for _, p := range s.params {
		out = append(out, s.slice(p))
	}
	return out
}

func (s *study) slice(p *param) figure {
	id := "slice-" + p.name
	c := newCanvas(id, chartW, chartH, "slice plot of "+p.name)
	x0, x1, yb, yt := plotArea(chartW, chartH)
	xa := p.axis(0.03).at(x0, x1)
	ya := s.metricAxis(yb, yt)
	extra := 0.0
	if xa.kind == categorical && len(xa.cats) > 6 {
		extra = 36
		ya = s.metricAxis(yb-extra, yt)
	}
	c.frame(xa, ya, p.title(), s.metric)
	pts := s.slicePoints(p)
	xOf := func(i int) float64 {
		if xa.kind == categorical {
			band := (xa.p1 - xa.p0) / float64(max(len(xa.cats), 1))
			return xa.pos(p.x[i]) + jitter(s.ranked[i].Number)*band
		}
		return xa.pos(p.x[i])
	}
	cap := fmt.Sprintf("%s against %s for each of the %d trials with a metric (%s", s.metric, p.name, len(pts), p.scaleName())
	if p.kind == categorical {
		cap += ", points spread within each value's band"
	}
	cap += "); a value beyond the metric's axis is drawn at its edge."
	if len(pts) > MaxPoints {
		s.density(c, xa, ya, pts, xOf)
		cap += fmt.Sprintf(" Above %d trials the plot is binned: the colour of a cell is how many trials fall in it.", MaxPoints)
		if s.best >= 0 && !math.IsNaN(p.x[s.best]) {
			s.point(c, xOf(s.best), ya, s.best, true)
		}
		c.colourBar(x1+20, yt+30, 160, "1", "most", "trials per cell")
		return figure{ID: id, SVG: c.done(), Caption: cap}
	}
	for _, i := range pts {
		if i != s.best {
			s.point(c, xOf(i), ya, i, true)
		}
	}
	if s.best >= 0 && !math.IsNaN(p.x[s.best]) {
		s.point(c, xOf(s.best), ya, s.best, true)
	}
	c.legend(x1+16, yt+12, s.statusLegend(pts))
	return figure{ID: id, SVG: c.done(), Caption: cap}
}

// density draws pts as a 2-D histogram: 60×30 cells, coloured by count
// (log scale).
func (s *study) density(c *canvas, xa, ya axis, pts []int, xOf func(int) float64) {
	const nx, ny = 60, 30
	var counts [nx][ny]int
	peak := 0
	cw, ch := (xa.p1-xa.p0)/nx, (ya.p0-ya.p1)/ny
	for _, i := range pts {
		y, _ := plotY(ya, s.y[i])
		gx := min(max(int((xOf(i)-xa.p0)/cw), 0), nx-1)
		gy := min(max(int((ya.p0-y)/ch), 0), ny-1)
		counts[gx][gy]++
		peak = max(peak, counts[gx][gy])
	}
	c.printf(`<g class="density">`)
	for gx := range nx {
		for gy := range ny {
			if n := counts[gx][gy]; n > 0 {
				t := math.Log1p(float64(n)) / math.Log1p(float64(peak))
				c.rect(xa.p0+float64(gx)*cw, ya.p0-float64(gy+1)*ch, cw+0.3, ch+0.3, "bin", viridis(t), strconv.Itoa(n)+" trials")
			}
		}
	}
	c.printf("</g>")
}

// goodness maps metric value y to [0, 1] over [lo, hi], 1 the best end.
func (s *study) goodness(y, lo, hi float64) float64 {
	if !finite(y) || hi <= lo {
		return math.NaN()
	}
	t := (y - lo) / (hi - lo)
	if !s.maximize {
		t = 1 - t
	}
	return math.Min(math.Max(t, 0), 1)
}

// topParams are the (up to) three most important parameters, by imp, or
// the first three without an estimate.
func (s *study) topParams(imp importance, n int) []*param {
	order := make([]int, len(s.params))
	for j := range order {
		order[j] = j
	}
	if imp.share != nil {
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case imp.share[a] > imp.share[b]:
				return -1
			case imp.share[a] < imp.share[b]:
				return 1
			}
			return 0
		})
	}
	var out []*param
	for _, j := range order[:min(n, len(order))] {
		out = append(out, s.params[j])
	}
	return out
}

// contours are binned heat maps of the metric over each pair of the three
// most important parameters.
func (s *study) contours(imp importance) []figure {
	top := s.topParams(imp, 3)
	var out []figure
	for a := 0; a < len(top); a++ {
		for b := a + 1; b < len(top); b++ {
			out = append(out, s.contour(top[a], top[b]))
		}
	}
	return out
}

// bins returns the bin of each value of p (NaN: none) and the axis of the
// bins: a categorical axis's values, or 10 equal bins of a numeric range
// (in log space on a log axis).
func bins(p *param, n int) (func(float64) int, axis) {
	if p.kind == categorical {
		return func(x float64) int { return int(x) }, newCatAxis(p.cats)
	}
	a := newNumAxis(p.kind, p.lo, p.hi, 0)
	return func(x float64) int {
		if a.kind == logScale {
			if x <= 0 {
				return 0
			}
			x = math.Log10(x)
		}
		return min(max(int((x-a.lo)/(a.hi-a.lo)*float64(n)), 0), n-1)
	}, a
}

func (s *study) contour(px, py *param) figure {
	const nb = 10
	id := "contour-" + px.name + "-" + py.name
	const w, h = 620.0, 440.0
	c := newCanvas(id, w, h, "heat map of "+s.metric+" over "+px.name+" and "+py.name)
	bx, xa := bins(px, nb)
	by, ya := bins(py, nb)
	x0, x1, yb, yt := marginL+20, w-marginR+40, h-marginB-30, marginT
	xa, ya = xa.at(x0, x1), ya.at(yb, yt)
	nxb, nyb := nb, nb
	if xa.kind == categorical {
		nxb = len(xa.cats)
	}
	if ya.kind == categorical {
		nyb = len(ya.cats)
	}
	best := make([][]float64, nxb)
	count := make([][]int, nxb)
	for i := range best {
		best[i] = make([]float64, nyb)
		count[i] = make([]int, nyb)
		for j := range best[i] {
			best[i][j] = math.NaN()
		}
	}
	for _, i := range s.scored() {
		if math.IsNaN(px.x[i]) || math.IsNaN(py.x[i]) {
			continue
		}
		gx, gy := bx(px.x[i]), by(py.x[i])
		count[gx][gy]++
		if math.IsNaN(best[gx][gy]) || better(s.y[i], best[gx][gy], s.maximize) {
			best[gx][gy] = s.y[i]
		}
	}
	lo, hi := s.yRange()
	cw, ch := (x1-x0)/float64(nxb), (yb-yt)/float64(nyb)
	for gx := range nxb {
		for gy := range nyb {
			if count[gx][gy] == 0 {
				continue
			}
			title := fmt.Sprintf("best %s %s of %d trial%s", s.metric, report.Metric(best[gx][gy]), count[gx][gy], plural(count[gx][gy]))
			c.rect(x0+float64(gx)*cw, yb-float64(gy+1)*ch, cw+0.3, ch+0.3, "cell", viridis(s.goodness(best[gx][gy], lo, hi)), title)
		}
	}
	c.frame(xa, ya, px.title(), py.title())
	bestLo, bestHi := report.Metric(lo), report.Metric(hi)
	if !s.maximize {
		bestLo, bestHi = bestHi, bestLo
	}
	c.colourBar(x1+24, yt+30, 200, bestLo, bestHi, "best "+s.metric)
	cap := fmt.Sprintf("The best %s of the trials trained to their end in each cell of %s × %s (%s bins; blank: no trial). Brighter is better.", s.metric, px.name, py.name, binWord(xa, ya))
	return figure{ID: id, SVG: c.done(), Caption: cap}
}

func binWord(a, b axis) string {
	if a.kind == categorical && b.kind == categorical {
		return "one cell per pair of values"
	}
	return "ranges cut into 10 equal bins, in log space on a log axis"
}
