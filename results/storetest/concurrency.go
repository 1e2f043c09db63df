package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// meeting is where the first claims of workers meet: each worker, holding
// its first claim, waits until n workers hold one, so that the test
// asserts what it is named for, claims that overlap.
type meeting struct {
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func newMeeting(n int) *meeting { return &meeting{n: n, done: make(chan struct{})} }

// arrive counts the caller in and waits for the others, at most a minute.
func (m *meeting) arrive(ctx context.Context) error {
	m.mu.Lock()
	if m.n--; m.n == 0 {
		close(m.done)
	}
	m.mu.Unlock()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errors.New("no other worker claimed a trial within a minute")
	}
}

// testConcurrent: claims from several stores on one database, several
// goroutines each, hand every trial out once; ClaimNext's decisions and
// their application are one transaction, so no trial is started twice or
// promoted twice from a rung; ClaimGroup never splits a group.
func testConcurrent(t *testing.T, f Factory) {
	t.Run("Claim", func(t *testing.T) { concurrentClaims(t, f) })
	t.Run("ClaimNext", func(t *testing.T) { concurrentClaimNext(t, f) })
	t.Run("ClaimGroup", func(t *testing.T) { concurrentClaimGroups(t, f) })
}

func concurrentClaims(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	const n, workers = 24, 6
	fx.grid("grid1", n, 3)
	stores := []results.Store{fx.s, fx.open(t), fx.open(t)}
	var (
		mu     sync.Mutex
		claims = map[int][]string{}
		wg     sync.WaitGroup
		meet   = newMeeting(2)
	)
	for w := range workers {
		s, o := stores[w%len(stores)], owner(fmt.Sprint("w", w))
		wg.Go(func() {
			for first := true; ; first = false {
				tr, _, err := s.Claim(fx.ctx, "grid1", o, now(), never)
				if errors.Is(err, results.ErrNoWork) {
					return
				}
				if err != nil {
					t.Errorf("%s: %v", o.ID, err)
					return
				}
				mu.Lock()
				claims[tr.Number] = append(claims[tr.Number], o.ID)
				mu.Unlock()
				if first {
					if err := meet.arrive(fx.ctx); err != nil {
						t.Errorf("%s: %v", o.ID, err)
						return
					}
				}
				if err := s.SaveCheckpoint(fx.ctx, "grid1", tr.Number, o, now(), results.Checkpoint{Epoch: 1, Data: make([]byte, 1000)}, history(1)); err != nil {
					t.Errorf("%s: %v", o.ID, err)
				}
				acc := float64(tr.Number%7) / 10
				if err := s.Finish(fx.ctx, "grid1", tr.Number, o, now(), results.Outcome{Status: results.Done,
					Metrics: results.Metrics{ValAcc: acc, ValLoss: 2 - acc}, Model: model(tr.Number), Duration: 1}); err != nil {
					t.Errorf("%s: %v", o.ID, err)
				}
			}
		})
	}
	wg.Wait()
	for i := 1; i <= n; i++ {
		if len(claims[i]) != 1 {
			t.Errorf("trial %d claimed by %v, want once", i, claims[i])
		}
	}
	for _, tr := range fx.trials("grid1") {
		if tr.Status != results.Done || tr.Attempts != 1 || tr.Lease != nil || tr.Duration != 1 {
			t.Errorf("trial %d: %s, attempt %d, lease %v, duration %v", tr.Number, tr.Status, tr.Attempts, tr.Lease, tr.Duration)
		}
	}
	if running, err := fx.s.Running(fx.ctx, "grid1"); err != nil || len(running) != 0 {
		t.Errorf("Running = %+v, %v", running, err)
	}
}

// The toy adaptive sweep of concurrentClaimNext: trials start towards
// rung 1 (resource 1), are promoted to 3, then to 9, where they finish.
var toyRungs = []int{1, 3, 9}

// toyTrials is how many trials the toy sweep starts.
const toyTrials = 12

// toyValue is trial n's validation accuracy at resource r: a function of
// (n, r) alone, as a trial's curve is of its config and seed.
func toyValue(n, r int) float64 { return float64((n*7919+r*104729)%1000) / 1000 }

// toyDecision is the toy scheduler's decision record.
type toyDecision struct {
	Action string `json:"action"`
	Trial  int    `json:"trial"`
	Rung   int    `json:"rung"`
	By     string `json:"by"`
}

