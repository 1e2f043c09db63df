package plot

import (
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
)

// Type sizes, in points: readable at the default size and at a printed
// column's width.
const (
	titleSize  = 11
	labelSize  = 10
	tickSize   = 9
	legendSize = 9
	smallSize  = 8
)

// pad is the space around the figure and between its parts.
const pad = vg.Length(6)

var (
	sans = font.Font{Typeface: "Liberation", Variant: "Sans"}
	grey = color.RGBA{0x99, 0x99, 0x99, 0xff}
)

// style is a text style of fnt at size, aligned at (x, y).
func style(fnt font.Font, size vg.Length, x text.XAlignment, y text.YAlignment) text.Style {
	return text.Style{Color: color.Black, Font: font.From(fnt, size), XAlign: x, YAlign: y, Handler: gplot.DefaultTextHandler}
}

// figure is one drawing: a title, its body, and a column on its right
// for the legend and the colour scale.
type figure struct {
	title string
	body  func(c draw.Canvas, raster raster)
	side  side
	note  string
}

// raster is how images are drawn: the format and the PNG's resolution.
type raster struct {
	format string
	dpi    int
}

// render draws fig on all of c, on white.
func (fig *figure) render(c draw.Canvas, format string, dpi int) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, pad, -pad, pad, -pad)
	if fig.title != "" {
		sty := style(sans, titleSize, draw.XCenter, draw.YTop)
		c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y}, fig.title)
		c = draw.Crop(c, 0, 0, 0, -(sty.Height(fig.title) + pad))
	}
	if w := fig.side.width(); w > 0 {
		fig.side.draw(draw.Crop(c, c.Max.X-c.Min.X-w, 0, 0, 0))
		c = draw.Crop(c, 0, -(w + 2*pad), 0, 0)
	}
	fig.body(c, raster{format, dpi})
}

// newPlot is a plot in the house style, without a title (the figure has
// it).
func newPlot() *gplot.Plot {
	p := gplot.New()
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Length = vg.Points(4)
		a.Padding = vg.Points(3)
	}
	return p
}

// metricUnits are the units of the metrics' axis titles.
var metricUnits = map[string]string{
	"val_acc":       "fraction of the validation set",
	"val_loss":      "cross-entropy",
	"accuracy":      "fraction",
	"training loss": "cross-entropy",
}

// setAxis sets ax to show a: its title (with a metric's unit), range,
// scale and ticks; a categorical x axis of many or long categories has
// its labels slanted.
func setAxis(ax *gplot.Axis, a html.Axis, horizontal bool) {
	ax.Label.Text = a.Title
	if u := metricUnits[a.Title]; u != "" {
		ax.Label.Text += " (" + u + ")"
	}
	ax.Min, ax.Max = a.Min, a.Max
	ax.Scale = gplot.LinearScale{}
	if a.Scale == html.Log {
		ax.Scale = gplot.LogScale{}
	}
	var ticks gplot.ConstantTicks
	long := 0
	for _, t := range a.Ticks() {
		ticks = append(ticks, gplot.Tick{Value: t.Value, Label: t.Label})
		long = max(long, len(t.Label))
	}
	ax.Tick.Marker = ticks
	if horizontal && a.Scale == html.Categorical && (len(ticks) > 6 || long*len(ticks) > 60) {
		ax.Tick.Label.Rotation = math.Pi / 4
		ax.Tick.Label.XAlign = draw.XRight
		ax.Tick.Label.YAlign = draw.YTop
	}
}

// setAxes sets p's axes and adds a light grid on the numeric ones, under
// what is drawn after it.
func setAxes(p *gplot.Plot, x, y html.Axis) {
	addGrid(p, x.Scale != html.Categorical, y.Scale != html.Categorical)
	setAxis(&p.X, x, true)
	setAxis(&p.Y, y, false)
}

// addGrid adds light grid lines at the ticks of the x axis (vertical
// lines) and of the y axis (horizontal).
func addGrid(p *gplot.Plot, vertical, horizontal bool) {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = nil, nil
	if vertical {
		g.Vertical.Color = color.Gray{0xe4}
	}
	if horizontal {
		g.Horizontal.Color = color.Gray{0xe4}
	}
	p.Add(g)
}

// norm is v's position on a, from 0 at Min to 1 at Max: clamped, in
// log space on a log axis.
func norm(a html.Axis, v float64) float64 {
	v, _ = a.Clamp(v)
	if a.Scale == html.Log {
		return (math.Log10(v) - math.Log10(a.Min)) / (math.Log10(a.Max) - math.Log10(a.Min))
	}
	return (v - a.Min) / (a.Max - a.Min)
}

