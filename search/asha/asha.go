package asha

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/search"
)

// Config configures ASHA and Hyperband. The maximum resource is the
// spec's: train.epochs, or train.iterations when the spec trains by
// iterations.
type Config struct {
	// Min is the first rung's resource, in the spec's unit. 0 means
	// search.DefaultMinEpochs for a spec that trains by epochs; a spec
	// that trains by iterations must give it.
	Min int
	// Eta: each rung promotes its best 1/Eta. 0 means search.DefaultEta.
	Eta int
	// Trials is the most configurations the sweep starts; 0 means no
	// limit (a budget ends the sweep).
	Trials int
}

// Scheduler is ASHA or Hyperband: a search.Scheduler.
type Scheduler struct {
	spec    *search.Spec
	smp     search.Sampler
	eta     int
	trials  int
	unit    string  // "epoch" or "iteration"
	ladders [][]int // each bracket's rung resources
	weights []int   // each bracket's share of new trials
	total   int     // the sum of weights
}

var _ search.Scheduler = (*Scheduler)(nil)

// New returns the ASHA scheduler of spec: one bracket, rungs
// search.Rungs(c.Min, max, c.Eta). smp draws new configurations. The
// scheduler keeps spec and smp, which must not change after. It returns
// an error wrapping search.ErrInvalid when the rungs are invalid, c.Min is
// missing, or the spec searches epochs or iterations (ASHA decides them).
func New(spec *search.Spec, c Config, smp search.Sampler) (*Scheduler, error) {
	return newScheduler(spec, c, smp, false)
}

// NewHyperband returns the Hyperband scheduler of spec:
// search.Brackets(c.Min, max, c.Eta) brackets of ASHA, bracket b with rungs
// search.Rungs(c.Min·c.Eta^b, max, c.Eta). It fails as New does.
func NewHyperband(spec *search.Spec, c Config, smp search.Sampler) (*Scheduler, error) {
	return newScheduler(spec, c, smp, true)
}

func newScheduler(spec *search.Spec, c Config, smp search.Sampler, hyperband bool) (*Scheduler, error) {
	for _, p := range spec.Search.Params {
		if p.Name == "epochs" || p.Name == "iterations" {
			return nil, fmt.Errorf("%w: %s is searched: ASHA decides how long each trial trains", search.ErrInvalid, p.Name)
		}
	}
	s := &Scheduler{spec: spec, smp: smp, eta: cmp.Or(c.Eta, search.DefaultEta), trials: c.Trials, unit: "epoch"}
	maxR, minR := spec.Base.Epochs, cmp.Or(c.Min, search.DefaultMinEpochs)
	if maxR == 0 {
		s.unit, maxR, minR = "iteration", spec.Base.Iterations, c.Min
		if minR == 0 {
			return nil, fmt.Errorf("%w: the spec trains by iterations: give the first rung's iterations", search.ErrInvalid)
		}
	}
	n := 1
	if hyperband {
		var err error
		if n, err = search.Brackets(minR, maxR, s.eta); err != nil {
			return nil, err
		}
	}
	for b := range n {
		rungs, err := search.Rungs(minR, maxR, s.eta)
		if err != nil {
			return nil, err
		}
		s.ladders = append(s.ladders, rungs)
		// Optuna's trial allocation: bracket b = n-1-k gets ceil(n·eta^k/(k+1)).
		k := n - 1 - b
		w := n
		for range k {
			w *= s.eta
		}
		w = (w + k) / (k + 1)
		s.weights = append(s.weights, w)
		s.total += w
		minR *= s.eta
	}
	return s, nil
}

// Brackets returns the number of brackets: 1 for ASHA.
func (s *Scheduler) Brackets() int { return len(s.ladders) }

// Rungs returns the rung resources of a bracket, the last the maximum.
func (s *Scheduler) Rungs(bracket int) []int { return slices.Clone(s.ladders[bracket]) }

