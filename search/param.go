package search

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Param is one searched parameter of [search.params]: a list of values, or a
// range. A range with Steps is a list too: Steps values spaced evenly
// (log-spaced for log_uniform, rounded to integers for int_uniform).
type Param struct {
	Name   string  // a [model] or [train] key
	Values []any   // list form: float64, int, string, []int or []float64 values by key; nil for a range
	Dist   string  // range form: uniform | log_uniform | int_uniform; "" for a list
	Min    float64 // range form: the bounds, both included (integers for int_uniform)
	Max    float64
	Steps  int // range form: the number of grid points; 0 for a continuous range (random search only)
}

// sigDigits is the precision of every generated value (range steps and random
// samples): they print, store and reproduce exactly.
const sigDigits = 6

func roundSig(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', sigDigits, 64), 64)
	return r
}

// Len is the number of distinct values of the parameter, or 0 for a
// continuous range (uniform or log_uniform without steps).
func (p Param) Len() int {
	switch {
	case p.Dist == "":
		return len(p.Values)
	case p.Steps > 0:
		return p.Steps
	case p.Dist == "int_uniform":
		return int(p.Max-p.Min) + 1
	}
	return 0
}

// at returns value k of the parameter's Len values, in order.
func (p Param) at(k int) any {
	if p.Dist == "" {
		return p.Values[k]
	}
	if p.Steps == 0 { // int_uniform
		return int(p.Min) + k
	}
	t := float64(k) / float64(p.Steps-1)
	switch {
	case p.Dist == "int_uniform":
		return int(math.Round(p.Min + t*(p.Max-p.Min)))
	case k == 0: // exact ends, whatever the rounding of exp and log
		return roundSig(p.Min)
	case k == p.Steps-1:
		return roundSig(p.Max)
	case p.Dist == "log_uniform":
		return roundSig(math.Exp(math.Log(p.Min) + t*(math.Log(p.Max)-math.Log(p.Min))))
	}
	return roundSig(p.Min + t*(p.Max-p.Min))
}

// sample draws the parameter's value from the random 64 bits u.
func (p Param) sample(u uint64) any {
	if n := p.Len(); n > 0 {
		return p.at(index(u, n))
	}
	f := float64(u>>11) / (1 << 53) // [0, 1)
	if p.Dist == "log_uniform" {
		return roundSig(math.Exp(math.Log(p.Min) + f*(math.Log(p.Max)-math.Log(p.Min))))
	}
	return roundSig(p.Min + f*(p.Max-p.Min))
}

// index maps u uniformly (up to n/2⁶⁴) onto [0, n).
func index(u uint64, n int) int {
	hi, _ := bits.Mul64(u, uint64(n))
	return int(hi)
}

// String formats the parameter as its [search.params] line.
func (p Param) String() string {
	if p.Dist == "" {
		vs := make([]string, len(p.Values))
		for i, v := range p.Values {
			vs[i] = FormatValue(v)
		}
		return fmt.Sprintf("%s = [%s]", p.Name, strings.Join(vs, ", "))
	}
	lo, hi := fmtFloat(p.Min), fmtFloat(p.Max)
	if p.Dist == "int_uniform" {
		lo, hi = strconv.Itoa(int(p.Min)), strconv.Itoa(int(p.Max))
	}
	steps := ""
	if p.Steps > 0 {
		steps = fmt.Sprintf(", steps = %d", p.Steps)
	}
	return fmt.Sprintf("%s = { %s = [%s, %s]%s }", p.Name, p.Dist, lo, hi, steps)
}

// param reads one [search.params] entry.
func (p *parser) param(def *paramDef, it *item) (Param, bool) {
	prm := Param{Name: def.name}
	switch raw := it.val.(type) {
	case []any:
		if len(raw) == 0 {
			p.addAt(it, ErrInvalid, "empty list: give at least one value")
			return prm, false
		}
		if _, nested := raw[0].([]any); def.kind == kindHidden && !nested {
			p.addAt(it, ErrType, "searched hidden sizes are a list of networks, each a list of layer sizes, e.g. [[50], [100], [100, 100]]")
			return prm, false
		}
		ok := true
		seen := make(map[string]bool)
		for _, x := range raw {
			v, vok := p.value(def, it, x)
			switch {
			case !vok:
				ok = false
			case seen[FormatValue(v)]:
				p.addAt(it, ErrInvalid, "%s is listed twice", FormatValue(v))
				ok = false
			default:
				seen[FormatValue(v)] = true
				prm.Values = append(prm.Values, v)
			}
		}
		return prm, ok
	case map[string]any:
		return p.rangeParam(def, it)
	}
	p.addAt(it, ErrType, "want a list of values or a range such as { log_uniform = [1e-5, 1e-2] }, got %s", typeName(it.val))
	return prm, false
}

