package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// decisionsJSON is the decision records decision(why) for each of whys.
func decisionsJSON(whys ...string) []json.RawMessage {
	var ds []json.RawMessage
	for _, w := range whys {
		ds = append(ds, decision("%s", w))
	}
	return ds
}

// checkDecisions fails the test unless trial n's decision records are
// decision(why) for each of whys.
func (fx *fixture) checkDecisions(sweep string, n int, whys ...string) {
	fx.t.Helper()
	tr, _ := fx.trial(sweep, n)
	checkDiff(fx.t, fmt.Sprintf("decisions of trial %d", n), decisionsJSON(whys...), tr.Decisions)
}

// testAdaptive: ClaimNext applies each action of a Plan, refuses a plan
// it cannot apply writing nothing, and takes claimable work without asking;
// Pause, Prune and Finish keep the adaptive state.
func testAdaptive(t *testing.T, f Factory) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *fixture)
	}{
		{"Start", adaptiveStart},
		{"RefusedPlans", adaptiveRefused},
		{"Pause", adaptivePause},
		{"Promote", adaptivePromote},
		{"Wait", adaptiveWait},
		{"ClaimableFirst", adaptiveClaimableFirst},
		{"Prune", adaptivePrune},
		{"MaxDecisions", adaptiveMaxDecisions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, f)
			fx.ensure(results.Sweep{Name: "adapt1", Spec: spec("adapt1")}, nil)
			tc.run(t, fx)
		})
	}
}

// adaptiveStart: PlanStart creates the next trial from the plan's and
// claims it; decide is given every trial, as copies, without decisions.
func adaptiveStart(t *testing.T, fx *fixture) {
	a := owner("a")
	calls := 0
	var seen []results.Trial
	params := results.Params{{Name: "lr", Value: 1e-3}, {Name: "act", Value: "relu"}}
	tr, ck, err := fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, func(ts []results.Trial) (results.Plan, error) {
		calls++
		seen = ts
		return results.Plan{Action: results.PlanStart, Decision: decision("start 1"),
			Trial: &results.Trial{Number: 1, Key: "k1", Params: params, Config: json.RawMessage(`{"epochs":9}`), Seed: 1<<64 - 11, Bracket: 1, Target: 3,
				// Ignored: ClaimNext sets every other field.
				Status: results.Done, Attempts: 7, Metrics: results.Metrics{ValAcc: 0.9}, Rung: 2, Promoted: true, Duration: 5,
				Evals: []results.Eval{{Resource: 1, Value: 0.5}}, Decisions: decisionsJSON("forged")}}, nil
	})
	fx.must(err)
	if calls != 1 || len(seen) != 0 || ck != nil {
		t.Errorf("start: decide called %d times with %d trials; checkpoint %v", calls, len(seen), ck)
	}
	if tr.Created.IsZero() || tr.Started.IsZero() || tr.Lease == nil || tr.Lease.Claimed.IsZero() {
		t.Fatalf("started trial = %+v (lease %+v): times not set", tr, tr.Lease)
	}
	want := results.Trial{Number: 1, Key: "k1", Params: params, Config: json.RawMessage(`{"epochs":9}`), Seed: 1<<64 - 11, Bracket: 1, Target: 3,
		Status: results.Running, Lease: &results.Lease{Owner: a, Claimed: tr.Lease.Claimed, Heartbeat: tr.Lease.Claimed}, Attempts: 1,
		Created: tr.Created, Started: tr.Started}
	checkDiff(t, "the started trial", &want, tr)
	fx.checkDecisions("adapt1", 1, "start 1")
	got, hist := fx.trial("adapt1", 1)
	got.Decisions = nil
	checkDiff(t, "the started trial as read", tr, got)
	if hist != nil {
		t.Errorf("a started trial has a history of %d epochs", len(hist))
	}

	// decide sees trial 1, its own copy; a plan's Number 0 means the next.
	calls = 0
	tr, _, err = fx.s.ClaimNext(fx.ctx, "adapt1", owner("b"), now(), never, func(ts []results.Trial) (results.Plan, error) {
		calls++
		if len(ts) != 1 || ts[0].Number != 1 || ts[0].Key != "k1" || ts[0].Status != results.Running || ts[0].Decisions != nil {
			t.Errorf("decide was given %+v", ts)
		}
		ts[0].Key, ts[0].Status, ts[0].Params[0].Name = "changed", results.Failed, "changed"
		return results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: "k2", Target: 3}}, nil
	})
	fx.must(err)
	if calls != 1 || tr.Number != 2 || !sameOwner(tr.Lease.Owner, owner("b")) || tr.Attempts != 1 {
		t.Errorf("second start: trial %d, lease %+v, attempt %d (decide called %d times)", tr.Number, tr.Lease, tr.Attempts, calls)
	}
	if got, _ := fx.trial("adapt1", 1); got.Key != "k1" || got.Status != results.Running || got.Params[0].Name != "lr" {
		t.Errorf("decide's changes to its trials reached the store: %+v", got)
	}
	fx.checkDecisions("adapt1", 2)
	// A plan naming the right number is taken.
	tr, _, err = fx.s.ClaimNext(fx.ctx, "adapt1", owner("b"), now(), never, plan(results.Plan{Action: results.PlanStart, Trial: &results.Trial{Number: 3, Key: "k3"}}))
	if err != nil || tr.Number != 3 {
		t.Errorf("start of trial 3 named: %+v, %v", tr, err)
	}
}