// markRadius is the radius of each of n trial marks: smaller when there
// are many.
func markRadius(n int) vg.Length {
	switch {
	case n <= 300:
		return 3
	case n <= 3000:
		return 2
	}
	return 1.2
}

// legendRadius is the radius of the marks in a legend: a little larger
// than a plot's, to read at small sizes.
const legendRadius = 3.5

func circle(at vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: at.X + r, Y: at.Y})
	p.Arc(at, r, 0, 2*math.Pi)
	p.Close()
	return p
}

// drawMark draws a trial's mark as the report does: a circle of its
// status' colour, filled when it was trained to its end, hollow when it
// was stopped at a rung, crossed when it diverged.
func drawMark(c *draw.Canvas, at vg.Point, st results.Status, r vg.Length) {
	col := html.StatusColour(st)
	if html.Filled(st) {
		c.SetColor(col)
		c.Fill(circle(at, r))
	} else {
		c.SetLineStyle(draw.LineStyle{Color: col, Width: r / 2.2})
		c.Stroke(circle(at, r*0.85))
	}
	if st == results.Diverged {
		d := 1.5 * r
		ls := draw.LineStyle{Color: col, Width: 1}
		c.StrokeLine2(ls, at.X-d, at.Y-d, at.X+d, at.Y+d)
		c.StrokeLine2(ls, at.X-d, at.Y+d, at.X+d, at.Y-d)
	}
}

// drawBest rings the best trial's mark and labels it with its number.
func drawBest(c *draw.Canvas, at vg.Point, trial int, r vg.Length) {
	ring := max(2*r, 5)
	c.SetLineStyle(draw.LineStyle{Color: color.Black, Width: 1.2})
	c.Stroke(circle(at, ring))
	label(c, at, ring, strconv.Itoa(trial))
}

// label writes s beside a mark of radius r at at: above on its
// right, or on its left near the right edge of c.
func label(c *draw.Canvas, at vg.Point, r vg.Length, s string) {
	sty := style(sans, labelSize, draw.XLeft, draw.YBottom) // not bold: vgpdf cannot write bold text
	x := at.X + r + 1
	if x+sty.Width(s) > c.Max.X {
		sty.XAlign, x = draw.XRight, at.X-r-1
	}
	haloText(c, sty, vg.Point{X: x, Y: at.Y + r*0.4}, s)
}

// haloText writes s at at on a pale box: readable over the lines beneath.
func haloText(c *draw.Canvas, sty text.Style, at vg.Point, s string) {
	r := sty.Rectangle(s)
	r.Min, r.Max = r.Min.Add(at).Sub(vg.Point{X: 1, Y: 0.5}), r.Max.Add(at).Add(vg.Point{X: 1, Y: 0.5})
	c.SetColor(color.NRGBA{0xff, 0xff, 0xff, 0xd0})
	c.Fill(r.Path())
	c.FillText(sty, at, s)
}

// marks plots trials' points; the best one last, ringed and labelled.
type marks struct {
	pts    []html.Point
	x, y   html.Axis
	offset bool // add each point's Offset to its X (a categorical axis)
}

func (m marks) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	r := markRadius(len(m.pts))
	at := func(pt html.Point) vg.Point {
		x := pt.X
		if m.offset {
			x += pt.Offset
		}
		x, _ = m.x.Clamp(x)
		y, _ := m.y.Clamp(pt.Y)
		return vg.Point{X: trX(x), Y: trY(y)}
	}
	best := -1
	for k, pt := range m.pts {
		if pt.Best {
			best = k
			continue
		}
		drawMark(&c, at(pt), pt.Status, r)
	}
	if best >= 0 {
		pt := m.pts[best]
		drawMark(&c, at(pt), pt.Status, r)
		drawBest(&c, at(pt), pt.Trial, r)
	}
}

// polyline is a line through points in data units, breaking where a value
// is not finite.
type polyline struct {
	xys   []html.XY
	style draw.LineStyle
	dot   bool // a dot at its last point
}

