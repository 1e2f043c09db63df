package search

import (
	"fmt"
	"math"
	"slices"
)

// At returns value k of a parameter with a finite number of values (Len >
// 0), in order: list values as listed, range steps from min to max, the
// integers of an int_uniform range from min. It panics when k is out of
// [0, Len) or the range is continuous: a programmer error.
func (p Param) At(k int) any {
	if n := p.Len(); k < 0 || k >= n {
		panic(fmt.Sprintf("search: value %d of parameter %s, which has %d", k, p.Name, n))
	}
	return p.at(k)
}

// Index returns the position of v among the parameter's values (the
// inverse of At), and false when v is not one of them or the range is
// continuous. Numbers compare by value, so an int 50 matches a float64 50.
func (p Param) Index(v any) (int, bool) {
	n := p.Len()
	switch {
	case n == 0:
		return 0, false
	case p.Dist == "":
		for k, x := range p.Values {
			if sameValue(x, v) {
				return k, true
			}
		}
		return 0, false
	}
	f, ok := number(v)
	if !ok || f < p.Min || f > p.Max {
		return 0, false
	}
	if p.Steps == 0 { // int_uniform: every integer
		k := f - p.Min
		return int(k), k == math.Trunc(k)
	}
	// Steps are evenly spaced (in log space for log_uniform): invert, then
	// look at the neighbours, which rounding may have moved.
	t := (f - p.Min) / (p.Max - p.Min)
	if p.Dist == "log_uniform" {
		t = math.Log(f/p.Min) / math.Log(p.Max/p.Min)
	}
	k0 := int(math.Round(t * float64(p.Steps-1)))
	for _, k := range []int{k0, k0 - 1, k0 + 1} {
		if k >= 0 && k < p.Steps && sameValue(p.at(k), v) {
			return k, true
		}
	}
	return 0, false
}

// Round rounds x, a value drawn from a continuous range (uniform or
// log_uniform without steps), as random draws are rounded: to 6
// significant digits, so that it prints, stores and compares exactly, and
// into [Min, Max].
func (p Param) Round(x float64) float64 {
	return min(max(roundSig(x), p.Min), p.Max)
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// sameValue reports whether two parameter values are equal. Numbers
// compare by value, whatever their type; lists element by element, also
// against the []any that JSON decodes a stored list to.
func sameValue(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case []int:
		return sameList(a, b)
	case []float64:
		return sameList(a, b)
	}
	return false
}

// sameList reports whether b is a list equal to a.
func sameList[E int | float64](a []E, b any) bool {
	switch b := b.(type) {
	case []E:
		return slices.Equal(a, b)
	case []any:
		if len(a) != len(b) {
			return false
		}
		for i, x := range b {
			if !sameValue(a[i], x) {
				return false
			}
		}
		return true
	}
	return false
}

// RandomSampler draws every parameter at random, as Spec.Trials draws the
// trials of a random search: trial number's attempt draws each parameter
// from bits hashed from (spec seed, number-1, attempt, parameter name),
// whatever the history. Spec.Draw with it gives random search's trials.
type RandomSampler struct {
	seed   uint64
	params []Param
}

var _ Sampler = (*RandomSampler)(nil)

// NewRandomSampler returns the random sampler of spec.
func NewRandomSampler(spec *Spec) *RandomSampler {
	return &RandomSampler{seed: spec.Seed, params: spec.Search.Params}
}

// Sample draws the values of trial number's attempt; it ignores h.
func (r *RandomSampler) Sample(_ []TrialRecord, number, attempt int) ([]any, error) {
	values := make([]any, len(r.params))
	for j, p := range r.params {
		values[j] = p.sample(hash64("sweep-draw/v1", r.seed, number-1, attempt, p.Name))
	}
	return values, nil
}

// Draw returns the configuration of new trial number (see NextNumber),
// drawn by smp. A draw that repeats the configuration of a trial of h is
// drawn again (attempt 1, 2, ...); after 64 repeats, a finite space gives its
// first unused point in grid order from a start hashed from (seed, number).
// So new trials never repeat one of h, and with a RandomSampler, trial n
// of a new sweep is Spec.Trials()[n-1]. Trial.Index is number-1.
//
// Draw returns an error wrapping ErrTooManyTrials when it finds no new
// configuration, and an error when smp fails or returns values that are
// not in the spec's space.
func (s *Spec) Draw(h []TrialRecord, number int, smp Sampler) (Trial, error) {
	i := number - 1
	for attempt := range maxRedraws {
		values, err := smp.Sample(h, number, attempt)
		if err != nil {
			return Trial{}, fmt.Errorf("draw trial %d: %w", number, err)
		}
		if err := s.checkDraw(values); err != nil {
			return Trial{}, fmt.Errorf("draw trial %d: %w", number, err)
		}
		if t := s.trial(i, values); !hasKey(h, t.Key) {
			return t, nil
		}
	}
	size, _ := spaceSize(s.Search.Params)
	for k, start := 0, index(hash64("sweep-fallback/v1", s.Seed, i), max(size, 1)); k < size; k++ {
		if t := s.trial(i, s.gridPoint((start+k)%size)); !hasKey(h, t.Key) {
			return t, nil
		}
	}
	return Trial{}, fmt.Errorf("%w: trial %d: no new configuration in %d draws", ErrTooManyTrials, number, maxRedraws)
}

// checkDraw checks that a sampler's values are points of the space, and
// gives values of finite parameters the type of the parameter's own.
func (s *Spec) checkDraw(values []any) error {
	prms := s.Search.Params
	if len(values) != len(prms) {
		return fmt.Errorf("%w: %d values for %d parameters", ErrInvalid, len(values), len(prms))
	}
	for j, p := range prms {
		v := values[j]
		if p.Len() > 0 {
			k, ok := p.Index(v)
			if !ok {
				return fmt.Errorf("%w: %s = %s is not one of its values", ErrInvalid, p.Name, FormatValue(v))
			}
			values[j] = p.at(k) // Index matches numbers by value; the config needs the value's type
			continue
		}
		f, ok := v.(float64)
		if !ok || !(f >= p.Min && f <= p.Max) {
			return fmt.Errorf("%w: %s = %s is outside [%s, %s]", ErrInvalid, p.Name, FormatValue(v), fmtFloat(p.Min), fmtFloat(p.Max))
		}
	}
	return nil
}
