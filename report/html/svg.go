package html

import (
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/report"
)

// esc escapes outside text for an SVG element's text or a quoted
// attribute: every string that is not a number goes through it.
func esc(s string) string { return template.HTMLEscapeString(s) }

// f formats a coordinate with one decimal.
func f(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// canvas builds one SVG figure.
type canvas struct {
	b    strings.Builder
	w, h float64
}

// newCanvas starts an SVG of w×h pixels with id and an accessible label.
func newCanvas(id string, w, h float64, label string) *canvas {
	c := &canvas{w: w, h: h}
	c.b.Grow(4096)
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" id="`, esc(id), `" class="chart" width="`, f(w), `" height="`, f(h),
		`" viewBox="0 0 `, f(w), " ", f(h), `" role="img" aria-label="`, esc(label), `">`)
	return c
}

// printf writes its parts as they are: callers escape outside text.
func (c *canvas) printf(parts ...string) {
	for _, p := range parts {
		c.b.WriteString(p)
	}
}

// done closes the SVG and returns it.
func (c *canvas) done() template.HTML {
	c.b.WriteString("</svg>")
	return template.HTML(c.b.String()) // built from escaped text and numbers only
}

// text writes s at (x, y); anchor is start, middle or end.
func (c *canvas) text(x, y float64, anchor, class, s string) {
	c.printf(`<text x="`, f(x), `" y="`, f(y), `"`)
	if anchor != "" && anchor != "start" {
		c.printf(` text-anchor="`, anchor, `"`)
	}
	if class != "" {
		c.printf(` class="`, class, `"`)
	}
	c.printf(">", esc(s), "</text>")
}

// vtext writes s rotated to read upwards, centred at (x, y).
func (c *canvas) vtext(x, y float64, class, s string) {
	c.printf(`<text transform="translate(`, f(x), ",", f(y), `) rotate(-90)" text-anchor="middle" class="`, class, `">`, esc(s), "</text>")
}

func (c *canvas) line(x1, y1, x2, y2 float64, class string) {
	c.printf(`<line x1="`, f(x1), `" y1="`, f(y1), `" x2="`, f(x2), `" y2="`, f(y2), `" class="`, class, `"/>`)
}

func (c *canvas) rect(x, y, w, h float64, class, fill, title string) {
	c.printf(`<rect x="`, f(x), `" y="`, f(y), `" width="`, f(math.Max(w, 0)), `" height="`, f(math.Max(h, 0)), `"`)
	if class != "" {
		c.printf(` class="`, class, `"`)
	}
	if fill != "" {
		c.printf(` fill="`, fill, `"`)
	}
	if title == "" {
		c.printf("/>")
		return
	}
	c.printf("><title>", esc(title), "</title></rect>")
}

// path writes a polyline through xs, ys as a path, breaking it where a
// value is not finite.
func (c *canvas) path(xs, ys []float64, class, style string) {
	d := pathData(xs, ys)
	if d == "" {
		return
	}
	c.printf(`<path d="`, d, `" class="`, class, `"`)
	if style != "" {
		c.printf(` style="`, style, `"`)
	}
	c.printf("/>")
}

// pathData is the d attribute of a polyline through xs, ys, broken where a
// value is not finite.
func pathData(xs, ys []float64) string {
	var d strings.Builder
	pen := false
	for i := range xs {
		if !finite(xs[i]) || !finite(ys[i]) {
			pen = false
			continue
		}
		if pen {
			d.WriteByte('L')
		} else {
			d.WriteByte('M')
		}
		d.WriteString(f(xs[i]))
		d.WriteByte(' ')
		d.WriteString(f(ys[i]))
		pen = true
	}
	return d.String()
}

// scaleKind is how an axis maps values.
type scaleKind int

const (
	linear scaleKind = iota
	logScale
	categorical
)

// axis maps values of [lo, hi] (log10 of them on a log axis; category
// indexes on a categorical one) to pixels [p0, p1].
type axis struct {
	kind   scaleKind
	lo, hi float64
	cats   []string
	p0, p1 float64
}

// newNumAxis is a linear or log axis over the values [lo, hi], padded by
// pad (a fraction of the span) on each side.
func newNumAxis(kind scaleKind, lo, hi, pad float64) axis {
	if kind == logScale {
		if lo <= 0 || hi <= 0 {
			kind = linear
		} else {
			lo, hi = math.Log10(lo), math.Log10(hi)
		}
	}
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		d := math.Max(math.Abs(lo)*0.1, 0.05)
		if kind == logScale {
			d = 0.5
		}
		lo, hi = lo-d, hi+d
	}
	span := hi - lo
	return axis{kind: kind, lo: lo - pad*span, hi: hi + pad*span}
}