func (l polyline) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	var lines [][]vg.Point
	var cur []vg.Point
	for _, xy := range l.xys {
		if !finite(xy.X) || !finite(xy.Y) {
			if len(cur) > 0 {
				lines, cur = append(lines, cur), nil
			}
			continue
		}
		cur = append(cur, vg.Point{X: trX(xy.X), Y: trY(xy.Y)})
	}
	if len(cur) > 0 {
		lines = append(lines, cur)
	}
	if len(lines) == 0 {
		return
	}
	c.StrokeLines(l.style, c.ClipLinesXY(lines...)...)
	if l.dot {
		last := lines[len(lines)-1]
		c.SetColor(l.style.Color)
		c.Fill(circle(last[len(last)-1], 2.5))
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// side is a figure's right column: a colour scale, then a legend.
type side struct {
	bar     *colourBar
	entries []entry
}

// entry is a line of a legend: a thumbnail and its label.
type entry struct {
	thumb func(c *draw.Canvas, at vg.Point) // drawn centred at at, within thumbW×entryH
	label string
}

const (
	thumbW = 16
	entryH = legendSize * 1.6
	barW   = 10
	barH   = 110
)

func (s *side) width() vg.Length {
	var w vg.Length
	sty := style(sans, legendSize, draw.XLeft, draw.YCenter)
	for _, e := range s.entries {
		w = max(w, thumbW+4+sty.Width(e.label))
	}
	if b := s.bar; b != nil {
		w = max(w, barW+4+max(sty.Width(b.lo), sty.Width(b.hi)), sty.Width(b.title))
	}
	return w
}

func (s *side) draw(c draw.Canvas) {
	y := c.Max.Y
	sty := style(sans, legendSize, draw.XLeft, draw.YCenter)
	if b := s.bar; b != nil {
		top := style(sans, legendSize, draw.XLeft, draw.YTop)
		c.FillText(top, vg.Point{X: c.Min.X, Y: y}, b.title)
		y -= top.Height(b.title) + 4
		h := min(vg.Length(barH), (y-c.Min.Y)*0.6)
		const n = 32
		for k := range n {
			y0 := y - h + h*vg.Length(k)/n
			c.SetColor(html.Viridis(float64(k) / (n - 1)))
			c.Fill(vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: y0}, Max: vg.Point{X: c.Min.X + barW, Y: y0 + h/n + 0.3}}.Path())
		}
		c.SetLineStyle(draw.LineStyle{Color: color.Gray{0x44}, Width: 0.5})
		c.Stroke(vg.Rectangle{Min: vg.Point{X: c.Min.X, Y: y - h}, Max: vg.Point{X: c.Min.X + barW, Y: y}}.Path())
		c.FillText(style(sans, legendSize, draw.XLeft, draw.YTop), vg.Point{X: c.Min.X + barW + 4, Y: y}, b.hi)
		c.FillText(style(sans, legendSize, draw.XLeft, draw.YBottom), vg.Point{X: c.Min.X + barW + 4, Y: y - h}, b.lo)
		y -= h + 3*pad
	}
	for _, e := range s.entries {
		mid := y - entryH/2
		e.thumb(&c, vg.Point{X: c.Min.X + thumbW/2, Y: mid})
		c.FillText(sty, vg.Point{X: c.Min.X + thumbW + 4, Y: mid}, e.label)
		y -= entryH
	}
}

// colourBar is a viridis scale, lo at the bottom, hi at the top.
type colourBar struct {
	title, lo, hi string
}

// markEntry is a legend line of a status' mark.
func markEntry(st results.Status) entry {
	return entry{func(c *draw.Canvas, at vg.Point) { drawMark(c, at, st, legendRadius) }, string(st)}
}

// lineEntry is a legend line of a line's style.
func lineEntry(ls draw.LineStyle, label string) entry {
	return entry{func(c *draw.Canvas, at vg.Point) { c.StrokeLine2(ls, at.X-thumbW/2, at.Y, at.X+thumbW/2, at.Y) }, label}
}

// swatchEntry is a legend line of a filled box.
func swatchEntry(fill color.Color, outline *draw.LineStyle, label string) entry {
	return entry{func(c *draw.Canvas, at vg.Point) {
		r := vg.Rectangle{Min: vg.Point{X: at.X - thumbW/2, Y: at.Y - 4}, Max: vg.Point{X: at.X + thumbW/2, Y: at.Y + 4}}
		c.SetColor(fill)
		c.Fill(r.Path())
		if outline != nil {
			c.SetLineStyle(*outline)
			c.Stroke(r.Path())
		}
	}, label}
}

// statusEntries is the legend of the statuses of pts, in
// results.Statuses order, and of the best trial's ring.
func statusEntries(pts []html.Point, f *html.Figures) []entry {
	present := map[results.Status]bool{}
	for _, pt := range pts {
		present[pt.Status] = true
	}
	var out []entry
	for _, st := range results.Statuses {
		if present[st] {
			out = append(out, markEntry(st))
		}
	}
	if _, final, ok := f.Best(); ok {
		lbl := "best (selected)"
		if !final {
			lbl = "leader (not final)"
		}
		out = append(out, entry{func(c *draw.Canvas, at vg.Point) {
			c.SetLineStyle(draw.LineStyle{Color: color.Black, Width: 1.2})
			c.Stroke(circle(at, 5))
		}, lbl})
	}
	return out
}

// withAlpha is col at opacity a.
func withAlpha(col color.RGBA, a float64) color.NRGBA {
	return color.NRGBA{col.R, col.G, col.B, uint8(math.Round(255 * a))}
}