// adaptiveRefused: a plan ClaimNext cannot apply, decide's error and
// decide's panic are returned as errors (never ErrNoWork), and nothing is
// written.
func adaptiveRefused(t *testing.T, fx *fixture) {
	a := owner("a")
	fx.start("adapt1", a, "k1", 3, decision("start 1"))
	fx.pause("adapt1", a, 1, 3, 0.4)
	fx.start("adapt1", a, "k2", 3, nil)
	before := fx.dump("adapt1")
	errBoom := errors.New("boom")
	start := func(tr *results.Trial, prune ...results.Pruning) func([]results.Trial) (results.Plan, error) {
		return plan(results.Plan{Action: results.PlanStart, Trial: tr, Prune: prune})
	}
	promote := func(n, target int, prune ...results.Pruning) func([]results.Trial) (results.Plan, error) {
		return plan(results.Plan{Action: results.PlanPromote, Number: n, Target: target, Prune: prune})
	}
	for _, tc := range []struct {
		name   string
		decide func([]results.Trial) (results.Plan, error)
		is     error  // errors.Is; nil: any error
		msg    string // in the error
	}{
		{"decide fails", func([]results.Trial) (results.Plan, error) {
			return results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: "k9"}}, fmt.Errorf("scheduler: %w", errBoom)
		}, errBoom, "boom"},
		{"decide panics", func([]results.Trial) (results.Plan, error) { panic("scheduler bug") }, nil, "scheduler bug"},
		{"duplicate key", start(&results.Trial{Key: "k1"}, results.Pruning{Number: 1}), results.ErrDuplicateKey, "k1"},
		{"start of another number", start(&results.Trial{Number: 7, Key: "k7"}), nil, ""},
		{"start of the last number", start(&results.Trial{Number: 2, Key: "k7"}), nil, ""},
		{"start without a trial", start(nil), nil, ""},
		{"start without a key", start(&results.Trial{}), nil, ""},
		{"start with a negative target", start(&results.Trial{Key: "k7", Target: -1}), nil, ""},
		{"promote a running trial", promote(2, 9), nil, ""},
		{"promote a trial that does not exist", promote(9, 9), nil, ""},
		{"promote to its rung", promote(1, 3), nil, ""},
		{"promote below its rung", promote(1, 2), nil, ""},
		{"promote to 0", promote(1, 0), nil, ""},
		{"promote twice in one plan", promote(1, 9, results.Pruning{Number: 1}), nil, ""},
		{"prune a running trial", plan(results.Plan{Action: results.PlanFinished, Prune: []results.Pruning{{Number: 1}, {Number: 2}}}), nil, ""},
		{"prune a trial that does not exist", plan(results.Plan{Action: results.PlanWait, Prune: []results.Pruning{{Number: 1}, {Number: 9}}}), nil, ""},
		{"decision not JSON", plan(results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: "k3"}, Decision: json.RawMessage(`{"why":`)}), nil, ""},
		{"prune decision not JSON", plan(results.Plan{Action: results.PlanWait, Prune: []results.Pruning{{Number: 1, Decision: json.RawMessage(`nope`)}}}), nil, ""},
		{"decision too large", plan(results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: "k3"},
			Decision: json.RawMessage(`"` + strings.Repeat("x", results.MaxDecisionSize) + `"`)}), nil, ""},
		{"unknown action", plan(results.Plan{Action: 42}), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", owner("b"), now(), never, tc.decide)
			wantErr(t, "ClaimNext", err, tc.is, "adapt1")
			if errors.Is(err, results.ErrNoWork) {
				t.Errorf("ClaimNext: %v is ErrNoWork", err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ClaimNext: %q does not say %q", err, tc.msg)
			}
			fx.unchanged("adapt1", before, "a refused plan")
		})
	}
	if _, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", owner("b"), now(), never, nil); err == nil {
		t.Errorf("ClaimNext without decide succeeded")
	}
	fx.unchanged("adapt1", before, "ClaimNext without decide")
}