// toyDecide is a small ASHA-like scheduler over the store's trials: it
// promotes the best paused trial whose value at its rung is at least 0.3,
// else starts a new trial while fewer than toyTrials exist, else waits
// while trials are in flight, else finishes, pruning the paused ones. It
// checks the trials it is given, and records in each decision who made
// it. *last is set to the plan returned.
func toyDecide(who string, last *results.Plan) func([]results.Trial) (results.Plan, error) {
	return func(ts []results.Trial) (results.Plan, error) {
		var best *results.Trial
		inFlight := false
		for i := range ts {
			tr := &ts[i]
			if tr.Number != i+1 || tr.Rung != len(tr.Evals) || tr.Decisions != nil {
				return results.Plan{}, fmt.Errorf("decide was given trial %d as %+v", i+1, tr)
			}
			switch tr.Status {
			case results.Pending, results.Running, results.Interrupted:
				inFlight = true
			case results.Paused:
				if tr.Promoted || tr.Rung < 1 || tr.Rung >= len(toyRungs) || tr.Evals[tr.Rung-1].Resource != toyRungs[tr.Rung-1] {
					return results.Plan{}, fmt.Errorf("decide was given paused trial %+v", tr)
				}
				v := tr.Evals[tr.Rung-1].Value
				if v >= 0.3 && (best == nil || v > best.Evals[best.Rung-1].Value) {
					best = tr
				}
			}
		}
		rec := func(action string, n, rung int) json.RawMessage {
			b, _ := json.Marshal(toyDecision{Action: action, Trial: n, Rung: rung, By: who})
			return b
		}
		var p results.Plan
		switch {
		case best != nil:
			p = results.Plan{Action: results.PlanPromote, Number: best.Number, Target: toyRungs[best.Rung], Decision: rec("promote", best.Number, best.Rung)}
		case len(ts) < toyTrials:
			n := len(ts) + 1
			p = results.Plan{Action: results.PlanStart, Trial: &results.Trial{Number: n, Key: fmt.Sprint("t", n), Seed: uint64(n), Target: toyRungs[0]},
				Decision: rec("start", n, 0)}
		case inFlight:
			p = results.Plan{Action: results.PlanWait}
		default:
			p = results.Plan{Action: results.PlanFinished}
			for i := range ts {
				if ts[i].Status == results.Paused {
					p.Prune = append(p.Prune, results.Pruning{Number: ts[i].Number, Decision: rec("prune", ts[i].Number, ts[i].Rung)})
				}
			}
		}
		*last = p
		return p, nil
	}
}

// toyClaim is a claim a toy worker made: a start (rung 0) or a promotion
// from rung Rung of trial Trial.
type toyClaim struct {
	Trial, Rung int
}

// toyWorker works on the toy sweep as owner who until it is finished: it
// claims with ClaimNext and "trains" each trial to its target, pausing it
// there (with a checkpoint naming the trial and rung) or finishing it at
// the last rung, and logs each claim. It holds its first claim until
// another worker has one (meet).
func toyWorker(ctx context.Context, s results.Store, who string, meet *meeting, log func(toyClaim)) error {
	o := owner(who)
	var last results.Plan
	decide := toyDecide(who, &last)
	for met := false; ; {
		last = results.Plan{}
		tr, ck, err := s.ClaimNext(ctx, "toy", o, now(), never, decide)
		switch {
		case errors.Is(err, results.ErrWait):
			runtime.Gosched()
			continue
		case errors.Is(err, results.ErrNoWork):
			return nil
		case err != nil:
			return err
		}
		switch last.Action {
		case results.PlanStart:
			if tr.Number != last.Trial.Number || ck != nil || tr.Attempts != 1 || tr.Target != toyRungs[0] {
				return fmt.Errorf("started %+v (checkpoint %v), planned %+v", tr, ck, last.Trial)
			}
			log(toyClaim{tr.Number, 0})
		case results.PlanPromote:
			want := fmt.Sprintf("trial %d rung %d", tr.Number, tr.Rung)
			if tr.Number != last.Number || !tr.Promoted || tr.Target != last.Target || ck == nil || string(ck.Data) != want {
				return fmt.Errorf("promoted %+v with checkpoint %+v, planned %+v", tr, ck, last)
			}
			log(toyClaim{tr.Number, tr.Rung})
		default:
			return fmt.Errorf("claimed trial %d without a plan to (%v)", tr.Number, last.Action)
		}
		if !met {
			if err := meet.arrive(ctx); err != nil {
				return err
			}
			met = true
		}
		r := tr.Target
		v := toyValue(tr.Number, r)
		m := results.Metrics{ValAcc: v, ValLoss: 2 - v, Epochs: float64(r)}
		if r == toyRungs[len(toyRungs)-1] {
			err = s.Finish(ctx, "toy", tr.Number, o, now(), results.Outcome{Status: results.Done, Metrics: m, Eval: &results.Eval{Resource: r, Value: v}})
		} else {
			ck := results.Checkpoint{Epoch: float64(r), Data: fmt.Appendf(nil, "trial %d rung %d", tr.Number, tr.Rung+1)}
			err = s.Pause(ctx, "toy", tr.Number, o, now(), ck, history(r), results.Eval{Resource: r, Value: v}, m, 0.1)
		}
		if err != nil {
			return err
		}
	}
}

