package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
)

// single is a figure's body of one plot.
func single(p *gplot.Plot) func(draw.Canvas, raster) {
	return func(c draw.Canvas, _ raster) { p.Draw(c) }
}

// history: each trial's metric in the order they started, and the best
// so far.
func history(f *html.Figures) *figure {
	h := f.History()
	p := newPlot()
	setAxes(p, h.X, h.Y)
	black := draw.LineStyle{Color: color.Black, Width: 1.5}
	p.Add(polyline{xys: h.BestSoFar, style: black}, marks{pts: h.Points, x: h.X, y: h.Y})
	metric, _ := f.Metric()
	fig := &figure{title: "Optimization history of " + f.Name(), body: single(p)}
	fig.side.entries = append(statusEntries(h.Points, f), lineEntry(black, "best so far (done)"))
	fig.note = fmt.Sprintf("%s of each of the %d trials with a metric, in the order they started; the line is the best %s of the trials trained to their end so far.", metric, len(h.Points), metric)
	return fig
}

// slicePlot: the metric against one parameter.
func slicePlot(f *html.Figures, param string) (*figure, error) {
	params := f.Params()
	switch {
	case len(params) == 0:
		return nil, fmt.Errorf("%w: the sweep searches no parameter", ErrParam)
	case param == "" && len(params) > 1:
		return nil, fmt.Errorf("%w: the sweep searches %d parameters, say which one with --param: %s", ErrParam, len(params), strings.Join(params, ", "))
	case param == "":
		param = params[0]
	}
	sl, ok := f.Slice(param)
	if !ok {
		return nil, fmt.Errorf("%w: unknown parameter %q: the sweep searches %s", ErrParam, param, strings.Join(params, ", "))
	}
	p := newPlot()
	setAxes(p, sl.X, sl.Y)
	p.Add(marks{pts: sl.Points, x: sl.X, y: sl.Y, offset: sl.X.Scale == html.Categorical})
	fig := &figure{title: "Slice plot of " + f.Name() + ": " + param, body: single(p)}
	fig.side.entries = statusEntries(sl.Points, f)
	metric, _ := f.Metric()
	fig.note = fmt.Sprintf("%s against %s for each of the %d trials with a metric.", metric, param, len(sl.Points))
	if sl.X.Scale == html.Categorical {
		fig.note += " Points are spread within each value's band."
	}
	return fig, nil
}

// metricScale is the colour bar of the metric over [lo, hi], the best end
// at the top.
func metricScale(f *html.Figures, lo, hi float64, title string) *colourBar {
	_, maximize := f.Metric()
	b := &colourBar{title: title, lo: report.Metric(lo), hi: report.Metric(hi)}
	if !maximize {
		b.lo, b.hi = b.hi, b.lo
	}
	return b
}

// parallel: an axis per parameter and one for the metric, a line per
// trial coloured by its metric, the best in black.
func parallel(f *html.Figures) *figure {
	pa := f.Parallel()
	p := newPlot()
	p.HideAxes()
	n := len(pa.Axes)
	p.X.Min, p.X.Max = -0.12, float64(n-1)+0.2
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(parallelLines{pa})
	metric, _ := f.Metric()
	fig := &figure{title: "Parallel coordinates of " + f.Name(), body: func(c draw.Canvas, _ raster) {
		// Room for the axes' titles above them and their tick labels on
		// the left of the first.
		sty := style(sans, smallSize, draw.XCenter, draw.YBottom)
		p.Draw(draw.Crop(c, 42, -8, 4, -(2*sty.Height("x") + 6)))
	}}
	fig.side.bar = metricScale(f, pa.Lo, pa.Hi, metric)
	fig.side.entries = []entry{lineEntry(draw.LineStyle{Color: color.Black, Width: 2}, "best trial")}
	fig.note = fmt.Sprintf("One line per trial with a metric (%d), coloured by %s, brighter is better, the best trial in black.", pa.Trials, metric)
	if pa.Note != "" {
		fig.note += " " + pa.Note
	}
	return fig
}

// parallelLines draws the parallel coordinates: the lines, worst first,
// then the axes with their ticks and titles.
type parallelLines struct{ pa html.Parallel }

