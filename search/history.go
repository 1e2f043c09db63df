package search

import "math"

// Status is a trial's state as schedulers and samplers see it. The values
// are the store's status names, so a store converts its own with
// search.Status(s).
type Status string

// The statuses of a trial.
const (
	StatusPending     Status = "pending"     // created, never claimed
	StatusRunning     Status = "running"     // training, towards its target
	StatusInterrupted Status = "interrupted" // released with a checkpoint; goes on towards its target when claimed
	StatusPaused      Status = "paused"      // stopped at a rung with its checkpoint; may be promoted
	StatusDone        Status = "done"        // trained to the end
	StatusPruned      Status = "pruned"      // stopped at a rung for good, when the sweep ended
	StatusDiverged    Status = "diverged"    // the loss became NaN or Inf
	StatusFailed      Status = "failed"      // an error or a panic
)

// InFlight reports whether a trial in status s trains on without a new
// decision: pending, running or interrupted. An in-flight trial may still
// reach a rung or finish, so it can change what a scheduler decides next.
func (s Status) InFlight() bool {
	return s == StatusPending || s == StatusRunning || s == StatusInterrupted
}

// Eval is one evaluation of a trial's validation metric.
type Eval struct {
	Resource int     // epochs or iterations trained when evaluated (the scheduler's unit)
	Value    float64 // the sweep's metric, Search.Metric
}

// TrialRecord is what schedulers and samplers know of one trial of the
// sweep. A store adapts its own records to it; search never imports a
// store, and reads records only.
//
// Rung numbers count from 1: rung 1 is the first rung of the trial's
// bracket, at the bracket's minimum resource, and the last rung is the
// maximum. A trial that reached rung r (Rung = r) has an evaluation at the
// resource of rung r; when r is below the last rung it is paused there or
// was promoted from there.
type TrialRecord struct {
	Number int          // unique in the sweep; 1, 2, 3, ... in creation order
	Key    string       // Config.Key() of the trial's configuration
	Params []ParamValue // the searched values, as Trial.Params holds them (float64, int, string, []int or []float64)
	Status Status
	// Evals are the trial's evaluations, by increasing Resource: one per
	// epoch, and one at each rung (the runner evaluates a trial where it
	// pauses).
	Evals []Eval
	// Rung is the highest rung the trial has reached, 0 before it reaches
	// the first. Schedulers without rungs (grid, random) leave it 0.
	Rung int
	// Promoted reports that the trial was promoted from Rung: it trains,
	// trained or failed on the way to the next rung. A paused trial is not
	// promoted.
	Promoted bool
}

// ValueAt returns the metric at resource r: the value of the latest
// evaluation at or before r. It returns NaN and false when the trial has no
// evaluation at or before r.
func (t *TrialRecord) ValueAt(r int) (float64, bool) {
	for i := len(t.Evals) - 1; i >= 0; i-- {
		if t.Evals[i].Resource <= r {
			return t.Evals[i].Value, true
		}
	}
	return math.NaN(), false
}

// Last returns the trial's latest evaluation, and false when it has none.
func (t *TrialRecord) Last() (Eval, bool) {
	if len(t.Evals) == 0 {
		return Eval{}, false
	}
	return t.Evals[len(t.Evals)-1], true
}

// NextNumber returns the number of the sweep's next trial: one more than
// the largest in h, or 1 when h is empty. A store that numbers trials 1, 2,
// 3, ... as it creates them gives the new trial this number; the number
// seeds what schedulers and samplers draw for it, so the store must create
// the trial with exactly this number.
func NextNumber(h []TrialRecord) int {
	n := 0
	for i := range h {
		n = max(n, h[i].Number)
	}
	return n + 1
}

// hasKey reports whether a trial of h has configuration key.
func hasKey(h []TrialRecord, key string) bool {
	for i := range h {
		if h[i].Key == key {
			return true
		}
	}
	return false
}
