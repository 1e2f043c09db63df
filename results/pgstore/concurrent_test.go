package pgstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// overlap tracks how many calls are in flight at once.
type overlap struct{ now, most atomic.Int32 }

func (o *overlap) enter() {
	k := o.now.Add(1)
	for m := o.most.Load(); k > m && !o.most.CompareAndSwap(m, k); m = o.most.Load() {
	}
}

func (o *overlap) leave() { o.now.Add(-1) }

// TestConcurrentClaims: 8 workers, each with its own Store (as 8
// processes would be), claim and finish a sweep of 200 trials: every trial
// is done exactly once, in its first attempt, and the claims overlapped.
func TestConcurrentClaims(t *testing.T) {
	const workers, trials = 8, 200
	s, dsn := newStore(t)
	ctx := t.Context()
	ensure(t, s, "g", trials)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		finished = map[int]int{}
		claims   overlap
		errs     = make(chan error, workers)
	)
	for w := range workers {
		ws := openDSN(t, dsn)
		o := owner(fmt.Sprint("w", w))
		wg.Go(func() {
			for {
				claims.enter()
				tr, _, err := ws.Claim(ctx, "g", o, time.Now(), nil)
				claims.leave()
				if errors.Is(err, results.ErrNoWork) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				o := withAttempt(o, tr.Attempts)
				err = ws.Finish(ctx, "g", tr.Number, o, time.Now(), results.Outcome{
					Status: results.Done, Metrics: results.Metrics{ValAcc: float64(tr.Number%17) / 17}, Model: testModel()})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				finished[tr.Number]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := 1; n <= trials; n++ {
		if finished[n] != 1 {
			t.Errorf("trial %d finished %d times", n, finished[n])
		}
	}
	if claims.most.Load() < 2 {
		t.Errorf("at most %d claims in flight at once: the workers did not overlap", claims.most.Load())
	}
	ts, err := s.Trials(ctx, "g", results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		if tr.Status != results.Done || tr.Attempts != 1 {
			t.Errorf("trial %d is %s after %d attempts", tr.Number, tr.Status, tr.Attempts)
		}
	}
	var models int
	if err := conn(t, dsn).QueryRow(ctx, `SELECT count(*) FROM sweep_models`).Scan(&models); err != nil || models != results.DefaultKeep {
		t.Errorf("%d models kept (%v), want %d", models, err, results.DefaultKeep)
	}
}

// decision is the test scheduler's record of a decision.
type decision struct {
	Action string `json:"action"`
	Rung   int    `json:"rung"`
}

// TestConcurrentClaimNext: 4 workers, each with its own Store, run an
// adaptive sweep whose scheduler starts new trials up to 24 and promotes
// every paused trial, rung by rung, to its full length (3 rungs): no key
// is started twice, no trial is promoted twice from one rung, and every
// trial is promoted once from each rung below the top.
func TestConcurrentClaimNext(t *testing.T) {
	const workers, keys, rungs = 4, 24, 3
	s, dsn := newStore(t)
	ctx := t.Context()
	if _, err := s.EnsureSweep(ctx, results.Sweep{Name: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	decide := func(ts []results.Trial) (results.Plan, error) {
		busy := false
		for _, tr := range ts {
			if tr.Status == results.Paused {
				d, _ := json.Marshal(decision{"promote", tr.Rung})
				return results.Plan{Action: results.PlanPromote, Number: tr.Number, Target: tr.Rung + 1, Decision: d}, nil
			}
			busy = busy || tr.Status == results.Running
		}
		if len(ts) < keys {
			d, _ := json.Marshal(decision{"start", 0})
			return results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: fmt.Sprint("key", len(ts)+1), Target: 1}, Decision: d}, nil
		}
		if busy {
			return results.Plan{Action: results.PlanWait}, nil
		}
		return results.Plan{Action: results.PlanFinished}, nil
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		promoted = map[[2]int]int{} // (trial, rung) -> promotions seen by the workers
		started  = map[string]int{}
		calls    overlap
		errs     = make(chan error, workers)
	)
	for w := range workers {
		ws := openDSN(t, dsn)
		o := owner(fmt.Sprint("w", w))
		wg.Go(func() {
			for {
				calls.enter()
				tr, ck, err := ws.ClaimNext(ctx, "a", o, time.Now(), nil, decide)
				calls.leave()
				switch {
				case errors.Is(err, results.ErrWait):
					time.Sleep(time.Millisecond) // a worker's poll: trials in flight will free work
					continue
				case errors.Is(err, results.ErrNoWork):
					return
				case err != nil:
					errs <- err
					return
				}
				mu.Lock()
				if tr.Rung == 0 {
					started[tr.Key]++
				} else {
					promoted[[2]int{tr.Number, tr.Rung}]++
					if ck == nil {
						errs <- fmt.Errorf("promoted trial %d without its checkpoint", tr.Number)
					}
				}
				mu.Unlock()
				o := withAttempt(o, tr.Attempts)
				eval := results.Eval{Resource: tr.Target, Value: float64(tr.Number)}
				if tr.Target < rungs {
					err = ws.Pause(ctx, "a", tr.Number, o, time.Now(), results.Checkpoint{Data: []byte("ck")}, nil, eval, results.Metrics{ValAcc: eval.Value}, 1)
				} else {
					err = ws.Finish(ctx, "a", tr.Number, o, time.Now(), results.Outcome{Status: results.Done, Eval: &eval})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if calls.most.Load() < 2 {
		t.Errorf("at most %d ClaimNext in flight at once: the workers did not overlap", calls.most.Load())
	}
	for k, n := range started {
		if n != 1 {
			t.Errorf("key %s started %d times", k, n)
		}
	}
	for k, n := range promoted {
		if n != 1 {
			t.Errorf("trial %d promoted %d times from rung %d", k[0], n, k[1])
		}
	}
	ts, err := s.Trials(ctx, "a", results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != keys || len(started) != keys || len(promoted) != keys*(rungs-1) {
		t.Errorf("%d trials, %d keys started, %d promotions; want %d, %d, %d", len(ts), len(started), len(promoted), keys, keys, keys*(rungs-1))
	}
	for _, tr := range ts {
		full, _, err := s.Trial(ctx, "a", tr.Number)
		if err != nil {
			t.Fatal(err)
		}
		var from []int
		for _, raw := range full.Decisions {
			var d decision
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			if d.Action == "promote" {
				from = append(from, d.Rung)
			}
		}
		if tr.Status != results.Done || tr.Rung != rungs || fmt.Sprint(from) != "[1 2]" {
			t.Errorf("trial %d: %s at rung %d, promoted from rungs %v; want done at %d, promoted from [1 2]", tr.Number, tr.Status, tr.Rung, from, rungs)
		}
	}
}
