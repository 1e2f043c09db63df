package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/internal/paramfmt"
	"github.com/sweep-dev/sweep/results"
)

// Human formats a number for people: 0.513, 0.25, 50, 1.0e-03, 2.5e+05;
// NaN and the infinities as NonFinite.
func Human(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return NonFinite(v)
	case v == math.Trunc(v) && a < 1e5:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case a < 1e-2 || a >= 1e5:
		return strconv.FormatFloat(v, 'e', 1, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Epoch formats a fractional number of epochs for people, rounded to two
// decimals: 1.75, 88.89, 2.
func Epoch(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return Human(r)
}

// NonFinite formats NaN and the infinities as pandas reads them: NaN, inf,
// -inf. It is for non-finite values only: any finite v is "-inf".
func NonFinite(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v > 0:
		return "inf"
	}
	return "-inf"
}

// Metric formats an accuracy or a loss with three decimals: 0.513; a huge
// finite loss of a diverging trial in three significant digits (5.51e+15),
// so that it does not stretch a table.
func Metric(v float64) string { return MetricPrec(v, 3) }

// MetricPrec is Metric with the given number of decimals (progress lines
// use four: 0.5130).
func MetricPrec(v float64, decimals int) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return NonFinite(v)
	case math.Abs(v) >= 1e5:
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// Seconds formats a duration in seconds for people: 0.4s, 41.2s, 3m05s,
// 2h07m.
func Seconds(s float64) string {
	switch {
	case s < 60:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	case s < 3600:
		m := int(s) / 60
		return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
	}
	h := int(s) / 3600
	return fmt.Sprintf("%dh%02dm", h, (int(s)-3600*h)/60)
}

// Stamp formats a time for people, in UTC: 2026-11-26 12:00:05 UTC; the
// zero time as "-".
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Count says "1 trial" or "6 trials": n and noun, made plural with an s
// unless n is 1.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Times says "once", "twice" or "n times".
func Times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// FormatValue formats a parameter value (float64, int, string, bool, []int,
// []float64 or, read back from a store, []any; weight_scale's is a number or
// a name) as exports write it: every number exactly and short (0.001, 1e-5,
// 50), strings as they are, lists as [100,50]. It is results.Param.String.
func FormatValue(v any) string { return results.Param{Value: v}.String() }

// humanStyle is HumanValue's.
var humanStyle = paramfmt.Style{Float: Human, Sep: ","}

// HumanValue formats a parameter value for people: numbers by Human
// (1.0e-03), strings as they are, lists as [50,50].
func HumanValue(v any) string { return humanStyle.Format(v) }

// HumanParams formats a trial's searched values for people:
// "learning_rate=1.0e-03  reg=0.25".
func HumanParams(ps results.Params) string { return joinParams(ps, HumanValue, "  ") }

// ParamsText formats a trial's searched values exactly, on one line:
// "learning_rate=0.001 reg=0.25".
func ParamsText(ps results.Params) string { return joinParams(ps, FormatValue, " ") }

func joinParams(ps results.Params, format func(any) string, sep string) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + format(p.Value)
	}
	return strings.Join(parts, sep)
}
