package trial

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/asha"
	"github.com/sweep-dev/sweep/search/tpe"
)

// Planner is what an adaptive sweep needs of a store besides Recorder:
// claims that ask the scheduler inside the claim's transaction, pauses at
// rungs, and the prunes that end a sweep. results.Store implements it.
type Planner interface {
	ClaimNext(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool, decide func([]results.Trial) (results.Plan, error)) (*results.Trial, *results.Checkpoint, error)
	Pause(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch, eval results.Eval, metrics results.Metrics, duration float64) error
	Prune(ctx context.Context, sweep string, now time.Time, choose func([]results.Trial) ([]results.Pruning, error)) ([]int, error)
}

var _ Planner = results.Store(nil)

// NewScheduler returns the scheduler of an adaptive spec
// (search.Search.Adaptive): random search drawing one trial at a time,
// ASHA or Hyperband, each with the spec's sampler (random or TPE).
func NewScheduler(spec *search.Spec) (search.Scheduler, error) {
	sr := spec.Search
	var smp search.Sampler = search.NewRandomSampler(spec)
	if sr.Sampler == "tpe" {
		smp = tpe.New(spec, tpe.Options{})
	}
	trials := sr.Trials
	if trials == 0 {
		trials = sr.MaxTrials // bounded by the budget
	}
	switch sr.Method {
	case "random":
		return search.NewRandom(spec, smp, trials), nil
	case "asha":
		return asha.New(spec, asha.Config{Min: sr.Min, Eta: sr.Eta, Trials: trials}, smp)
	case "hyperband":
		return asha.NewHyperband(spec, asha.Config{Min: sr.Min, Eta: sr.Eta, Trials: trials}, smp)
	}
	return nil, fmt.Errorf("%w: method %q has no scheduler", search.ErrInvalid, sr.Method)
}

// History is the scheduler's view of a sweep's trials.
func History(ts []results.Trial) []search.TrialRecord {
	h := make([]search.TrialRecord, len(ts))
	for i := range ts {
		t := &ts[i]
		ps := make([]search.ParamValue, len(t.Params))
		for k, p := range t.Params {
			ps[k] = search.ParamValue{Name: p.Name, Value: p.Value}
		}
		evals := make([]search.Eval, len(t.Evals))
		for k, e := range t.Evals {
			evals[k] = search.Eval{Resource: e.Resource, Value: e.Value}
		}
		h[i] = search.TrialRecord{Number: t.Number, Key: t.Key, Params: ps, Status: search.Status(t.Status),
			Evals: evals, Rung: t.Rung, Promoted: t.Promoted}
	}
	return h
}

// decider returns the function ClaimNext asks: sched's next decision as a
// Plan, and, when the sweep is over, the prunes that end it.
func decider(sched search.Scheduler) func([]results.Trial) (results.Plan, error) {
	return func(ts []results.Trial) (results.Plan, error) {
		h := History(ts)
		d, err := sched.Next(h)
		if err != nil {
			return results.Plan{}, err
		}
		why, err := DecisionJSON(d)
		if err != nil {
			return results.Plan{}, err
		}
		switch d.Action {
		case search.Start:
			rec, err := record(d.Trial)
			if err != nil {
				return results.Plan{}, err
			}
			rec.Number, rec.Bracket, rec.Target = d.Number, d.Bracket, d.Target
			return results.Plan{Action: results.PlanStart, Trial: &rec, Decision: why}, nil
		case search.Promote:
			return results.Plan{Action: results.PlanPromote, Number: d.Number, Target: d.Target, Decision: why}, nil
		case search.Wait:
			return results.Plan{Action: results.PlanWait}, nil
		case search.Finished:
			prunes, err := prunings(sched.End(h))
			return results.Plan{Action: results.PlanFinished, Prune: prunes}, err
		}
		return results.Plan{}, fmt.Errorf("scheduler decided %v: not a claim", d.Action)
	}
}

// prunings are the Prune decisions of ds, with their reasons, for a store.
func prunings(ds []search.Decision) ([]results.Pruning, error) {
	var ps []results.Pruning
	for _, d := range ds {
		if d.Action != search.Prune {
			continue
		}
		why, err := DecisionJSON(d)
		if err != nil {
			return nil, err
		}
		ps = append(ps, results.Pruning{Number: d.Number, Decision: why})
	}
	return ps, nil
}