// Bracket returns the bracket of trial number: 0 for ASHA; for Hyperband,
// a pure function of (spec seed, number), weighted as Optuna's
// HyperbandPruner weights its brackets. Changing this function would move
// the trials of existing sweeps to other brackets: it is part of the
// stored format.
func (s *Scheduler) Bracket(number int) int {
	if len(s.ladders) == 1 {
		return 0
	}
	hi, _ := bits.Mul64(mix(mix(s.spec.Seed^0x627261636b657473)^uint64(number)), uint64(s.total)) // "brackets"
	pick := int(hi)
	for b, w := range s.weights {
		if pick < w {
			return b
		}
		pick -= w
	}
	panic("asha: bracket weights") // unreachable: pick < total
}

// mix is splitmix64's finaliser: a bijection of 64 bits that spreads
// neighbouring inputs over the whole range.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// entry is a trial at a rung.
type entry struct {
	search.RungEntry
	promoted bool // promoted from the rung
	paused   bool // paused at the rung, not promoted: may be promoted
}

// rung is a rung below the last of a bracket, with the trials that have
// reached it.
type rung struct {
	bracket  int
	index    int // 0-based; the rung's number is index+1
	resource int
	entries  []entry
	n        int // trials at the rung, counted before entries are made
	sorted   bool
}

// state is what a decision is made from: every bracket's rungs below the
// last, and counts of the history.
type state struct {
	rungs    []*rung // by resource, highest first, then by bracket
	inFlight int     // trials pending, running or interrupted
	canStart bool    // the sweep may start another configuration
	drain    bool    // no trial in flight and none may start
}

// state reads the history into rungs.
func (s *Scheduler) state(h []search.TrialRecord) *state {
	st := &state{canStart: s.trials == 0 || len(h) < s.trials}
	byBracket := make([][]*rung, len(s.ladders))
	for b, ladder := range s.ladders {
		for k, r := range ladder[:len(ladder)-1] {
			rg := &rung{bracket: b, index: k, resource: r}
			byBracket[b] = append(byBracket[b], rg)
			st.rungs = append(st.rungs, rg)
		}
	}
	brackets := make([]int, len(h))
	for i := range h {
		brackets[i] = s.Bracket(h[i].Number)
		rungs := byBracket[brackets[i]]
		for k := range min(h[i].Rung, len(rungs)) {
			rungs[k].n++
		}
	}
	for _, r := range st.rungs {
		r.entries = make([]entry, 0, r.n)
	}
	for i := range h {
		t := &h[i]
		if t.Status.InFlight() {
			st.inFlight++
		}
		rungs := byBracket[brackets[i]]
		top := min(t.Rung, len(rungs)) // rungs reached below the last
		for k := range top {
			v, _ := t.ValueAt(rungs[k].resource)
			at := k+1 == t.Rung
			rungs[k].entries = append(rungs[k].entries, entry{
				RungEntry: search.RungEntry{Number: t.Number, Value: v},
				promoted:  !at || t.Promoted,
				paused:    at && !t.Promoted && t.Status == search.StatusPaused,
			})
		}
	}
	st.drain = !st.canStart && st.inFlight == 0
	slices.SortStableFunc(st.rungs, func(a, b *rung) int {
		return cmp.Or(cmp.Compare(b.resource, a.resource), cmp.Compare(a.bracket, b.bracket))
	})
	return st
}

// sort ranks a rung's trials best first, ties by trial number.
func (s *Scheduler) sort(r *rung) {
	if r.sorted {
		return
	}
	sr := &s.spec.Search
	slices.SortFunc(r.entries, func(a, b entry) int {
		return cmp.Or(sr.Compare(a.Value, b.Value), cmp.Compare(a.Number, b.Number))
	})
	r.sorted = true
}

// report ranks a rung and returns its report, without a trial decided on.
func (s *Scheduler) report(r *rung, drain bool) search.RungReport {
	s.sort(r)
	n := len(r.entries)
	rep := search.RungReport{Bracket: r.bracket, Rung: r.index + 1, Resource: r.resource, N: n, K: n / s.eta}
	if rep.K == 0 && n > 0 && drain {
		rep.K, rep.Drain = 1, true
	}
	if n > 0 {
		rep.Best = r.entries[0].RungEntry
	}
	if rep.K > 0 {
		rep.Cutoff = r.entries[rep.K-1].RungEntry
	}
	for _, e := range r.entries[:rep.K] {
		if e.promoted {
			rep.Promoted++
		}
	}
	return rep
}

