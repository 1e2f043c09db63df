package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// never finds no lease stale.
func never(Lease) bool { return false }

// decisionsOf returns trial n's decision records as strings.
func decisionsOf(t *testing.T, s *Store, sweep string, n int) []string {
	t.Helper()
	tr, _, err := s.Trial(t.Context(), sweep, n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range tr.Decisions {
		out = append(out, string(d))
	}
	return out
}

// TestClaimNext walks an adaptive sweep through every action of a Plan,
// and the plans ClaimNext refuses.
func TestClaimNext(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, nil); err != nil {
		t.Fatal(err)
	}
	a, b := owner("a"), owner("b")
	calls := 0
	var seen []Trial
	record := func(p Plan) func([]Trial) (Plan, error) {
		return func(ts []Trial) (Plan, error) {
			calls++
			seen = ts
			return p, nil
		}
	}

	// Start: a new trial, claimed by a.
	tr, ck, err := s.ClaimNext(ctx, "g", a, t0, never, record(Plan{Action: PlanStart,
		Trial: &Trial{Number: 1, Key: "k1", Params: Params{{Name: "lr", Value: 1e-3}}, Config: []byte(`{"epochs":9}`), Seed: 11, Bracket: 1, Target: 3,
			Status: Done, Attempts: 7}, // ignored
		Decision: decision("start 1")}))
	if err != nil {
		t.Fatal(err)
	}
	want := Trial{Number: 1, Key: "k1", Params: Params{{Name: "lr", Value: 1e-3}}, Config: []byte(`{"epochs":9}`), Seed: 11, Bracket: 1, Target: 3,
		Status: Running, Lease: &Lease{Owner: a, Claimed: t0, Heartbeat: t0}, Attempts: 1, Created: t0, Started: t0}
	if ck != nil || !reflect.DeepEqual(*tr, want) || calls != 1 || len(seen) != 0 {
		t.Fatalf("start: %+v, %v (decide called %d times with %d trials)\nwant %+v", tr, ck, calls, len(seen), want)
	}
	if got := decisionsOf(t, s, "g", 1); !slices.Equal(got, []string{`{"why":"start 1"}`}) {
		t.Errorf("decisions of trial 1: %q", got)
	}

	// Pause at rung 1 (epoch 3), with its checkpoint.
	ck1 := Checkpoint{Epoch: 3, Iteration: 885, Data: []byte("at rung 1")}
	m1 := Metrics{ValAcc: 0.4, ValLoss: 1.6, Epochs: 3, Iterations: 885}
	if err := s.Pause(ctx, "g", 1, a, t0.Add(time.Second), ck1, history(3), Eval{Resource: 3, Value: 0.4}, m1, 2.5); err != nil {
		t.Fatal(err)
	}
	got, hist, err := s.Trial(ctx, "g", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Paused || got.Lease != nil || got.Rung != 1 || !slices.Equal(got.Evals, []Eval{{Resource: 3, Value: 0.4}}) || got.Promoted ||
		got.Metrics != m1 || got.Duration != 2.5 || got.Epoch != 3 || got.Iteration != 885 || !got.Finished.IsZero() || len(hist) != 3 {
		t.Errorf("paused trial = %+v, %d epochs", got, len(hist))
	}
	// Claim does not take a paused trial.
	if _, _, err := s.Claim(ctx, "g", b, t0, func(Lease) bool { return true }); !errors.Is(err, ErrNoWork) {
		t.Errorf("Claim with only a paused trial: %v, want ErrNoWork", err)
	}

	// decide sees the history, by number, as copies.
	calls = 0
	tr, _, err = s.ClaimNext(ctx, "g", b, t0, never, func(ts []Trial) (Plan, error) {
		calls++
		if len(ts) != 1 || ts[0].Number != 1 || ts[0].Status != Paused || ts[0].Rung != 1 || ts[0].Evals[0] != (Eval{Resource: 3, Value: 0.4}) || ts[0].Decisions != nil {
			t.Errorf("decide was given %+v", ts)
		}
		ts[0].Status, ts[0].Key = Failed, "changed" // the caller's copy
		return Plan{Action: PlanStart, Trial: &Trial{Key: "k2", Target: 3}}, nil
	})
	if err != nil || tr.Number != 2 || tr.Lease.Owner != b || calls != 1 {
		t.Fatalf("start 2: %+v, %v", tr, err)
	}
	if got, _, _ := s.Trial(ctx, "g", 1); got.Status != Paused || got.Key != "k1" {
		t.Errorf("decide's changes to its trials reached the store: %+v", got)
	}
	if got := decisionsOf(t, s, "g", 2); got != nil {
		t.Errorf("a plan without a decision recorded %q", got)
	}

	// Refused plans write nothing.
	before, err := s.Trials(ctx, "g", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		decide func([]Trial) (Plan, error)
		is     error  // errors.Is
		msg    string // in the error
	}{
		{"decide fails", func([]Trial) (Plan, error) { return Plan{Action: PlanStart, Trial: &Trial{Key: "k9"}}, errBoom }, errBoom, "decide: boom"},
		{"decide panics", func([]Trial) (Plan, error) { panic("scheduler bug") }, nil, "decide: panic: scheduler bug"},
		{"duplicate key", plan(Plan{Action: PlanStart, Trial: &Trial{Key: "k1"}, Prune: []Pruning{{Number: 1}}}), ErrDuplicateKey, `"k1" is trial 1's key`},
		{"start of another number", plan(Plan{Action: PlanStart, Trial: &Trial{Number: 7, Key: "k7"}}), nil, "trial 7, but the sweep's next trial is 3"},
		{"start without a trial", plan(Plan{Action: PlanStart}), nil, "no trial"},
		{"start without a key", plan(Plan{Action: PlanStart, Trial: &Trial{}}), nil, "empty key"},
		{"promote a running trial", plan(Plan{Action: PlanPromote, Number: 2, Target: 9}), nil, "promote trial 2: it is running, not paused"},
		{"promote a trial that does not exist", plan(Plan{Action: PlanPromote, Number: 9, Target: 9}), ErrNoTrial, "trials are 1..2"},
		{"promote to its rung", plan(Plan{Action: PlanPromote, Number: 1, Target: 3}), nil, "target 3 is not beyond its rung 1 (at 3)"},
		{"promote twice in one plan", plan(Plan{Action: PlanPromote, Number: 1, Target: 9, Prune: []Pruning{{Number: 1}}}), nil, "promote trial 1: it is pruned, not paused"},
		{"prune a running trial", plan(Plan{Action: PlanFinished, Prune: []Pruning{{Number: 1}, {Number: 2}}}), nil, "prune trial 2: it is running, not paused"},
		{"decision not JSON", plan(Plan{Action: PlanStart, Trial: &Trial{Key: "k3"}, Decision: json.RawMessage(`{"why":`)}), nil, "not valid JSON"},
		{"decision too large", plan(Plan{Action: PlanStart, Trial: &Trial{Key: "k3"}, Decision: json.RawMessage(`"` + strings.Repeat("x", 70000) + `"`)}), nil, "decision record of 70002 bytes"},
		{"unknown action", plan(Plan{Action: 42}), nil, "unknown action action(42)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.ClaimNext(ctx, "g", b, t0, never, tc.decide)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) ||
				errors.Is(err, ErrNoWork) || errors.Is(err, ErrCorrupt) {
				t.Fatalf("ClaimNext: %v, want %v with %q", err, tc.is, tc.msg)
			}
			after, err := s.Trials(ctx, "g", Filter{})
			if err != nil || !reflect.DeepEqual(after, before) {
				t.Errorf("a refused plan changed the trials: %v", err)
			}
		})
	}
	if _, _, err := s.ClaimNext(ctx, "g", b, t0, never, nil); err == nil {
		t.Errorf("ClaimNext without decide succeeded")
	}

	// Wait: ErrWait, which is ErrNoWork.
	_, _, err = s.ClaimNext(ctx, "g", b, t0, never, plan(Plan{Action: PlanWait}))
	if !errors.Is(err, ErrWait) || !errors.Is(err, ErrNoWork) || !strings.Contains(err.Error(), "trials in flight may free work") {
		t.Errorf("wait: %v, want ErrWait", err)
	}

	// Promote trial 1 (b): from its checkpoint, towards 9 epochs.
	tr, ck, err = s.ClaimNext(ctx, "g", b, t0.Add(time.Minute), never, plan(Plan{Action: PlanPromote, Number: 1, Target: 9, Decision: decision("promote 1 from rung 1")}))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Number != 1 || tr.Status != Running || !tr.Promoted || tr.Target != 9 || tr.Rung != 1 || tr.Attempts != 2 || tr.Lease.Owner != b ||
		!tr.Started.Equal(t0) || ck == nil || !reflect.DeepEqual(*ck, ck1) {
		t.Fatalf("promote: %+v, %+v", tr, ck)
	}
	if got := decisionsOf(t, s, "g", 1); !slices.Equal(got, []string{`{"why":"start 1"}`, `{"why":"promote 1 from rung 1"}`}) {
		t.Errorf("decisions of trial 1: %q", got)
	}
	// It cannot be promoted again: it is no longer paused.
	if _, _, err := s.ClaimNext(ctx, "g", a, t0, never, plan(Plan{Action: PlanPromote, Number: 1, Target: 9})); err == nil {
		t.Errorf("a second promotion of trial 1 succeeded")
	}

	// Interrupted (b's Ctrl-C): a claims it again, towards the same
	// target, without asking decide; a stale trial likewise.
	if err := s.Release(ctx, "g", 1, b, t0, nil, nil, 1); err != nil {
		t.Fatal(err)
	}
	calls = 0
	tr, ck, err = s.ClaimNext(ctx, "g", a, t0, never, record(Plan{Action: PlanWait}))
	if err != nil || calls != 0 || tr.Number != 1 || tr.Target != 9 || !tr.Promoted || ck == nil || !reflect.DeepEqual(*ck, ck1) {
		t.Fatalf("claim of an interrupted trial: %+v, %+v, %v (decide called %d times)", tr, ck, err, calls)
	}
	tr, _, err = s.ClaimNext(ctx, "g", a, t0, func(l Lease) bool { return l.Owner.ID == "b" }, record(Plan{Action: PlanWait}))
	if err != nil || calls != 0 || tr.Number != 2 || tr.Lease.Owner != a || tr.Attempts != 2 {
		t.Fatalf("claim of a stale trial: %+v, %v (decide called %d times)", tr, err, calls)
	}

	// Trial 2 pauses; trial 1 finishes at the top rung, with its eval.
	if err := s.Pause(ctx, "g", 2, a, t0, Checkpoint{Epoch: 3, Data: []byte("2 at rung 1")}, nil, Eval{Resource: 3, Value: math.NaN()}, Metrics{ValAcc: 0.3}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, "g", 1, a, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.6, ValLoss: 1.2}, Eval: &Eval{Resource: 9, Value: 0.6}}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Trial(ctx, "g", 1)
	if got.Status != Done || got.Rung != 2 || got.Promoted || !slices.Equal(got.Evals, []Eval{{Resource: 3, Value: 0.4}, {Resource: 9, Value: 0.6}}) {
		t.Errorf("finished trial 1 = %+v", got)
	}

	// Finished, pruning trial 2: ErrNoWork (not ErrWait), and the prune
	// is committed.
	_, _, err = s.ClaimNext(ctx, "g", a, t0.Add(time.Hour), never, plan(Plan{Action: PlanFinished, Prune: []Pruning{{Number: 2, Decision: decision("prune 2")}}}))
	if !errors.Is(err, ErrNoWork) || errors.Is(err, ErrWait) || !strings.Contains(err.Error(), "finished") {
		t.Errorf("finished: %v, want ErrNoWork", err)
	}
	got, _, _ = s.Trial(ctx, "g", 2)
	if got.Status != Pruned || !got.Finished.Equal(t0.Add(time.Hour)) || got.Rung != 1 || !math.IsNaN(got.Evals[0].Value) || got.ValAcc != 0.3 ||
		!slices.Equal(decisionsOf(t, s, "g", 2), []string{`{"why":"prune 2"}`}) {
		t.Errorf("pruned trial 2 = %+v", got)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
	sums, err := s.Sweeps(ctx, t0, time.Minute)
	if err != nil || sums[0].Done != 1 || sums[0].Pruned != 1 || sums[0].Paused != 0 || sums[0].Total != 2 {
		t.Errorf("Sweeps = %+v, %v", sums, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestPause: Pause is fenced by the lease like Finish and Release, keeps
// the checkpoint, and refuses an evaluation that is not beyond the last.
func TestPause(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, nil); err != nil {
		t.Fatal(err)
	}
	a, b := owner("a"), owner("b")
	ck := Checkpoint{Epoch: 1, Iteration: 295, Data: []byte("rung 1")}
	start := func(o Owner, key string) *Trial {
		tr, _, err := s.ClaimNext(ctx, "g", o, t0, never, plan(Plan{Action: PlanStart, Trial: adaptiveTrial(key, 1)}))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	start(a, "k1")
	pause := func(n int, o Owner, r int) error {
		return s.Pause(ctx, "g", n, o, t0, ck, history(1), Eval{Resource: r, Value: 0.5}, Metrics{ValAcc: 0.5}, 1)
	}
	if err := pause(1, b, 1); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("pause by another owner: %v, want ErrLeaseLost", err)
	}
	if err := pause(1, a, 0); err == nil || errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "evaluation at 0 is not beyond its last (at 0)") {
		t.Errorf("pause at resource 0: %v", err)
	}
	// a's lease goes stale: b takes trial 1 over, and a's pause is fenced.
	if tr, _, err := s.ClaimNext(ctx, "g", b, t0, func(Lease) bool { return true }, plan(Plan{Action: PlanWait})); err != nil || tr.Number != 1 {
		t.Fatalf("take over: %+v, %v", tr, err)
	}
	if err := pause(1, a, 1); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "held by test:1") {
		t.Errorf("pause after losing the lease: %v, want ErrLeaseLost", err)
	}
	if err := pause(1, b, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"pause a paused trial", pause(1, b, 2)},
		{"checkpoint a paused trial", s.SaveCheckpoint(ctx, "g", 1, b, t0, ck, nil)},
		{"finish a paused trial", s.Finish(ctx, "g", 1, b, t0, Outcome{Status: Done})},
		{"release a paused trial", s.Release(ctx, "g", 1, b, t0, nil, nil, 0)},
		{"heartbeat a paused trial", s.Heartbeat(ctx, "g", []int{1}, b, t0)},
	} {
		if !errors.Is(tc.err, ErrLeaseLost) {
			t.Errorf("%s: %v, want ErrLeaseLost", tc.name, tc.err)
		}
	}
	// The checkpoint is kept while paused, through a promotion, and
	// deleted when the trial finishes.
	tr, got, err := s.ClaimNext(ctx, "g", a, t0, never, plan(Plan{Action: PlanPromote, Number: 1, Target: 3}))
	if err != nil || tr.Number != 1 || got == nil || !reflect.DeepEqual(*got, ck) {
		t.Fatalf("promote: %+v, %+v, %v", tr, got, err)
	}
	if err := s.Pause(ctx, "g", 1, a, t0, ck, nil, Eval{Resource: 2, Value: 0.6}, Metrics{}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(ctx, "g", t0, func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 1}}, nil }); err != nil {
		t.Fatal(err)
	}
	mutate(t, s.Path(), func(tx *bolt.Tx) error {
		if v, err := getBlob(in(tx, "g").ckpt, 1); v != nil || err != nil {
			t.Errorf("a pruned trial's checkpoint is kept (%v)", err)
		}
		return nil
	})
}