// End prunes the paused trials of an adaptive sweep whose scheduler is
// done with them: the sweep is over, or its budget ran out. It returns the
// trials pruned.
func End(ctx context.Context, st Planner, sweep string, sched search.Scheduler) ([]int, error) {
	return st.Prune(ctx, sweep, time.Now(), func(ts []results.Trial) ([]results.Pruning, error) {
		ps, err := prunings(sched.End(History(ts)))
		if err != nil {
			return nil, err
		}
		// A trial the budget paused between two rungs is no rung's: the
		// scheduler does not see it, and it stops where it is.
		have := make(map[int]bool, len(ps))
		for _, p := range ps {
			have[p.Number] = true
		}
		for _, t := range ts {
			if t.Status != results.Paused || have[t.Number] {
				continue
			}
			at := 0
			if len(t.Evals) > 0 {
				at = t.Evals[len(t.Evals)-1].Resource
			}
			why, err := DecisionJSON(search.Decision{Action: search.Prune, Number: t.Number, Rung: t.Rung,
				Reason: search.Reason{Text: fmt.Sprintf("trial %d stops at %d (its last evaluation): the budget ran out", t.Number, at)}})
			if err != nil {
				return nil, err
			}
			ps = append(ps, results.Pruning{Number: t.Number, Decision: why})
		}
		return ps, nil
	})
}

// record is a search trial as a store record: key, searched values,
// resolved config (as JSON, decoded again by Train) and seed.
func record(t search.Trial) (results.Trial, error) {
	cfg, err := json.Marshal(t.Config)
	if err != nil {
		return results.Trial{}, fmt.Errorf("encode trial %d: %w", t.Index+1, err)
	}
	ps := make(results.Params, len(t.Params))
	for k, p := range t.Params {
		ps[k] = results.Param{Name: p.Name, Value: p.Value}
	}
	return results.Trial{Key: t.Key, Params: ps, Config: cfg, Seed: t.Seed}, nil
}

// Decision is a scheduler's decision as a store records it with the trial
// it concerns (results.Trial.Decisions) and `sweep show` explains it:
// what, where, and the rungs' state that made it. Values that are not
// numbers (a diverged trial's) are null.
type Decision struct {
	Action string         `json:"action"`
	Number int            `json:"trial"`
	Target int            `json:"target,omitempty"`
	Pause  bool           `json:"pause,omitempty"`
	Rung   int            `json:"rung,omitempty"`
	Reason string         `json:"reason"`
	Rungs  []DecisionRung `json:"rungs,omitempty"`
}

// DecisionRung is a rung's state when a decision was made.
type DecisionRung struct {
	Bracket  int      `json:"bracket,omitempty"`
	Rung     int      `json:"rung"`
	Resource int      `json:"resource"`
	N        int      `json:"n"`               // trials that had reached it
	K        int      `json:"k"`               // how many of them may be promoted
	Drain    bool     `json:"drain,omitempty"` // k raised to let the sweep finish
	Promoted int      `json:"promoted"`        // of the top k, promoted already
	Best     *float64 `json:"best"`            // the best value at the rung
	Cutoff   *float64 `json:"cutoff"`          // the k-th best value
	Value    *float64 `json:"value"`           // the decided trial's value
	Rank     int      `json:"rank,omitempty"`
}

// DecisionJSON encodes d as a Decision.
func DecisionJSON(d search.Decision) (json.RawMessage, error) {
	rec := Decision{Action: d.Action.String(), Number: d.Number, Target: d.Target, Pause: d.Pause, Rung: d.Rung, Reason: d.Reason.Text}
	num := func(e search.RungEntry) *float64 {
		if e.Number == 0 || math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
			return nil
		}
		v := e.Value
		return &v
	}
	for _, r := range d.Reason.Rungs {
		rec.Rungs = append(rec.Rungs, DecisionRung{Bracket: r.Bracket, Rung: r.Rung, Resource: r.Resource, N: r.N, K: r.K, Drain: r.Drain,
			Promoted: r.Promoted, Best: num(r.Best), Cutoff: num(r.Cutoff), Value: num(r.Trial), Rank: r.Rank})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("record decision on trial %d: %w", d.Number, err)
	}
	return b, nil
}