// adaptivePause: Pause stops a trial at a rung with its checkpoint,
// evaluation and metrics, clears its lease, and leaves it to ClaimNext.
func adaptivePause(t *testing.T, fx *fixture) {
	a := owner("a")
	started := fx.start("adapt1", a, "k1", 3, decision("start 1"))
	ck := results.Checkpoint{Epoch: 3, Iteration: 885, Data: []byte("at rung 1")}
	m := results.Metrics{ValAcc: 0.4, ValLoss: 1.6, TrainAcc: 0.45, Epochs: 3, Iterations: 885, BestEpoch: 2}
	before := fx.dump("adapt1")
	for _, r := range []int{0, -1} {
		err := fx.s.Pause(fx.ctx, "adapt1", 1, a, now(), ck, history(3), results.Eval{Resource: r, Value: 0.4}, m, 2.5)
		wantErr(t, fmt.Sprintf("Pause at resource %d", r), err, nil, "adapt1")
		if errors.Is(err, results.ErrLeaseLost) {
			t.Errorf("Pause at resource %d: %v is ErrLeaseLost", r, err)
		}
	}
	fx.unchanged("adapt1", before, "a refused Pause")
	fx.must(fx.s.Pause(fx.ctx, "adapt1", 1, a, now(), ck, history(3), results.Eval{Resource: 3, Value: 0.4}, m, 2.5))
	got, hist := fx.trial("adapt1", 1)
	want := *started
	want.Status, want.Lease, want.Rung, want.Evals, want.Metrics = results.Paused, nil, 1, []results.Eval{{Resource: 3, Value: 0.4}}, m
	want.Duration, want.Epoch, want.Iteration, want.Decisions = 2.5, 3, 885, decisionsJSON("start 1")
	checkDiff(t, "the paused trial", &want, got)
	checkDiff(t, "the history of the paused trial", history(3), hist)
	checkDiff(t, "the checkpoint of the paused trial", &ck, fx.dump("adapt1").Trials[0].Checkpoint)
	_, _, err := fx.s.Claim(fx.ctx, "adapt1", owner("b"), now(), always)
	wantErr(t, "Claim of a paused trial", err, results.ErrNoWork, "adapt1")
	sums, err := fx.s.Sweeps(fx.ctx, now(), 0)
	fx.must(err)
	if sums[0].Paused != 1 || sums[0].Running != 0 || sums[0].Active {
		t.Errorf("summary %+v, want 1 paused, inactive", sums[0])
	}
}