// TestPrune: Prune marks paused trials pruned in one transaction, or
// nothing when one of them is not paused or choose fails.
func TestPrune(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	buildAdaptive(t, s, "c") // 1 running, 2 done, 3 pruned, 4 paused
	sums, err := s.Sweeps(ctx, t0, time.Minute)
	if err != nil || len(sums) != 1 || sums[0].Total != 4 || sums[0].Running != 1 || sums[0].Done != 1 || sums[0].Pruned != 1 || sums[0].Paused != 1 ||
		sums[0].BestValAcc == nil || *sums[0].BestValAcc != 0.7 {
		t.Errorf("Sweeps = %+v, %v", sums, err)
	}
	if running, err := s.Running(ctx, "c"); err != nil || len(running) != 1 || running[0].Number != 1 {
		t.Errorf("Running = %+v, %v", running, err)
	}
	if paused, err := s.Trials(ctx, "c", Filter{Status: []Status{Paused}}); err != nil || len(paused) != 1 || paused[0].Number != 4 {
		t.Errorf("Trials(paused) = %+v, %v", paused, err)
	}
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		choose func([]Trial) ([]Pruning, error)
		msg    string
	}{
		{"a running trial", func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 4}, {Number: 1}}, nil }, "prune trial 1: it is running, not paused"},
		{"a pruned trial", func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 4}, {Number: 3}}, nil }, "prune trial 3: it is pruned, not paused"},
		{"twice", func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 4}, {Number: 4}}, nil }, "prune trial 4: it is pruned, not paused"},
		{"choose fails", func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 4}}, errBoom }, "choose: boom"},
		{"bad decision", func([]Trial) ([]Pruning, error) { return []Pruning{{Number: 4, Decision: []byte("{")}}, nil }, "not valid JSON"},
	} {
		if _, err := s.Prune(ctx, "c", t0, tc.choose); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
		if got, _, _ := s.Trial(ctx, "c", 4); got.Status != Paused {
			t.Errorf("%s: trial 4 is %s", tc.name, got.Status)
		}
	}
	var given []int
	pruned, err := s.Prune(ctx, "c", t0, func(ts []Trial) ([]Pruning, error) {
		var ps []Pruning
		for _, tr := range ts {
			given = append(given, tr.Number)
			if tr.Status == Paused {
				ps = append(ps, Pruning{Number: tr.Number, Decision: decision("end")})
			}
		}
		return ps, nil
	})
	if err != nil || !slices.Equal(pruned, []int{4}) || !slices.Equal(given, []int{1, 2, 3, 4}) {
		t.Fatalf("Prune = %v, %v (given %v)", pruned, err, given)
	}
	if got := decisionsOf(t, s, "c", 4); !slices.Equal(got, []string{`{"why":"start 4"}`, `{"why":"end"}`}) {
		t.Errorf("decisions of trial 4: %q", got)
	}
}