func (pl parallelLines) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	pa := pl.pa
	points := func(l html.Line) [][]vg.Point {
		var lines [][]vg.Point
		var cur []vg.Point
		for j, v := range l.Values {
			if math.IsNaN(v) && j < len(pa.Axes)-1 {
				if len(cur) > 0 {
					lines, cur = append(lines, cur), nil
				}
				continue
			}
			cur = append(cur, vg.Point{X: trX(float64(j)), Y: trY(norm(pa.Axes[j], v))})
		}
		return append(lines, cur)
	}
	alpha := 0.75
	if len(pa.Lines) > 300 {
		alpha = 0.35
	}
	var best *html.Line
	for k := len(pa.Lines) - 1; k >= 0; k-- {
		l := pa.Lines[k]
		if l.Best {
			best = &pa.Lines[k]
			continue
		}
		c.StrokeLines(draw.LineStyle{Color: withAlpha(html.Viridis(l.Goodness), alpha), Width: 0.8}, points(l)...)
	}
	if best != nil {
		ls := points(*best)
		c.StrokeLines(draw.LineStyle{Color: color.Black, Width: 2}, ls...)
		if last := ls[len(ls)-1]; len(last) > 0 {
			label(&c, last[len(last)-1], 3, strconv.Itoa(best.Trial))
		}
	}
	axisStyle := draw.LineStyle{Color: color.Gray{0x33}, Width: 0.8}
	tick := style(sans, smallSize, draw.XRight, draw.YCenter)
	title := style(sans, smallSize, draw.XCenter, draw.YBottom)
	for j, a := range pa.Axes {
		x := trX(float64(j))
		c.StrokeLine2(axisStyle, x, trY(0), x, trY(1))
		for _, t := range a.Ticks() {
			y := trY(norm(a, t.Value))
			c.StrokeLine2(axisStyle, x-3, y, x, y)
			haloText(&c, tick, vg.Point{X: x - 4, Y: y}, t.Label)
		}
		name, scale, _ := strings.Cut(a.Title, " (")
		y := trY(1) + 4
		if scale != "" {
			c.FillText(title, vg.Point{X: x, Y: y}, "("+scale)
			y += title.Height("x")
		}
		c.FillText(title, vg.Point{X: x, Y: y}, name)
	}
}

// curves: the training loss, then the validation and training accuracy,
// per epoch, of the best trials in colour and others faint.
func curves(f *html.Figures) (*figure, error) {
	cv, err := f.Curves()
	if err != nil {
		return nil, err
	}
	faint := draw.LineStyle{Color: withAlpha(html.StatusColour(results.Pending), 0.35), Width: 0.8}
	dashed := func(ls draw.LineStyle) draw.LineStyle {
		ls.Dashes = []vg.Length{4, 2.5}
		return ls
	}
	loss, acc := newPlot(), newPlot()
	setAxes(loss, cv.X, cv.LossY)
	setAxes(acc, cv.X, cv.AccY)
	xys := func(h []results.Epoch, v func(results.Epoch) float64) []html.XY {
		out := make([]html.XY, len(h))
		for k, e := range h {
			out[k] = html.XY{X: e.Epoch, Y: v(e)}
		}
		return out
	}
	lossOf := func(e results.Epoch) float64 { return e.Loss }
	valOf := func(e results.Epoch) float64 { return e.ValAcc }
	trainOf := func(e results.Epoch) float64 { return e.TrainAcc }
	for _, c := range cv.Faint {
		loss.Add(polyline{xys: xys(c.History, lossOf), style: faint})
		acc.Add(polyline{xys: xys(c.History, valOf), style: faint})
	}
	var fig figure
	best, _, hasBest := f.Best()
	for k, c := range cv.Top {
		ls := draw.LineStyle{Color: html.OkabeIto(k), Width: 1.6}
		loss.Add(polyline{xys: xys(c.History, lossOf), style: ls, dot: true})
		acc.Add(polyline{xys: xys(c.History, trainOf), style: dashed(ls)}, polyline{xys: xys(c.History, valOf), style: ls, dot: true})
		lbl := fmt.Sprintf("trial %d (#%d)", c.Trial, k+1)
		if hasBest && c.Trial == best {
			lbl = fmt.Sprintf("trial %d (best)", c.Trial)
		}
		fig.side.entries = append(fig.side.entries, lineEntry(ls, lbl))
	}
	if len(cv.Rungs) > 0 {
		loss.Add(rungLines{cv.Rungs, false})
		acc.Add(rungLines{cv.Rungs, true})
	}
	key := draw.LineStyle{Color: color.Gray{0x44}, Width: 1.6}
	fig.side.entries = append(fig.side.entries, lineEntry(key, "validation"), lineEntry(dashed(key), "training"))
	if len(cv.Faint) > 0 {
		fig.side.entries = append(fig.side.entries, lineEntry(draw.LineStyle{Color: grey, Width: 1}, "other trials"))
	}
	if len(cv.Rungs) > 0 {
		fig.side.entries = append(fig.side.entries, lineEntry(rungStyle, "rung: trials reaching it"))
	}
	fig.title = "Learning curves of " + f.Name()
	fig.body = func(c draw.Canvas, _ raster) {
		plots := [][]*gplot.Plot{{loss}, {acc}}
		cs := gplot.Align(plots, draw.Tiles{Rows: 2, Cols: 1, PadY: 3 * pad}, c)
		loss.Draw(cs[0][0])
		acc.Draw(cs[1][0])
	}
	fig.note = fmt.Sprintf("Top: training loss; bottom: validation accuracy (solid) and training accuracy (dashed) of the %d best trials, a dot where each stopped; faint: the validation accuracy of other trials.", len(cv.Top))
	if cv.Note != "" {
		fig.note += " " + cv.Note
	}
	return &fig, nil
}