// adaptivePromote: PlanPromote claims a paused trial towards its target,
// with its checkpoint, once; Pause and Finish with an evaluation take it
// to its next rung.
func adaptivePromote(t *testing.T, fx *fixture) {
	a, b := owner("a"), owner("b")
	fx.start("adapt1", a, "k1", 3, decision("start 1"))
	ck := results.Checkpoint{Epoch: 3, Iteration: 885, Data: []byte("at rung 1")}
	fx.must(fx.s.Pause(fx.ctx, "adapt1", 1, a, now(), ck, history(3), results.Eval{Resource: 3, Value: 0.4}, results.Metrics{ValAcc: 0.4}, 1))
	paused, _ := fx.trial("adapt1", 1)

	tr, got := fx.promote("adapt1", b, 1, 9, decision("promote 1 from rung 1"))
	if tr.Status != results.Running || !tr.Promoted || tr.Target != 9 || tr.Rung != 1 || tr.Attempts != 2 ||
		!sameOwner(tr.Lease.Owner, b) || !tr.Started.Equal(paused.Started) || tr.Decisions != nil {
		t.Errorf("promoted trial = %+v (lease %+v)", tr, tr.Lease)
	}
	checkDiff(t, "the checkpoint of a promotion", &ck, got)
	fx.checkDecisions("adapt1", 1, "start 1", "promote 1 from rung 1")

	// Promoted out of rung 1 once.
	before := fx.dump("adapt1")
	_, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, plan(results.Plan{Action: results.PlanPromote, Number: 1, Target: 9}))
	wantErr(t, "a second promotion from rung 1", err, nil, "adapt1")
	fx.unchanged("adapt1", before, "a second promotion")

	// Rung 2 at 6: Promoted cleared; promoted again, it finishes at 9.
	fx.must(fx.s.Pause(fx.ctx, "adapt1", 1, b, now(), ck, nil, results.Eval{Resource: 6, Value: 0.5}, results.Metrics{ValAcc: 0.5}, 1))
	if got, hist := fx.trial("adapt1", 1); got.Promoted || got.Rung != 2 || got.Status != results.Paused || len(hist) != 3 {
		t.Errorf("paused at rung 2: %+v, %d epochs (a Pause without a history keeps it)", got, len(hist))
	}
	fx.promote("adapt1", a, 1, 9, decision("promote 1 from rung 2"))
	before = fx.dump("adapt1")
	err = fx.s.Finish(fx.ctx, "adapt1", 1, a, now(), results.Outcome{Status: results.Done, Eval: &results.Eval{Resource: 6, Value: 0.6}})
	wantErr(t, "Finish with an evaluation not beyond the last", err, nil, "adapt1")
	fx.unchanged("adapt1", before, "a refused Finish")
	fx.finish("adapt1", 1, a, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.6, ValLoss: 1.1}, Eval: &results.Eval{Resource: 9, Value: 0.6}})
	got2, _ := fx.trial("adapt1", 1)
	if got2.Status != results.Done || got2.Promoted || got2.Rung != 3 || got2.Target != 9 || got2.Attempts != 3 {
		t.Errorf("finished trial = %+v", got2)
	}
	checkDiff(t, "evaluations", []results.Eval{{Resource: 3, Value: 0.4}, {Resource: 6, Value: 0.5}, {Resource: 9, Value: 0.6}}, got2.Evals)
	fx.checkDecisions("adapt1", 1, "start 1", "promote 1 from rung 1", "promote 1 from rung 2")
}

