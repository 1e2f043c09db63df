package html

import (
	"math"
	"slices"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Input is everything a report shows. Only Sweep is required; what is
// missing is said in its section.
type Input struct {
	// Sweep is the sweep's record with its stored spec (Canonical) and
	// its test-set evaluations.
	Sweep *results.Sweep
	// Spec is the stored spec, parsed: the search method, the parameters'
	// ranges (a log axis for log_uniform, a categorical one for lists),
	// the data and the workers. nil: axes are guessed from the values.
	Spec *search.Spec
	// Trials are every trial of the sweep, in any order.
	Trials []results.Trial
	// Histories are per-epoch histories by trial number. They need not
	// hold every trial: HistoryWanted says which ones the learning curves
	// draw.
	Histories map[int][]results.Epoch
	// Best is the selected best trial (results.Sweep.Selected), nil while
	// no selection stands: the report then shows the current leader, not
	// final, without a test accuracy.
	Best *results.Best
	// Net is the best net's section: nil when there is none to show.
	Net *NetView
	// Generated is the report's time, printed in it (and the "now" of the
	// timeline for running trials).
	Generated time.Time
	// Notes are the caller's remarks for the reader, shown in the
	// summary (e.g. why Spec is nil).
	Notes []string
	// TopK is how many of the best trials the learning curves draw in
	// full and in colour; 0 means DefaultTopK.
	TopK int
}

// NetView is the best net: its first layer's weights, and how it does on
// the validation set. Any part may be missing; the section says which.
type NetView struct {
	Trial int
	// Shape is the shape of one input image, (C, H, W) as the data
	// package gives it (C 1: grey, 3: colour, rows channel-major), or (D)
	// for data that is not images.
	Shape []int
	// Classes are the class names, by label.
	Classes []string
	// W1 is the first layer's weights, D×H row-major (one column per
	// hidden unit), D the product of Shape; nil when not kept.
	W1   []float32
	D, H int
	// Confusion counts validation images by true label (row) and
	// predicted label (column); nil when not computed.
	Confusion [][]int
	// Misclassified are a few misclassified validation images.
	Misclassified []Example
	// Note says what is missing and why, for the reader.
	Note string
}

// Example is one validation image and the net's prediction.
type Example struct {
	Index     int       // in the validation split
	Pixels    []float32 // the image, Shape's layout; any scale (it is drawn normalised)
	True      int       // label
	Predicted int
}

// Defaults of the figures.
const (
	// DefaultTopK is how many of the best trials the learning curves draw
	// in full and in colour.
	DefaultTopK = 5
	// MaxFaintCurves is how many other trials' curves are drawn faintly.
	MaxFaintCurves = 200
	// MaxPoints is the number of trials above which the slice plots draw a
	// binned density, and the parallel coordinates a sample, instead of
	// one mark per trial.
	MaxPoints = 2000
)

// HistoryWanted returns the numbers of the trials whose histories the
// learning curves draw: the topK best (0: DefaultTopK) by results.Less,
// then up to MaxFaintCurves others spread evenly over the ranking. A
// caller that reads histories one trial at a time reads these only.
func HistoryWanted(trials []results.Trial, maximize bool, topK int) []int {
	if topK <= 0 {
		topK = DefaultTopK
	}
	ranked := slices.Clone(trials)
	results.Rank(ranked, maximize)
	var with []int
	for _, t := range ranked {
		if t.Status != results.Pending {
			with = append(with, t.Number)
		}
	}
	if len(with) <= topK+MaxFaintCurves {
		return with
	}
	out := slices.Clone(with[:topK])
	rest := with[topK:]
	for i := range MaxFaintCurves {
		out = append(out, rest[i*len(rest)/MaxFaintCurves])
	}
	return out
}

// metricOf is t's value of the sweep's metric.
func metricOf(t *results.Trial, metric string) float64 {
	if metric == "val_loss" {
		return t.ValLoss
	}
	return t.ValAcc
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// better reports whether metric value a is better than b (NaN is worst).
func better(a, b float64, maximize bool) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case maximize:
		return a > b
	}
	return a < b
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
