package html

import (
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// This file exports the data behind each figure of the report, in data
// units and free of any drawing, for other renderers (report/plot draws
// them with gonum/plot). The report draws from the same functions, so a
// figure and its plot show the same trials on the same axes.

// Axis titles shared by the report and other renderers.
const (
	historyXTitle    = "trials in the order they started (n-th started)"
	importanceXTitle = "share of importance (fraction, sums to 1)"
	predictedTitle   = "predicted label"
	trueTitle        = "true label"
)

// XY is a point in data units.
type XY struct{ X, Y float64 }

// Scale is how an axis maps values.
type Scale int

// The scales of axes.
const (
	Linear      = Scale(linear)
	Log         = Scale(logScale) // base 10
	Categorical = Scale(categorical)
)

// Tick is a labelled value on an axis.
type Tick struct {
	Value float64 // in data units: a category's index on a categorical axis
	Label string
}

// Axis is a figure's axis in data units.
type Axis struct {
	// Title names what the axis shows, with its unit or scale.
	Title string
	Scale Scale
	// Min and Max are the range drawn, padding included; a categorical
	// axis spans [-0.5, len(Categories)-0.5], category k at k.
	Min, Max   float64
	Categories []string
}

func exportAxis(a axis, title string) Axis {
	if a.kind == categorical {
		return CategoryAxis(title, a.cats)
	}
	out := Axis{Title: title, Scale: Scale(a.kind), Min: a.lo, Max: a.hi}
	if a.kind == logScale {
		out.Min, out.Max = math.Pow(10, a.lo), math.Pow(10, a.hi)
	}
	return out
}

// CategoryAxis is a categorical axis of cats, the k-th at k.
func CategoryAxis(title string, cats []string) Axis {
	return Axis{Title: title, Scale: Categorical, Min: -0.5, Max: float64(len(cats)) - 0.5, Categories: cats}
}

// Ticks are the axis' labelled values, as the report draws them:
// categories, decades on a log axis (1, 2, 5 within them when it spans
// less than two), round numbers on a linear one.
func (a Axis) Ticks() []Tick {
	switch a.Scale {
	case Categorical:
		return newCatAxis(a.Categories).tickValues()
	case Log:
		return axis{kind: logScale, lo: math.Log10(a.Min), hi: math.Log10(a.Max)}.tickValues()
	}
	return axis{kind: linear, lo: a.Min, hi: a.Max}.tickValues()
}

// Clamp returns v within the axis, and whether it was off it: a value
// beyond the axis is drawn at its edge, +Inf at Max, NaN and -Inf at Min.
func (a Axis) Clamp(v float64) (float64, bool) {
	switch {
	case math.IsInf(v, 1):
		return a.Max, true
	case math.IsNaN(v) || v < a.Min:
		return a.Min, true
	case v > a.Max:
		return a.Max, true
	}
	return v, false
}

// Figures is an Input digested once: the data of each figure of its
// report. It reads the Input, which must not change while it is used.
type Figures struct{ s *study }

// NewFigures digests in.
func NewFigures(in *Input) (*Figures, error) {
	if in == nil || in.Sweep == nil {
		return nil, errors.New("report: no sweep")
	}
	return &Figures{newStudy(in)}, nil
}

// Name is the sweep's name.
func (f *Figures) Name() string { return f.s.in.Sweep.Name }

// Metric is the sweep's metric, val_acc or val_loss, and whether it is
// maximised.
func (f *Figures) Metric() (name string, maximize bool) { return f.s.metric, f.s.maximize }

// Params are the searched parameters: the spec's, in its order, then any
// other a trial has.
func (f *Figures) Params() []string {
	out := make([]string, len(f.s.params))
	for j, p := range f.s.params {
		out[j] = p.name
	}
	return out
}

// Best is the best trial's number: the selected one (final), or the
// current leader; ok is false while no trial is done.
func (f *Figures) Best() (trial int, final, ok bool) {
	if f.s.best < 0 {
		return 0, false, false
	}
	return f.s.ranked[f.s.best].Number, f.s.final, true
}

// Point is a trial's mark on an x-y figure: filled when Filled(Status),
// else hollow, crossed when diverged, in StatusColour(Status); the best
// one ringed and labelled with its number.
type Point struct {
	Trial  int
	Status results.Status
	// X is the trial's value on the figure's x axis: its start position,
	// a parameter's value, or a category's index.
	X float64
	// Offset spreads the points of a category within its band, a
	// fraction of the band's width (within ±0.25), the same for a trial
	// in every figure; 0 on a numeric axis.
	Offset float64
	// Y is the trial's metric: beyond its axis (a diverged trial's), NaN
	// or infinite, it is drawn at the axis' edge (Axis.Clamp).
	Y    float64
	Best bool
}

func (s *study) exportPoint(i int, x float64) Point {
	t := &s.ranked[i]
	return Point{Trial: t.Number, Status: t.Status, X: x, Y: s.y[i], Best: i == s.best}
}

// History is the optimization history.
type History struct {
	X, Y Axis
	// Points are the trials with a metric, in the order they started.
	Points []Point
	// Started is how many trials started: X counts them, those without
	// a metric (failed, running, interrupted) too.
	Started int
	// BestSoFar are the corners of the step line of the best metric of
	// the trials trained to their end so far.
	BestSoFar []XY
}

// History is the optimization history: each trial's metric in the order
// they started, and the best so far.
func (f *Figures) History() History {
	s := f.s
	hd := s.historyData()
	h := History{X: exportAxis(hd.x, historyXTitle), Y: exportAxis(s.yAxis(), s.metric), Started: len(hd.order), BestSoFar: hd.steps}
	for _, i := range hd.pts {
		h.Points = append(h.Points, s.exportPoint(i, float64(hd.pos[i])))
	}
	return h
}

// Slice is a slice plot: the metric against one parameter.
type Slice struct {
	Param string
	X, Y  Axis
	// Points are the trials with a metric and a value of Param, best
	// first.
	Points []Point
}

// Slice is the slice plot of parameter name; ok is false if the sweep
// does not search it.
func (f *Figures) Slice(name string) (sl Slice, ok bool) {
	s := f.s
	for _, p := range s.params {
		if p.name != name {
			continue
		}
		sl = Slice{Param: name, X: exportAxis(p.axis(0.03), p.title()), Y: exportAxis(s.yAxis(), s.metric)}
		for _, i := range s.slicePoints(p) {
			pt := s.exportPoint(i, p.x[i])
			if p.kind == categorical {
				pt.Offset = jitter(pt.Trial)
			}
			sl.Points = append(sl.Points, pt)
		}
		return sl, true
	}
	return sl, false
}

// Parallel is the parallel-coordinates plot.
type Parallel struct {
	// Axes are one per parameter, then the metric's.
	Axes []Axis
	// Lines are the trials drawn, best first.
	Lines []Line
	// Trials is how many trials have a metric; above MaxPoints, Lines
	// are a sample of them, which Note says.
	Trials int
	Note   string
	// Lo and Hi are the metric's values at the ends of the colour scale.
	Lo, Hi float64
}

// Line is a trial on the parallel coordinates, in Viridis(Goodness)
// (the best in black).
type Line struct {
	Trial  int
	Status results.Status
	// Values are the trial's value on each axis: a parameter's value or
	// category index (NaN: none), then its metric (see Axis.Clamp).
	Values []float64
	// Goodness is the metric mapped to [0, 1] over [Lo, Hi], 1 the best
	// end; NaN without a finite metric.
	Goodness float64
	Best     bool
}

// Parallel is the parallel-coordinates plot: an axis per parameter and
// one for the metric, a line per trial.
func (f *Figures) Parallel() Parallel {
	s := f.s
	lines, shown, note := s.parallelLines()
	lo, hi := s.yRange()
	pa := Parallel{Trials: len(lines), Note: note, Lo: lo, Hi: hi}
	for j, a := range s.parallelAxes() {
		title := s.metric
		if j < len(s.params) {
			title = s.params[j].title()
		}
		pa.Axes = append(pa.Axes, exportAxis(a, title))
	}
	for _, i := range shown {
		t := &s.ranked[i]
		l := Line{Trial: t.Number, Status: t.Status, Goodness: s.goodness(s.y[i], lo, hi), Best: i == s.best}
		for _, p := range s.params {
			l.Values = append(l.Values, p.x[i])
		}
		l.Values = append(l.Values, s.y[i])
		pa.Lines = append(pa.Lines, l)
	}
	return pa
}

// Curves are the learning curves of the best trials.
type Curves struct {
	// Top are the best trials with a history (Input.TopK of them), best
	// first: the k-th in OkabeIto(k).
	Top []Curve
	// Faint are other trials with a history, drawn faintly (a sample of
	// MaxFaintCurves of them when there are more: Note says).
	Faint []Curve
	Note  string
	// Rungs are the rungs of an adaptive search, with how many trials
	// reached each.
	Rungs []Rung
	// X is the epochs; LossY the training loss's axis, AccY the
	// accuracies'.
	X, LossY, AccY Axis
}

// Curve is a trial's per-epoch history.
type Curve struct {
	Trial   int
	Status  results.Status
	History []results.Epoch
}

// Rung is a rung of an adaptive search: its resource in epochs and how
// many trials reached it.
type Rung struct {
	Epochs float64
	Trials int
}

// Curves are the learning curves: training loss, and validation and
// training accuracy, per epoch, of the best trials and, faintly, others.
// It fails when no trial has a history.
func (f *Figures) Curves() (Curves, error) {
	s := f.s
	top, faint, note := s.curveSets()
	if len(top)+len(faint) == 0 {
		return Curves{}, errors.New("no trial has a recorded history yet")
	}
	xa, lossY := s.curveAxes(top, faint, false)
	_, accY := s.curveAxes(top, faint, true)
	cv := Curves{Note: note, X: exportAxis(xa, "epoch"), LossY: exportAxis(lossY, curveTitle(false)), AccY: exportAxis(accY, curveTitle(true))}
	curve := func(i int) Curve {
		t := &s.ranked[i]
		return Curve{Trial: t.Number, Status: t.Status, History: s.in.Histories[t.Number]}
	}
	for _, i := range top {
		cv.Top = append(cv.Top, curve(i))
	}
	for _, i := range faint {
		cv.Faint = append(cv.Faint, curve(i))
	}
	for _, r := range s.rungs() {
		cv.Rungs = append(cv.Rungs, Rung{Epochs: r.epochs, Trials: r.n})
	}
	return cv, nil
}

// Importance is the parameters' importance.
type Importance struct {
	// Estimator names the method in a few words; Method says it in full.
	Estimator, Method string
	// Bars are the shares, largest first, then the interactions' (a full
	// grid's rest).
	Bars []Bar
	// Note is a remark on the estimate.
	Note   string
	XTitle string
}

// Bar is a parameter's share of the importance, or the interactions'
// (Rest).
type Bar struct {
	Name  string
	Share float64
	Rest  bool
}

// Importance estimates the parameters' importance: an exact main-effect
// ANOVA for a full grid, PED-ANOVA for other searches. It fails, saying
// why, when there is no estimate.
func (f *Figures) Importance() (Importance, error) {
	imp := f.s.importance()
	if imp.share == nil {
		return Importance{}, errors.New("no estimate: " + imp.note)
	}
	return Importance{Estimator: imp.short, Method: imp.method, Bars: imp.bars(), Note: imp.note, XTitle: importanceXTitle}, nil
}

// Timeline is the trials on a time axis.
type Timeline struct {
	// X is the time since Start, in Unit (s, min or h).
	X     Axis
	Start time.Time
	Unit  string
	// Lanes is how many trials ran at once at most: a trial is on the
	// first lane free when it starts. Lanes are not workers.
	Lanes     int
	LaneTitle string
	Spans     []Span
}

// Span is a trial from its first claim to its end, in StatusColour.
type Span struct {
	Trial  int
	Status results.Status
	// Start and End are in the timeline's Unit since its Start.
	Start, End float64
	Lane       int
	// Open: the end is not known (paused or interrupted now): the span is
	// the time it trained. Waited: it trained for less than 90% of its
	// span (paused at a rung, or interrupted and resumed in between).
	Open, Waited bool
	// Claims is how many times it was claimed (more than once after an
	// interruption, a crash or a promotion).
	Claims int
}

// Timeline is every trial that started as a span from its first claim to
// its end, on lanes. It fails when no trial started.
func (f *Figures) Timeline() (Timeline, error) {
	s := f.s
	td, ok := s.timelineData()
	if !ok {
		return Timeline{}, errors.New("no trial has started yet")
	}
	tl := Timeline{X: exportAxis(td.axis(), td.xTitle()), Start: td.t0, Unit: td.unit, Lanes: td.lanes, LaneTitle: laneTitle(td.lanes)}
	for _, sp := range td.spans {
		t := &s.ranked[sp.i]
		tl.Spans = append(tl.Spans, Span{Trial: t.Number, Status: t.Status,
			Start: sp.start.Sub(td.t0).Seconds() / td.div, End: sp.end.Sub(td.t0).Seconds() / td.div,
			Lane: sp.lane, Open: !sp.known, Waited: sp.waited, Claims: max(t.Attempts, 1)})
	}
	return tl, nil
}

// Weights are the best net's first-layer weights as images.
type Weights struct {
	Trial int
	// Tiles are one image per hidden unit: its input weights reshaped
	// to the input image and scaled to their own minimum and maximum,
	// Width×Height, grey (Channels 1) or colour (3).
	Tiles                   []image.Image
	Channels, Height, Width int
	// D is the input's size; IsImage is false when the input is not an
	// image: each tile then holds its D weights row by row.
	D       int
	IsImage bool
}

// Weights are the best net's first-layer weights, a tile per hidden
// unit. It fails, saying why, when they were not kept.
func (f *Figures) Weights() (Weights, error) {
	n, err := f.net()
	if err != nil {
		return Weights{}, err
	}
	if !n.hasWeights() {
		return Weights{}, fmt.Errorf("trial %d's first-layer weights were not kept%s", n.Trial, noteSuffix(n.Note))
	}
	c, h, w, isImage := imageShape(n.Shape, n.D)
	wt := Weights{Trial: n.Trial, Channels: c, Height: h, Width: w, D: n.D, IsImage: isImage}
	col := make([]float32, n.D)
	for j := range n.H {
		wt.Tiles = append(wt.Tiles, tileImage(n.unit(j, col), c, h, w))
	}
	return wt, nil
}

// Confusion is the best net's confusion matrix on the validation set.
type Confusion struct {
	Trial int
	// Classes are the class names by label.
	Classes []string
	// Counts are the validation images by true label (row) and predicted
	// label (column).
	Counts [][]int
	// XTitle and YTitle are the titles of the predicted (column) and
	// true (row) labels.
	XTitle, YTitle string
}

// Shares are row i's counts as fractions of the row (the colour of the
// cells).
func (c Confusion) Shares(i int) []float64 { return rowShares(c.Counts[i]) }

// Confusion is the best net's confusion matrix on the validation set. It
// fails, saying why, when it was not computed.
func (f *Figures) Confusion() (Confusion, error) {
	n, err := f.net()
	if err != nil {
		return Confusion{}, err
	}
	if n.Confusion == nil {
		return Confusion{}, fmt.Errorf("trial %d's confusion matrix was not computed%s", n.Trial, noteSuffix(n.Note))
	}
	cm := Confusion{Trial: n.Trial, Counts: n.Confusion, XTitle: predictedTitle, YTitle: trueTitle}
	for k := range n.Confusion {
		cm.Classes = append(cm.Classes, className(n.Classes, k))
	}
	return cm, nil
}

func (f *Figures) net() (*NetView, error) {
	if f.s.in.Net == nil {
		return nil, errors.New("no net to show: no trial has finished training with its weights kept")
	}
	return f.s.in.Net, nil
}

// noteSuffix is a NetView's note as the end of an error message.
func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " (" + strings.TrimSuffix(note, ".") + ")"
}