// adaptiveWait: PlanWait is ErrWait (a kind of ErrNoWork) and PlanFinished
// ErrNoWork only; the prunes of either are committed.
func adaptiveWait(t *testing.T, fx *fixture) {
	a := owner("a")
	for i, v := range []float64{0.4, math.NaN(), 0.3} {
		fx.start("adapt1", a, fmt.Sprint("k", i+1), 1, decision("start %d", i+1))
		if i < 2 {
			fx.pause("adapt1", a, i+1, 1, v)
		}
	}
	before := fx.dump("adapt1")
	_, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, plan(results.Plan{Action: results.PlanWait}))
	wantErr(t, "wait", err, results.ErrWait, "adapt1")
	if !errors.Is(err, results.ErrNoWork) {
		t.Errorf("wait: %v is not ErrNoWork", err)
	}
	fx.unchanged("adapt1", before, "a plan to wait")

	_, _, err = fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, plan(results.Plan{Action: results.PlanWait,
		Prune: []results.Pruning{{Number: 1, Decision: decision("prune 1")}}}))
	wantErr(t, "wait, pruning 1", err, results.ErrWait, "adapt1")
	got, hist := fx.trial("adapt1", 1)
	want := before.Trials[0].Trial
	want.Status, want.Finished, want.Decisions = results.Pruned, got.Finished, decisionsJSON("start 1", "prune 1")
	if got.Finished.IsZero() {
		t.Errorf("a pruned trial has no Finished time")
	}
	checkDiff(t, "the pruned trial", &want, got)
	checkDiff(t, "the history of the pruned trial", before.Trials[0].History, hist)
	if d := fx.dump("adapt1"); d.Trials[0].Checkpoint != nil || d.Trials[1].Checkpoint == nil {
		t.Errorf("after the prune: checkpoints of trials 1 and 2: %v, %v; want none, one", d.Trials[0].Checkpoint != nil, d.Trials[1].Checkpoint != nil)
	}

	_, _, err = fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, plan(results.Plan{Action: results.PlanFinished,
		Prune: []results.Pruning{{Number: 2}}}))
	wantErr(t, "finished, pruning 2", err, results.ErrNoWork, "adapt1")
	if errors.Is(err, results.ErrWait) {
		t.Errorf("finished: %v is ErrWait", err)
	}
	if got, _ := fx.trial("adapt1", 2); got.Status != results.Pruned || !math.IsNaN(got.Evals[0].Value) || len(got.Decisions) != 1 {
		t.Errorf("trial 2 = %+v, want pruned with its NaN evaluation and one decision", got)
	}
}

// adaptiveClaimableFirst: ClaimNext takes a pending, interrupted or stale
// trial as Claim does, without calling decide; a reclaimed trial goes on
// towards its target.
func adaptiveClaimableFirst(t *testing.T, fx *fixture) {
	a, b := owner("a"), owner("b")
	calls := 0
	count := func([]results.Trial) (results.Plan, error) {
		calls++
		return results.Plan{Action: results.PlanWait}, nil
	}
	fx.ensure(results.Sweep{Name: "adapt1"}, grid(1)) // a pending trial
	tr, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, count)
	if err != nil || tr.Number != 1 || calls != 0 || tr.Attempts != 1 {
		t.Fatalf("ClaimNext with a pending trial: %+v, %v (decide called %d times)", tr, err, calls)
	}
	fx.start("adapt1", a, "k2", 1, nil)
	ck := rungCheckpoint(2, 1)
	fx.must(fx.s.Pause(fx.ctx, "adapt1", 2, a, now(), ck, nil, results.Eval{Resource: 1, Value: 0.5}, results.Metrics{}, 0))
	fx.promote("adapt1", b, 2, 3, nil)
	fx.must(fx.s.Release(fx.ctx, "adapt1", 2, b, now(), nil, nil, 1))

	tr, got, err := fx.s.ClaimNext(fx.ctx, "adapt1", a, now(), never, count)
	if err != nil || tr.Number != 2 || calls != 0 || tr.Target != 3 || !tr.Promoted || tr.Rung != 1 || tr.Attempts != 3 {
		t.Fatalf("ClaimNext with an interrupted trial: %+v, %v (decide called %d times)", tr, err, calls)
	}
	checkDiff(t, "the checkpoint of the interrupted trial", &ck, got)

	// Both trials run under a, whose leases are stale to b.
	claimed := map[int]bool{}
	for range 2 {
		tr, _, err := fx.s.ClaimNext(fx.ctx, "adapt1", b, now(), staleOf("a"), count)
		fx.must(err)
		claimed[tr.Number] = true
		if !sameOwner(tr.Lease.Owner, b) || (tr.Number == 2 && (tr.Target != 3 || tr.Attempts != 4)) {
			t.Errorf("ClaimNext of stale trial %d: %+v", tr.Number, tr)
		}
	}
	if !claimed[1] || !claimed[2] || calls != 0 {
		t.Errorf("ClaimNext with stale trials took %v (decide called %d times), want 1 and 2", claimed, calls)
	}
	_, _, err = fx.s.ClaimNext(fx.ctx, "adapt1", b, now(), staleOf("a"), count)
	wantErr(t, "ClaimNext with nothing claimable", err, results.ErrWait, "adapt1")
	if calls != 1 {
		t.Errorf("decide called %d times, want once", calls)
	}
}

