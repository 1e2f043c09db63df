package search

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Scheduler decides what a sweep runs next: a new configuration, the
// promotion of a paused trial, or nothing. It reads the sweep's history and
// keeps no state of its own, so a sweep resumed after a crash rebuilds the
// same scheduler from its spec and goes on where it stopped.
//
// Grid and random search (Fixed, Random), ASHA and Hyperband
// (search/asha) implement it. Implementations are safe for concurrent use;
// two processes deciding from the same history decide the same, which is
// why a store decides in the transaction that records the decision.
type Scheduler interface {
	// Next decides what to run next, given every trial of the sweep.
	Next(h []TrialRecord) (Decision, error)
	// End returns the decisions that close the sweep, once it is over
	// (Next said Finished) or its budget has run out: a Prune for every
	// paused trial, by trial number.
	End(h []TrialRecord) []Decision
}

// Sampler draws the searched values of new configurations: random draws
// (RandomSampler) or TPE (search/tpe). Implementations are safe for
// concurrent use and never modify the history; the values returned are the
// caller's.
type Sampler interface {
	// Sample returns a value for each of the spec's searched parameters, in
	// spec order, for new trial number. attempt counts from 0 and is raised
	// when the values drawn repeat a configuration of h (see Spec.Draw);
	// the values depend on h, number and attempt only.
	Sample(h []TrialRecord, number, attempt int) ([]any, error)
}

// Action is what a Decision asks for.
type Action int

// The actions of a decision.
const (
	// Wait: nothing to run now; ask again when an in-flight trial pauses
	// or ends.
	Wait Action = iota
	// Start trial Number with configuration Trial, to train until Target.
	Start
	// Promote paused trial Number: it goes on from its checkpoint at rung
	// Rung, to train until Target.
	Promote
	// Prune paused trial Number: it stops at rung Rung for good.
	Prune
	// Finished: nothing runs and nothing will; the sweep is over (see
	// Scheduler.End).
	Finished
)

var actionNames = [...]string{"wait", "start", "promote", "prune", "finished"}

// String returns the action's name: wait, start, promote, prune or finished.
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "action(" + strconv.Itoa(int(a)) + ")"
	}
	return actionNames[a]
}

// Decision is what a scheduler decided, and why. A store records it with
// the trial it concerns, in the transaction that acts on it. A Decision
// shares no memory with the history or the scheduler: the caller owns it.
type Decision struct {
	Action Action
	// Number is the trial decided on: for Start, the new trial's number
	// (NextNumber of the history); for Promote and Prune, the paused
	// trial's. 0 for Wait and Finished.
	Number int
	// Trial is the configuration to start (Start only); Trial.Index is
	// Number-1.
	Trial Trial
	// Bracket is the trial's Hyperband bracket, 0 the most aggressive; 0
	// for other schedulers.
	Bracket int
	// Rung is the rung the trial leaves (Promote) or stops at (Prune),
	// counted from 1; 0 for Start.
	Rung int
	// Target is how far the trial trains now (Start, Promote): in epochs
	// when its Config trains by epochs, in iterations otherwise. Its Config
	// keeps the full length, so the learning-rate schedule, and so the
	// trained net, do not depend on where it pauses.
	Target int
	// Pause reports that Target is a rung below the last: the trial pauses
	// there (status paused) instead of finishing (done).
	Pause bool
	// Reason says why.
	Reason Reason
}

// Reason explains a decision to people, and keeps the numbers it was
// made from.
type Reason struct {
	Text string // one line, e.g. "promote trial 7 from rung 1 (1 epoch) to 3 epochs: ..."
	// Rungs are the rungs consulted (ASHA and Hyperband), in the order
	// consulted, each as it was when the decision was made; nil for
	// schedulers without rungs.
	Rungs []RungReport
}

// RungReport is one rung of a bracket as a scheduler saw it. It keeps the
// counts and the values that decided: how many trials had reached the rung,
// how many of them may be promoted (K), the best and the K-th best (the
// cut-off), and the rank of the trial decided on. The full ranking at any
// time is a function of the history (asha.Scheduler.Ranking); the report
// stays the same size whatever the sweep's.
type RungReport struct {
	Bracket  int // 0 unless Hyperband
	Rung     int // counted from 1
	Resource int // epochs or iterations at the rung
	N        int // trials that had reached the rung
	// K is how many of the rung's best may be promoted: floor(N/eta), or 1
	// when Drain.
	K int
	// Drain reports that K was raised from 0 to 1: no trial is in flight
	// and no new one may start, so the rung will get no more trials.
	Drain    bool
	Promoted int       // trials of the top K promoted already
	Best     RungEntry // the best trial at the rung; zero when N == 0
	Cutoff   RungEntry // the K-th best: a trial ranked below it is not promoted; zero when K == 0
	Trial    RungEntry // the trial promoted or pruned; zero when none
	Rank     int       // Trial's rank at the rung, 1 for the best; 0 when none
}

// RungEntry is a trial's value at a rung.
type RungEntry struct {
	Number int
	Value  float64
}

// Compare orders the metric's values best first: it returns a negative
// number when a is better than b, positive when worse, 0 when equal. NaN
// (a value of a diverged net) is worse than any number. Schedulers break
// ties by trial number, the lower first.
func (s *Search) Compare(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an || bn:
		return cmp.Compare(btoi(an), btoi(bn))
	case s.Maximize():
		return cmp.Compare(b, a)
	}
	return cmp.Compare(a, b)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resourceOf returns how long c trains and in which unit: epochs when it
// trains by epochs, iterations otherwise.
func resourceOf(c Config) int {
	if c.Epochs > 0 {
		return c.Epochs
	}
	return c.Iterations
}

// endPaused prunes every paused trial of h, for schedulers that do not
// pause trials themselves.
func endPaused(h []TrialRecord) []Decision {
	var ds []Decision
	for i := range h {
		if t := &h[i]; t.Status == StatusPaused {
			ds = append(ds, Decision{Action: Prune, Number: t.Number, Rung: t.Rung,
				Reason: Reason{Text: fmt.Sprintf("trial %d stops at rung %d: the sweep ended", t.Number, t.Rung)}})
		}
	}
	slices.SortFunc(ds, func(a, b Decision) int { return cmp.Compare(a.Number, b.Number) })
	return ds
}