func concurrentClaimNext(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.ensure(results.Sweep{Name: "toy", Spec: spec("toy")}, nil)
	var (
		mu   sync.Mutex
		by   = map[toyClaim][]string{} // who made each claim
		wg   sync.WaitGroup
		meet = newMeeting(2)
	)
	for i, s := range []results.Store{fx.s, fx.open(t), fx.open(t)} {
		who := fmt.Sprint("worker", i+1)
		wg.Go(func() {
			err := toyWorker(fx.ctx, s, who, meet, func(c toyClaim) {
				mu.Lock()
				defer mu.Unlock()
				by[c] = append(by[c], who)
			})
			if err != nil {
				t.Errorf("%s: %v", who, err)
			}
		})
	}
	wg.Wait()

	for c, who := range by {
		if len(who) != 1 {
			what := "started"
			if c.Rung > 0 {
				what = fmt.Sprint("promoted from rung ", c.Rung)
			}
			t.Errorf("trial %d %s %d times, by %v", c.Trial, what, len(who), who)
		}
	}
	trials := fx.trials("toy")
	if len(trials) != toyTrials {
		t.Fatalf("%d trials, want %d", len(trials), toyTrials)
	}
	keys := map[string]bool{}
	done, pruned, promotions := 0, 0, 0
	for _, tr := range trials {
		if keys[tr.Key] {
			t.Errorf("key %q twice", tr.Key)
		}
		keys[tr.Key] = true
		// The toy scheduler promotes every trial whose value at its rung
		// is at least 0.3, whatever the order of events.
		rung := 1
		for rung < len(toyRungs) && toyValue(tr.Number, toyRungs[rung-1]) >= 0.3 {
			rung++
		}
		wantStatus := results.Pruned
		if rung == len(toyRungs) {
			wantStatus = results.Done
			done++
		} else {
			pruned++
		}
		promotions += rung - 1
		if tr.Status != wantStatus || tr.Rung != rung || tr.Promoted || tr.Lease != nil || tr.Attempts != rung {
			t.Errorf("trial %d = %s at rung %d (promoted %v, attempt %d), want %s at rung %d", tr.Number, tr.Status, tr.Rung, tr.Promoted, tr.Attempts, wantStatus, rung)
		}
		for i, e := range tr.Evals {
			if e != (results.Eval{Resource: toyRungs[i], Value: toyValue(tr.Number, toyRungs[i])}) {
				t.Errorf("trial %d evaluation %d = %+v", tr.Number, i+1, e)
			}
		}
		// Its decisions: its start and each promotion, by the worker that
		// claimed it, then its prune.
		full, _ := fx.trial("toy", tr.Number)
		var got []toyDecision
		for _, d := range full.Decisions {
			var td toyDecision
			if err := json.Unmarshal(d, &td); err != nil {
				t.Errorf("trial %d decision %s: %v", tr.Number, d, err)
			}
			got = append(got, td)
		}
		var want []toyDecision
		for r := 0; r < rung; r++ {
			action := "promote"
			if r == 0 {
				action = "start"
			}
			want = append(want, toyDecision{Action: action, Trial: tr.Number, Rung: r, By: firstOf(by[toyClaim{tr.Number, r}])})
		}
		if wantStatus == results.Pruned {
			want = append(want, toyDecision{Action: "prune", Trial: tr.Number, Rung: rung, By: "?"})
		}
		if len(got) == len(want) && wantStatus == results.Pruned {
			want[len(want)-1].By = got[len(got)-1].By // whoever finished the sweep
		}
		if !slices.Equal(got, want) {
			t.Errorf("trial %d: decisions %+v, want %+v", tr.Number, got, want)
		}
	}
	t.Logf("%d trials: %d done, %d pruned; %d promotions", len(trials), done, pruned, promotions)
	if done == 0 || pruned == 0 || promotions == 0 {
		t.Errorf("the toy sweep exercised too little: %d done, %d pruned, %d promotions", done, pruned, promotions)
	}
	workers := map[string]bool{}
	for _, who := range by {
		workers[firstOf(who)] = true
	}
	if len(workers) < 2 {
		t.Errorf("claims made by %v only", workers)
	}
}

// firstOf returns the first of ss, "" if none.
func firstOf(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