// newCatAxis is a categorical axis.
func newCatAxis(cats []string) axis { return axis{kind: categorical, cats: cats} }

// at sets the axis' pixel range.
func (a axis) at(p0, p1 float64) axis { a.p0, a.p1 = p0, p1; return a }

// pos maps a value (a category index on a categorical axis) to pixels.
// Values beyond the axis are clamped to its ends.
func (a axis) pos(v float64) float64 {
	if a.kind == categorical {
		n := float64(max(len(a.cats), 1))
		return a.p0 + (v+0.5)/n*(a.p1-a.p0)
	}
	if a.kind == logScale {
		if v <= 0 {
			return a.p0
		}
		v = math.Log10(v)
	}
	t := (v - a.lo) / (a.hi - a.lo)
	t = math.Min(math.Max(t, 0), 1)
	return a.p0 + t*(a.p1-a.p0)
}

// contains reports whether v is within the axis (not clamped by pos).
func (a axis) contains(v float64) bool {
	if !finite(v) {
		return false
	}
	if a.kind == logScale {
		if v <= 0 {
			return false
		}
		v = math.Log10(v)
	}
	return v >= a.lo-1e-12 && v <= a.hi+1e-12
}

// tick is a labelled position on an axis, in pixels.
type tick struct {
	pos   float64
	label string
}

// ticks returns the axis' labelled ticks at their pixels.
func (a axis) ticks() []tick {
	vs := a.tickValues()
	out := make([]tick, 0, len(vs))
	for _, t := range vs {
		out = append(out, tick{a.pos(t.Value), t.Label})
	}
	return out
}

// tickValues returns the axis' labelled ticks, in data units:
// categories, decades on a log axis (1, 2, 5 within them when it spans
// less than two), round numbers on a linear one.
func (a axis) tickValues() []Tick {
	var out []Tick
	switch a.kind {
	case categorical:
		for i, c := range a.cats {
			out = append(out, Tick{float64(i), c})
		}
		return out
	case logScale:
		lo, hi := math.Floor(a.lo), math.Ceil(a.hi)
		mults := []float64{1}
		if a.hi-a.lo < 2 {
			mults = []float64{1, 2, 5}
		}
		for e := lo; e <= hi; e++ {
			for _, m := range mults {
				v := m * math.Pow(10, e)
				if lv := math.Log10(v); lv >= a.lo-1e-9 && lv <= a.hi+1e-9 {
					out = append(out, Tick{v, report.Human(v)})
				}
			}
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / 5)
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		r := math.Round(v/step) * step
		if math.Abs(r) < step*1e-9 {
			r = 0
		}
		out = append(out, Tick{r, report.Human(r)})
	}
	return out
}

// niceStep is 1, 2 or 5 times a power of ten, near raw.
func niceStep(raw float64) float64 {
	if raw <= 0 || !finite(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch r := raw / p; {
	case r < 1.5:
		return p
	case r < 3.5:
		return 2 * p
	case r < 7.5:
		return 5 * p
	}
	return 10 * p
}

// frame draws a plot's axes at the plot area (x0, y0)-(x1, y1): ticks,
// grid lines, tick labels and the axis titles.
func (c *canvas) frame(x, y axis, xTitle, yTitle string) {
	x0, x1, y0, y1 := x.p0, x.p1, y.p1, y.p0 // y.p0 is the bottom
	c.rect(x0, y0, x1-x0, y1-y0, "plot", "", "")
	xt := x.ticks()
	rotate := x.kind == categorical && len(xt) > 6
	for _, t := range xt {
		c.line(t.pos, y1, t.pos, y1+4, "tick")
		if x.kind != categorical {
			c.line(t.pos, y0, t.pos, y1, "grid")
		}
		if rotate {
			c.printf(`<text transform="translate(`, f(t.pos+4), ",", f(y1+8), `) rotate(45)" class="tl">`, esc(t.label), "</text>")
		} else {
			c.text(t.pos, y1+16, "middle", "tl", t.label)
		}
	}
	for _, t := range y.ticks() {
		c.line(x0-4, t.pos, x0, t.pos, "tick")
		if y.kind != categorical {
			c.line(x0, t.pos, x1, t.pos, "grid")
		}
		c.text(x0-6, t.pos+4, "end", "tl", t.label)
	}
	bottom := y1 + 34
	if rotate {
		bottom = y1 + 70
	}
	c.text((x0+x1)/2, bottom, "middle", "at", xTitle)
	c.vtext(x0-46, (y0+y1)/2, "at", yTitle)
}