// adaptivePrune: Prune marks the paused trials choose names pruned, or
// nothing when it cannot.
func adaptivePrune(t *testing.T, fx *fixture) {
	fx.buildMixed("mixed")
	errBoom := errors.New("boom")
	before := fx.dump("mixed")
	for _, tc := range []struct {
		name   string
		choose func([]results.Trial) ([]results.Pruning, error)
		is     error
	}{
		{"a running trial", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPaused}, {Number: mixedRunning}}, nil
		}, nil},
		{"a pruned trial", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPaused}, {Number: mixedPruned}}, nil
		}, nil},
		{"a pending trial", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPending}}, nil
		}, nil},
		{"twice", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPaused}, {Number: mixedPaused}}, nil
		}, nil},
		{"a trial that does not exist", func([]results.Trial) ([]results.Pruning, error) { return []results.Pruning{{Number: 99}}, nil }, nil},
		{"choose fails", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPaused}}, fmt.Errorf("choose: %w", errBoom)
		}, errBoom},
		{"choose panics", func([]results.Trial) ([]results.Pruning, error) { panic("chooser bug") }, nil},
		{"bad decision", func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: mixedPaused, Decision: json.RawMessage("{")}}, nil
		}, nil},
	} {
		pruned, err := fx.s.Prune(fx.ctx, "mixed", now(), tc.choose)
		wantErr(t, "Prune of "+tc.name, err, tc.is, "mixed")
		if len(pruned) != 0 {
			t.Errorf("Prune of %s: pruned %v", tc.name, pruned)
		}
		fx.unchanged("mixed", before, "Prune of "+tc.name)
	}

	var given []int
	pruned, err := fx.s.Prune(fx.ctx, "mixed", now(), func(ts []results.Trial) ([]results.Pruning, error) {
		var ps []results.Pruning
		for _, tr := range ts {
			given = append(given, tr.Number)
			if tr.Decisions != nil {
				t.Errorf("choose was given trial %d with decisions", tr.Number)
			}
			if tr.Status == results.Paused {
				ps = append(ps, results.Pruning{Number: tr.Number, Decision: decision("end")})
			}
		}
		return ps, nil
	})
	fx.must(err)
	if len(pruned) != 1 || pruned[0] != mixedPaused || len(given) != mixedTrials || given[0] != 1 || given[mixedTrials-1] != mixedTrials {
		t.Fatalf("Prune = %v (given %v), want [%d] given 1..%d", pruned, given, mixedPaused, mixedTrials)
	}
	got, _ := fx.trial("mixed", mixedPaused)
	if got.Status != results.Pruned || got.Finished.IsZero() || got.Rung != 1 || got.ValAcc != 0.5 {
		t.Errorf("pruned trial = %+v", got)
	}
	fx.checkDecisions("mixed", mixedPaused, "start 4", "end")
	if fx.dump("mixed").Trials[mixedPaused-1].Checkpoint != nil {
		t.Errorf("a pruned trial kept its checkpoint")
	}
	pruned, err = fx.s.Prune(fx.ctx, "mixed", now(), func([]results.Trial) ([]results.Pruning, error) { return nil, nil })
	if err != nil || len(pruned) != 0 {
		t.Errorf("Prune of nothing = %v, %v", pruned, err)
	}
}

// adaptiveMaxDecisions: a trial keeps its first decision record and its
// latest, MaxDecisions in all.
func adaptiveMaxDecisions(t *testing.T, fx *fixture) {
	o := owner("a")
	fx.start("adapt1", o, "k", 1, decision("0"))
	const promotions = results.MaxDecisions + 5
	for r := 1; r <= promotions; r++ {
		fx.must(fx.s.Pause(fx.ctx, "adapt1", 1, o, now(), results.Checkpoint{}, nil, results.Eval{Resource: r, Value: 0.5}, results.Metrics{}, 0))
		fx.promote("adapt1", o, 1, r+1, decision("%d", r))
	}
	whys := []string{"0"}
	for r := promotions - results.MaxDecisions + 2; r <= promotions; r++ {
		whys = append(whys, fmt.Sprint(r))
	}
	fx.checkDecisions("adapt1", 1, whys...)
}