// with returns rep about the trial ranked i-th (0-based) at r.
func with(rep search.RungReport, r *rung, i int) search.RungReport {
	rep.Trial, rep.Rank = r.entries[i].RungEntry, i+1
	return rep
}

// Next promotes the best promotable paused trial, else starts a new
// configuration, else waits or finishes (see the package doc).
func (s *Scheduler) Next(h []search.TrialRecord) (search.Decision, error) {
	st := s.state(h)
	var reps []search.RungReport
	if d, ok := s.promote(st, false, &reps); ok {
		return d, nil
	}
	all := fmt.Sprintf("all %d trials started", s.trials)
	if st.canStart {
		n := search.NextNumber(h)
		t, err := s.spec.Draw(h, n, s.smp)
		switch {
		case errors.Is(err, search.ErrTooManyTrials):
			// A finite space with every configuration in the sweep: as if
			// the sweep had its trials.
			st.canStart, st.drain = false, st.inFlight == 0
			all = "every configuration of the space started"
		case err != nil:
			return search.Decision{}, err
		default:
			b := s.Bracket(n)
			ladder := s.ladders[b]
			return search.Decision{
				Action: search.Start, Number: n, Trial: t, Bracket: b, Target: ladder[0], Pause: len(ladder) > 1,
				Reason: search.Reason{Rungs: reps, Text: fmt.Sprintf("start trial %d at %s: %s", n, s.rungName(b, 0), s.nothing(reps))},
			}, nil
		}
	}
	if st.drain {
		if d, ok := s.promote(st, true, &reps); ok {
			return d, nil
		}
	}
	why := fmt.Sprintf("%s; %s", s.nothing(reps), all)
	if st.inFlight > 0 {
		return search.Decision{Action: search.Wait, Reason: search.Reason{Rungs: reps,
			Text: fmt.Sprintf("wait: %s, %d in flight", why, st.inFlight)}}, nil
	}
	return search.Decision{Action: search.Finished, Reason: search.Reason{Rungs: reps,
		Text: fmt.Sprintf("finished: %s, none in flight", why)}}, nil
}

// promote returns the promotion to make, if any, appending the report of
// each rung it consults to reps. It consults the rungs from the highest
// resource down, each promoting from its top floor(n/eta); when draining,
// from the lowest up, each promoting from its top max(1, floor(n/eta)), so
// that a rung's best is promoted only after the rungs below have fed it.
func (s *Scheduler) promote(st *state, drain bool, reps *[]search.RungReport) (search.Decision, bool) {
	for i := range st.rungs {
		r := st.rungs[i]
		if drain {
			r = st.rungs[len(st.rungs)-1-i]
		}
		rep := s.report(r, drain)
		k := slices.IndexFunc(r.entries[:rep.K], func(e entry) bool { return e.paused })
		if k < 0 {
			*reps = append(*reps, rep)
			continue
		}
		rep = with(rep, r, k)
		*reps = append(*reps, rep)
		ladder := s.ladders[r.bracket]
		d := search.Decision{
			Action: search.Promote, Number: rep.Trial.Number, Bracket: r.bracket, Rung: rep.Rung,
			Target: ladder[r.index+1], Pause: r.index+2 < len(ladder),
		}
		d.Reason = search.Reason{Rungs: *reps, Text: fmt.Sprintf("promote trial %d from %s to %s: %s",
			d.Number, s.rungName(r.bracket, r.index), s.rungName(r.bracket, r.index+1), s.standing(rep, true))}
		return d, true
	}
	return search.Decision{}, false
}