var rungStyle = draw.LineStyle{Color: color.Gray{0x55}, Width: 0.8, Dashes: []vg.Length{1.5, 2.5}}

// rungLines marks the rungs of an adaptive search: a dotted line at each,
// labelled with how many trials reached it when labels.
type rungLines struct {
	rungs  []html.Rung
	labels bool
}

func (r rungLines) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for k, rg := range r.rungs {
		x := trX(rg.Epochs)
		c.StrokeLine2(rungStyle, x, c.Min.Y, x, c.Max.Y)
		if !r.labels {
			continue
		}
		sty := style(sans, smallSize, draw.XLeft, draw.YTop)
		lx := x + 2
		if x > (c.Min.X+c.Max.X)/2 {
			sty.XAlign, lx = draw.XRight, x-2
		}
		haloText(&c, sty, vg.Point{X: lx, Y: c.Max.Y - 2 - vg.Length(k%3)*smallSize*1.3}, fmt.Sprintf("rung %d: %d", k+1, rg.Trials))
	}
}

// importance: each parameter's share, largest at the top.
func importance(f *html.Figures) (*figure, error) {
	imp, err := f.Importance()
	if err != nil {
		return nil, err
	}
	p := newPlot()
	names := make([]string, len(imp.Bars))
	for k, b := range imp.Bars {
		names[len(imp.Bars)-1-k] = b.Name
	}
	addGrid(p, true, false)
	p.Add(bars{imp.Bars})
	p.X.Label.Text = imp.XTitle
	p.X.Min, p.X.Max = 0, 1.08 // room for the last percentage
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	p.Y.Tick.Label.Font.Size = labelSize
	fig := &figure{title: "Parameter importance in " + f.Name() + ": " + imp.Estimator, body: single(p)}
	fig.note = "Method: " + imp.Method + "."
	if imp.Note != "" {
		fig.note += " " + imp.Note + "."
	}
	return fig, nil
}

// bars draws importance shares as horizontal bars, the first at the top,
// each with its percentage.
type bars struct{ bars []html.Bar }

func (b bars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(b.bars)
	sty := style(sans, tickSize, draw.XLeft, draw.YCenter)
	for k, bar := range b.bars {
		y := float64(n - 1 - k)
		col := color.Color(html.OkabeIto(0))
		if bar.Rest {
			col = grey
		}
		r := vg.Rectangle{Min: vg.Point{X: trX(0), Y: trY(y - 0.32)}, Max: vg.Point{X: trX(math.Min(bar.Share, 1)), Y: trY(y + 0.32)}}
		c.SetColor(col)
		c.Fill(r.Path())
		c.FillText(sty, vg.Point{X: r.Max.X + 4, Y: trY(y)}, fmt.Sprintf("%.1f%%", 100*bar.Share))
	}
}