// rangeParam reads { uniform | log_uniform | int_uniform = [min, max], steps = N }.
func (p *parser) rangeParam(def *paramDef, it *item) (Param, bool) {
	prm := Param{Name: def.name}
	if def.kind == kindString || def.kind == kindHidden {
		p.addAt(it, ErrType, "%s takes a list of values, not a range", def.name)
		return prm, false
	}
	var dist, steps *item
	ok := true
	for _, k := range it.kids {
		switch k.name {
		case "uniform", "log_uniform", "int_uniform":
			if dist != nil {
				p.addAt(k, ErrConflict, "a range has one distribution, and %s already has %s", def.name, dist.name)
				return prm, false
			}
			dist = k
		case "steps":
			steps = k
		default:
			p.unknown(k, "a range", rangeKeys)
			ok = false
		}
	}
	if dist == nil {
		p.addAt(it, ErrMissing, "a range needs uniform, log_uniform or int_uniform = [min, max]")
		return prm, false
	}
	prm.Dist = dist.name
	if steps != nil {
		if n, sok := p.int(steps, 2, maxSteps); sok {
			prm.Steps = n
		} else {
			ok = false
		}
	}
	switch {
	case def.kind == kindInt && prm.Dist != "int_uniform":
		p.addAt(dist, ErrType, "%s takes integers: use int_uniform = [min, max]", def.name)
		return prm, false
	case def.kind.floaty() && prm.Dist == "int_uniform":
		p.addAt(dist, ErrType, "%s is not an integer: use uniform or log_uniform", def.name)
		return prm, false
	}
	bounds, isList := dist.val.([]any)
	switch {
	case !isList:
		p.addAt(dist, ErrType, "want [min, max], got %s", typeName(dist.val))
		return prm, false
	case len(bounds) != 2:
		p.addAt(dist, ErrType, "want two values [min, max], got %d", len(bounds))
		return prm, false
	}
	var lohi [2]float64
	for i, x := range bounds {
		v, vok := p.value(def, dist, x)
		if !vok {
			return prm, false
		}
		switch v := v.(type) {
		case int:
			lohi[i] = float64(v)
		case float64:
			lohi[i] = roundSig(v)
			if msg := def.check(lohi[i]); msg != "" {
				p.addAt(dist, ErrInvalid, "%s (at %d significant digits)", msg, sigDigits)
				return prm, false
			}
		default:
			p.addAt(dist, ErrType, "a range is between numbers, not %s: list the values instead", typeName(x))
			return prm, false
		}
	}
	prm.Min, prm.Max = lohi[0], lohi[1]
	switch {
	case prm.Min >= prm.Max:
		p.addAt(dist, ErrInvalid, "min %s must be less than max %s", fmtFloat(prm.Min), fmtFloat(prm.Max))
		return prm, false
	case prm.Dist == "log_uniform" && prm.Min <= 0:
		p.addAt(dist, ErrInvalid, "log_uniform needs min > 0, got %s", fmtFloat(prm.Min))
		return prm, false
	case prm.Dist == "int_uniform" && prm.Steps > int(prm.Max-prm.Min)+1:
		p.addAt(steps, ErrInvalid, "steps = %d is more than the %d integers from %d to %d", prm.Steps, int(prm.Max-prm.Min)+1, int(prm.Min), int(prm.Max))
		return prm, false
	}
	if prm.Steps > 0 && prm.Dist != "int_uniform" && !prm.coarse() {
		p.addAt(steps, ErrInvalid, "steps = %d is too fine for [%s, %s]: values would repeat at %d significant digits", prm.Steps, fmtFloat(prm.Min), fmtFloat(prm.Max), sigDigits)
		return prm, false
	}
	return prm, ok
}

// coarse reports whether the steps of a float range (0 <= Min < Max) are far
// enough apart to stay distinct when rounded to sigDigits: every gap is at
// least the rounding unit of the larger value, which is at most that value
// times 10^(1-sigDigits). Exact enough, and O(1) for a million steps.
func (p Param) coarse() bool {
	unit := math.Pow(10, 1-sigDigits)
	if p.Dist == "log_uniform" {
		ratio := math.Pow(p.Max/p.Min, 1/float64(p.Steps-1))
		return 1-1/ratio > unit
	}
	return (p.Max-p.Min)/float64(p.Steps-1) > p.Max*unit
}

// maxSteps bounds steps and max_trials: a sweep is trained, not enumerated.
const maxSteps = 1_000_000