// TestDecisionsBounded: a trial keeps its first decision and its latest,
// MaxDecisions in all.
func TestDecisionsBounded(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, nil); err != nil {
		t.Fatal(err)
	}
	o := owner("a")
	if _, _, err := s.ClaimNext(ctx, "g", o, t0, never, plan(Plan{Action: PlanStart, Trial: adaptiveTrial("k", 1), Decision: decision("0")})); err != nil {
		t.Fatal(err)
	}
	const promotions = MaxDecisions + 5
	for r := 1; r <= promotions; r++ {
		if err := s.Pause(ctx, "g", 1, o, t0, Checkpoint{}, nil, Eval{Resource: r, Value: 0.5}, Metrics{}, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ClaimNext(ctx, "g", o, t0, never, plan(Plan{Action: PlanPromote, Number: 1, Target: r + 1, Decision: decision("%d", r)})); err != nil {
			t.Fatal(err)
		}
	}
	got := decisionsOf(t, s, "g", 1)
	if len(got) != MaxDecisions || got[0] != `{"why":"0"}` || got[1] != `{"why":"7"}` || got[len(got)-1] != `{"why":"69"}` {
		t.Errorf("%d decisions: %s, %s, ..., %s", len(got), got[0], got[1], got[len(got)-1])
	}
}