// End prunes every paused trial: each decision reports the trial's rank
// at its rung.
func (s *Scheduler) End(h []search.TrialRecord) []search.Decision {
	st := s.state(h)
	var ds []search.Decision
	for _, r := range st.rungs {
		all := s.report(r, st.drain)
		for i, e := range r.entries {
			if !e.paused {
				continue
			}
			rep := with(all, r, i)
			inside := "inside the top k, but the sweep ended before its promotion"
			if rep.Rank > rep.K {
				inside = "not promoted"
			}
			ds = append(ds, search.Decision{Action: search.Prune, Number: e.Number, Bracket: r.bracket, Rung: rep.Rung,
				Reason: search.Reason{Rungs: []search.RungReport{rep}, Text: fmt.Sprintf("trial %d stops at %s: %s; %s",
					e.Number, s.rungName(r.bracket, r.index), s.standing(rep, false), inside)}})
		}
	}
	slices.SortFunc(ds, func(a, b search.Decision) int { return cmp.Compare(a.Number, b.Number) })
	return ds
}

// Ranking returns the trials of h at rung (counted from 1) of bracket,
// best first: the full table behind a RungReport, for display. It returns
// nil for a rung that does not exist or is the last, where trials finish.
func (s *Scheduler) Ranking(h []search.TrialRecord, bracket, rung int) []search.RungEntry {
	if bracket < 0 || bracket >= len(s.ladders) || rung < 1 || rung >= len(s.ladders[bracket]) {
		return nil
	}
	for _, r := range s.state(h).rungs {
		if r.bracket == bracket && r.index == rung-1 {
			s.sort(r)
			out := make([]search.RungEntry, len(r.entries))
			for i, e := range r.entries {
				out[i] = e.RungEntry
			}
			return out
		}
	}
	return nil
}

// rungName names rung k (0-based) of a bracket for people: "rung 2 (3
// epochs)", with the bracket for Hyperband.
func (s *Scheduler) rungName(bracket, k int) string {
	r := s.ladders[bracket][k]
	unit := s.unit
	if r != 1 {
		unit += "s"
	}
	if len(s.ladders) > 1 {
		return fmt.Sprintf("bracket %d rung %d (%d %s)", bracket, k+1, r, unit)
	}
	return fmt.Sprintf("rung %d (%d %s)", k+1, r, unit)
}

// standing says where the report's trial ranks: "val_acc 0.5123 ranks 2
// of 9, in the top k = floor(9/3) = 3 (cut-off 0.48, trial 3)".
func (s *Scheduler) standing(rep search.RungReport, promoted bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ranks %d of %d", s.spec.Search.Metric, fmtValue(rep.Trial.Value), rep.Rank, rep.N)
	k := fmt.Sprintf("k = floor(%d/%d) = %d", rep.N, s.eta, rep.N/s.eta)
	if rep.Drain {
		k = fmt.Sprintf("k = 1 (floor(%d/%d) = 0, raised: no trial in flight and none may start)", rep.N, s.eta)
	}
	switch {
	case rep.K == 0:
		fmt.Fprintf(&b, ", and %s", k)
	case rep.Rank <= rep.K:
		fmt.Fprintf(&b, ", in the top %s", k)
		if promoted {
			fmt.Fprintf(&b, ", %d of which promoted already", rep.Promoted)
		}
	default:
		fmt.Fprintf(&b, ", below the top %s", k)
	}
	if rep.K > 0 {
		fmt.Fprintf(&b, " (cut-off %s, trial %d)", fmtValue(rep.Cutoff.Value), rep.Cutoff.Number)
	}
	return b.String()
}

// nothing says that no rung has a trial to promote, and what each rung
// holds (as last consulted: a drain consults rungs twice).
func (s *Scheduler) nothing(reps []search.RungReport) string {
	var parts []string
	seen := map[[2]int]int{}
	for _, r := range reps {
		if r.N == 0 {
			continue
		}
		trials := "trials"
		if r.N == 1 {
			trials = "trial"
		}
		part := fmt.Sprintf("%s: %d %s, k = %d, %d promoted", s.rungName(r.Bracket, r.Rung-1), r.N, trials, r.K, r.Promoted)
		if i, ok := seen[[2]int{r.Bracket, r.Rung}]; ok {
			parts[i] = part
			continue
		}
		seen[[2]int{r.Bracket, r.Rung}] = len(parts)
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "no trial has reached a rung"
	}
	return "no paused trial in the top k of any rung (" + strings.Join(parts, "; ") + ")"
}

// fmtValue formats a metric value to 6 significant digits.
func fmtValue(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