// timeline: each trial that started as a bar from its first claim to its
// end, on lanes of trials that ran at once.
func timeline(f *html.Figures) (*figure, error) {
	tl, err := f.Timeline()
	if err != nil {
		return nil, err
	}
	p := newPlot()
	addGrid(p, true, false)
	setAxis(&p.X, tl.X, true)
	p.Y.Label.Text = tl.LaneTitle
	p.Y.Min, p.Y.Max = 0, float64(tl.Lanes)
	p.Y.Tick.Marker = laneTicks(tl.Lanes)
	p.Add(spans{tl})
	fig := &figure{title: "Timeline of " + f.Name(), body: single(p)}
	present := map[results.Status]bool{}
	waited, open, resumed := false, false, 0
	for _, sp := range tl.Spans {
		present[sp.Status] = true
		waited, open = waited || sp.Waited, open || sp.Open
		if sp.Claims > 1 {
			resumed++
		}
	}
	for _, st := range results.Statuses {
		if present[st] {
			fig.side.entries = append(fig.side.entries, swatchEntry(html.StatusColour(st), nil, string(st)))
		}
	}
	blue := html.StatusColour(results.Done)
	if waited {
		fig.side.entries = append(fig.side.entries, swatchEntry(withAlpha(blue, 0.45), nil, "pale: waited in between"))
	}
	if open {
		fig.side.entries = append(fig.side.entries, swatchEntry(withAlpha(blue, 0.35), &draw.LineStyle{Color: blue, Width: 0.8, Dashes: []vg.Length{2, 1.5}}, "dashed: end unknown"))
	}
	if resumed > 0 {
		fig.side.entries = append(fig.side.entries, entry{func(c *draw.Canvas, at vg.Point) { resumedMark(c, at.X-3, at.Y, 8) }, "claimed again"})
	}
	fig.note = fmt.Sprintf("Each started trial as a bar from its first claim to its end, coloured by status; trials that overlap in time are on different lanes (%d at most ran at once); lanes are not workers. %d trial%s were claimed more than once.", tl.Lanes, resumed, plural(resumed))
	return fig, nil
}

// laneTicks labels the lanes, 1 at the top: every one up to 12, else
// about ten of them.
func laneTicks(lanes int) gplot.ConstantTicks {
	step := max(1, int(math.Ceil(float64(lanes)/10)))
	var ticks gplot.ConstantTicks
	for l := 0; l < lanes; l += step {
		ticks = append(ticks, gplot.Tick{Value: float64(lanes-l) - 0.5, Label: strconv.Itoa(l + 1)})
	}
	return ticks
}

// spans draws the timeline's bars.
type spans struct{ tl html.Timeline }

func (s spans) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, sp := range s.tl.Spans {
		y0, y1 := trY(float64(s.tl.Lanes-sp.Lane-1)), trY(float64(s.tl.Lanes-sp.Lane))
		gap := min((y1-y0)*0.08, 1)
		x0 := trX(sp.Start)
		x1 := max(trX(sp.End), x0+1)
		r := vg.Rectangle{Min: vg.Point{X: x0, Y: y0 + gap}, Max: vg.Point{X: x1, Y: y1 - gap}}
		col := html.StatusColour(sp.Status)
		var fill color.Color = col
		switch {
		case sp.Open:
			fill = withAlpha(col, 0.35)
		case sp.Waited:
			fill = withAlpha(col, 0.45)
		}
		c.SetColor(fill)
		c.Fill(r.Path())
		if sp.Open {
			c.SetLineStyle(draw.LineStyle{Color: col, Width: 0.8, Dashes: []vg.Length{2, 1.5}})
			c.Stroke(r.Path())
		}
		if sp.Claims > 1 {
			resumedMark(&c, x0, (r.Min.Y+r.Max.Y)/2, r.Max.Y-r.Min.Y)
		}
	}
}

// resumedMark is a black triangle pointing right at x, h tall, centred on
// y: a trial claimed more than once.
func resumedMark(c *draw.Canvas, x, y, h vg.Length) {
	h = min(h, 10)
	var t vg.Path
	t.Move(vg.Point{X: x, Y: y + h/2})
	t.Line(vg.Point{X: x + h*0.6, Y: y})
	t.Line(vg.Point{X: x, Y: y - h/2})
	t.Close()
	c.SetColor(color.Black)
	c.Fill(t)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