// TestOldRecords: records and files written before adaptive search
// existed read as before (zero adaptive state), a file of schema version 1
// stays at 1 through every write but Pause, which raises it to 2.
func TestOldRecords(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 3, 3)
	const oldTrial = `{"trial":1,"key":"lr=0.001","params":{"learning_rate":0.001,"hidden":[50]},"config":{"train":{"iterations":1000}},"seed":0,` +
		`"status":"pending","attempts":0,"val_acc":0,"val_loss":0,"train_acc":0,"final_val_acc":0,"iterations":0,"epochs":0,` +
		`"created":"2026-11-26T12:00:00Z","duration_s":0,"epoch":0,"iteration":0}`
	const oldSweep = `{"name":"g","spec_path":"","metric":"val_acc","keep":3,"created":"2026-11-26T12:00:00Z"}`
	mutate(t, s.Path(), func(tx *bolt.Tx) error {
		st := in(tx, "g")
		tr, err := st.trial(1)
		if err != nil {
			return err
		}
		for _, err := range []error{
			tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(1)),
			st.keys.Delete([]byte(tr.Key)), st.keys.Put([]byte("lr=0.001"), itob(1)),
			st.trials.Put(itob(1), []byte(oldTrial)),
			st.b.Put(keySweep, []byte(oldSweep)),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	schema := func() uint64 {
		db, err := bolt.Open(s.Path(), 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v uint64
		if err := db.View(func(tx *bolt.Tx) error {
			v, err = decodeSchema(tx.Bucket(bucketMeta).Get(keySchema))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check of a version 1 file: %v", err)
	}
	tr, _, err := s.Trial(ctx, "g", 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Key != "lr=0.001" || tr.Target != 0 || tr.Rung != 0 || tr.Bracket != 0 || tr.Evals != nil || tr.Promoted || tr.Decisions != nil {
		t.Errorf("old trial record = %+v", tr)
	}
	if sw, err := s.Sweep(ctx, "g"); err != nil || sw.Elapsed != 0 || !sw.ElapsedAt.IsZero() {
		t.Errorf("old sweep record = %+v, %v", sw, err)
	}
	// A grid run, and adaptive writes but Pause, leave the version at 1.
	o := owner("a")
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, grid(4)); err != nil {
		t.Fatal(err)
	}
	if tr, _, err := s.Claim(ctx, "g", o, t0, nil); err != nil || tr.Number != 1 {
		t.Fatalf("claim: %+v, %v", tr, err)
	}
	if err := s.Finish(ctx, "g", 1, o, t0, Outcome{Status: Done}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "h"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimNext(ctx, "h", o, t0, never, plan(Plan{Action: PlanStart, Trial: adaptiveTrial("k", 1), Decision: decision("start")})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddElapsed(ctx, "h", time.Second); err != nil {
		t.Fatal(err)
	}
	if v := schema(); v != 1 {
		t.Errorf("schema version %d after writes without a pause, want 1", v)
	}
	if err := s.Pause(ctx, "h", 1, o, t0, Checkpoint{}, nil, Eval{Resource: 1}, Metrics{}, 0); err != nil {
		t.Fatal(err)
	}
	if v := schema(); v != 2 {
		t.Errorf("schema version %d after a pause, want 2", v)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// TestEvalJSON: evaluations round-trip through JSON, NaN and infinities
// included, and are omitted from a record without them.
func TestEvalJSON(t *testing.T) {
	tr := Trial{Number: 3, Status: Paused, Rung: 3, Target: 9, Bracket: 1, Promoted: true,
		Evals: []Eval{{Resource: 1, Value: 0.5}, {Resource: 3, Value: math.NaN()}, {Resource: 9, Value: math.Inf(-1)}}}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"evals":[{"resource":1,"value":0.5},{"resource":3,"value":"NaN"},{"resource":9,"value":"-Inf"}]`)) ||
		!bytes.Contains(b, []byte(`"target":9,"rung":3,"bracket":1`)) || !bytes.Contains(b, []byte(`"promoted":true`)) {
		t.Errorf("marshalled %s", b)
	}
	back, err := decodeTrial("g", 3, b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Rung != 3 || back.Target != 9 || back.Bracket != 1 || !back.Promoted || len(back.Evals) != 3 ||
		back.Evals[0] != (Eval{Resource: 1, Value: 0.5}) || !math.IsNaN(back.Evals[1].Value) || !math.IsInf(back.Evals[2].Value, -1) {
		t.Errorf("round trip: %+v", back)
	}
	var e Eval
	if err := json.Unmarshal([]byte(` { "value" : 1e-1 , "resource" : 7 } `), &e); err != nil || e != (Eval{Resource: 7, Value: 0.1}) {
		t.Errorf("an evaluation in another form: %+v, %v", e, err)
	}
	if err := json.Unmarshal([]byte(`{"resource":"7","value":0.1}`), &e); err == nil {
		t.Errorf("an evaluation with a string resource decoded: %+v", e)
	}
	b, _ = json.Marshal(Trial{Number: 1, Status: Pending})
	for _, key := range []string{"target", "rung", "bracket", "evals", "promoted", "decisions"} {
		if bytes.Contains(b, []byte(`"`+key+`"`)) {
			t.Errorf("a grid trial's record has %q: %s", key, b)
		}
	}
}

// TestElapsed: AddElapsed sums across calls and runs (EnsureSweep keeps
// it); TickElapsed counts wall-clock time once however many processes
// tick, and not the time between runs.
func TestElapsed(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 1, 3)
	if total, err := s.AddElapsed(ctx, "g", 4*time.Minute); err != nil || total != 4*time.Minute {
		t.Fatalf("AddElapsed = %v, %v", total, err)
	}
	mustSweep(t, s, "g", 2, 3) // a resumed run
	if total, err := s.AddElapsed(ctx, "g", 90*time.Second); err != nil || total != 5*time.Minute+30*time.Second {
		t.Fatalf("AddElapsed after a resume = %v, %v", total, err)
	}
	if _, err := s.AddElapsed(ctx, "g", -time.Second); err == nil {
		t.Errorf("AddElapsed of a negative duration succeeded")
	}
	if _, err := s.AddElapsed(ctx, "nope", time.Second); !errors.Is(err, ErrNoSweep) {
		t.Errorf("AddElapsed of an unknown sweep: %v", err)
	}

	mustSweep(t, s, "h", 1, 3)
	const gap = 30 * time.Second
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	// Two processes, A from 0 s to 60 s and B from 20 s to 100 s, tick
	// every 10 s (interleaved); then nobody runs the sweep until 1000 s,
	// when A runs it again for 20 s; a host whose clock is late ticks too.
	type tick struct {
		who string
		sec int
	}
	var ticks []tick
	for sec := 0; sec <= 100; sec += 5 {
		if sec%10 == 0 && sec <= 60 {
			ticks = append(ticks, tick{"A", sec})
		}
		if sec%10 == 5 && sec >= 20 {
			ticks = append(ticks, tick{"B", sec})
		}
	}
	ticks = append(ticks, tick{"A", 1000}, tick{"A", 1010}, tick{"late", 990}, tick{"A", 1020})
	var total time.Duration
	for _, tk := range ticks {
		var err error
		if total, err = s.TickElapsed(ctx, "h", at(tk.sec), gap); err != nil {
			t.Fatal(err)
		}
	}
	// 0..95 s (B's last tick) and 1000..1020 s.
	if want := 95*time.Second + 20*time.Second; total != want {
		t.Errorf("TickElapsed total %v, want %v", total, want)
	}
	sw, err := s.Sweep(ctx, "h")
	if err != nil || !sw.ElapsedAt.Equal(at(1020)) || seconds(sw.Elapsed) != total {
		t.Errorf("sweep h = %+v, %v", sw, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}
