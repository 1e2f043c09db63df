package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// testEnsureSweep: EnsureSweep creates a sweep with its trials, extends it
// with the new keys only, replaces what it documents and keeps the rest,
// refuses bad sweeps writing nothing, and never duplicates a key when
// called concurrently.
func testEnsureSweep(t *testing.T, f Factory) {
	t.Run("Create", func(t *testing.T) {
		fx := newFixture(t, f)
		if _, err := fx.s.Sweep(fx.ctx, "g"); !errors.Is(err, results.ErrNoSweep) {
			t.Errorf("Sweep of an empty database: %v, want ErrNoSweep", err)
		}
		if sums, err := fx.s.Sweeps(fx.ctx, now(), time.Minute); err != nil || len(sums) != 0 {
			t.Errorf("Sweeps of an empty database = %+v, %v", sums, err)
		}
		given := grid(4)
		// Every field but Key, Params, Config and Seed is reset.
		given[1].Number, given[1].Status, given[1].Attempts, given[1].Metrics = 42, results.Done, 7, results.Metrics{ValAcc: 0.9}
		given[1].Lease = &results.Lease{Owner: owner("x")}
		given[1].Target, given[1].Rung, given[1].Evals, given[1].Decisions = 9, 1, []results.Eval{{Resource: 1, Value: 0.5}}, nil
		sw := results.Sweep{Name: "g", Spec: spec("g"), SpecPath: "sweeps/g.toml", Canonical: []byte(`{"name":"g"}`),
			Data: &results.DataRef{Path: "/data/a", Fingerprint: "v1:abc"}, Input: testInput()}
		if added := fx.ensure(sw, given); !slices.Equal(added, []int{1, 2, 3, 4}) {
			t.Errorf("added %v, want [1 2 3 4]", added)
		}
		got := fx.sweep("g")
		if got.Created.IsZero() {
			t.Errorf("Created is zero")
		}
		want := sw
		want.Metric, want.Keep, want.Created = "val_acc", results.DefaultKeep, got.Created // "" and 0 mean these
		checkDiff(t, "the new sweep", &want, got)
		for i, tr := range fx.trials("g") {
			if tr.Created.IsZero() {
				t.Errorf("trial %d: Created is zero", tr.Number)
			}
			want := results.Trial{Number: i + 1, Key: given[i].Key, Params: given[i].Params, Config: given[i].Config, Seed: given[i].Seed,
				Status: results.Pending, Created: tr.Created}
			checkDiff(t, fmt.Sprintf("trial %d", i+1), &want, &tr)
		}
	})

	t.Run("Extend", func(t *testing.T) {
		fx := newFixture(t, f)
		ts := grid(6)
		sw := results.Sweep{Name: "g", Spec: spec("g"), SpecPath: "sweeps/g.toml", Canonical: []byte(`{"v":1}`), Metric: "val_acc", Keep: 2,
			Data: &results.DataRef{Path: "/data/a", Fingerprint: "v1:abc"}, Input: testInput()}
		fx.ensure(sw, ts[:4])
		// Give the sweep what EnsureSweep keeps: a best trial, its
		// evaluations, elapsed time and a tick.
		o := owner("a")
		fx.claimN("g", 1, o, never)
		fx.finish("g", 1, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5, ValLoss: 1.5}})
		fx.must(fx.s.SetBest(fx.ctx, "g", results.Best{Trial: 1, ValAcc: 0.5, TestAcc: 0.49, Evaluated: evaluated}))
		_, err := fx.s.AddElapsed(fx.ctx, "g", time.Minute)
		fx.must(err)
		_, err = fx.s.TickElapsed(fx.ctx, "g", now(), time.Hour)
		fx.must(err)
		before := fx.sweep("g")
		trialsBefore := fx.trials("g")

		// Extend: trials 3 and 4 given again, 5 and 6 new (6 twice), in
		// that order; the record replaced but for what is kept, which the
		// new record tries to overwrite.
		next := results.Sweep{Name: "g", Spec: spec("g2"), SpecPath: "elsewhere/g.toml", Canonical: []byte(`{"v":2}`), Metric: "val_loss", Keep: 5,
			Created: evaluated.Add(-time.Hour), Best: &results.Best{Trial: 3}, Evaluations: []results.Best{{Trial: 3}}, Elapsed: 999, ElapsedAt: evaluated}
		added := fx.ensure(next, []results.Trial{ts[5], ts[2], ts[3], ts[4], ts[5]})
		if !slices.Equal(added, []int{5, 6}) {
			t.Errorf("added %v, want [5 6]", added)
		}
		want := next
		want.Created, want.Best, want.Evaluations, want.Elapsed, want.ElapsedAt = before.Created, before.Best, before.Evaluations, before.Elapsed, before.ElapsedAt
		want.Data, want.Input = before.Data, before.Input // given none: kept
		checkDiff(t, "the extended sweep", &want, fx.sweep("g"))
		after := fx.trials("g")
		if len(after) != 6 {
			t.Fatalf("%d trials, want 6", len(after))
		}
		checkDiff(t, "the trials there before", trialsBefore, after[:4])
		for i, k := range []string{ts[5].Key, ts[4].Key} {
			if tr := after[4+i]; tr.Key != k || tr.Status != results.Pending {
				t.Errorf("trial %d = %q %s, want %q pending", tr.Number, tr.Key, tr.Status, k)
			}
		}

		// Data and Input given replace the stored ones; "" and 0 mean
		// val_acc and DefaultKeep.
		moved := &results.DataRef{Path: "/data/b", Fingerprint: "v1:abc"}
		input := &results.Input{Shape: []int{3}, Classes: []string{"a", "b"}, Mean: []float32{1, 2, 3}}
		if added := fx.ensure(results.Sweep{Name: "g", Data: moved, Input: input}, nil); len(added) != 0 {
			t.Errorf("added %v, want none", added)
		}
		got := fx.sweep("g")
		if got.Metric != "val_acc" || got.Keep != results.DefaultKeep {
			t.Errorf("metric %q keep %d, want val_acc and %d", got.Metric, got.Keep, results.DefaultKeep)
		}
		checkDiff(t, "the moved data", moved, got.Data)
		checkDiff(t, "the new input", input, got.Input)
		checkDiff(t, "the evaluations", before.Evaluations, got.Evaluations)
	})

	t.Run("Refused", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.grid("g", 2, 3)
		before := fx.dump("g")
		for _, tc := range []struct {
			name   string
			sw     results.Sweep
			trials []results.Trial
		}{
			{"empty name", results.Sweep{}, nil},
			{"bad metric", results.Sweep{Name: "x", Metric: "accuracy"}, nil},
			{"negative keep", results.Sweep{Name: "x", Keep: -1}, nil},
			{"empty key", results.Sweep{Name: "x"}, []results.Trial{{Key: "a"}, {}}},
			{"bad metric of an existing sweep", results.Sweep{Name: "g", Metric: "accuracy"}, grid(3)},
			{"negative keep of an existing sweep", results.Sweep{Name: "g", Keep: -2}, grid(3)},
			{"empty key in an existing sweep", results.Sweep{Name: "g"}, append(grid(3), results.Trial{})},
		} {
			if added, err := fx.s.EnsureSweep(fx.ctx, tc.sw, tc.trials); err == nil {
				t.Errorf("%s: EnsureSweep succeeded, adding %v", tc.name, added)
			}
		}
		if _, err := fx.s.Sweep(fx.ctx, "x"); !errors.Is(err, results.ErrNoSweep) {
			t.Errorf("a refused sweep was created: %v", err)
		}
		fx.unchanged("g", before, "refused EnsureSweep calls")
	})

	t.Run("Concurrent", func(t *testing.T) {
		fx := newFixture(t, f)
		stores := []results.Store{fx.s, fx.open(t), fx.open(t)}
		ts := grid(30)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			added []int
		)
		for i := range 6 {
			s := stores[i%len(stores)]
			// Each caller gives a different, overlapping subset.
			var mine []results.Trial
			for j, tr := range ts {
				if j%(i%3+1) == 0 || j >= 20 {
					mine = append(mine, tr)
				}
			}
			wg.Go(func() {
				a, err := s.EnsureSweep(fx.ctx, results.Sweep{Name: "g"}, mine)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				added = append(added, a...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(added)
		if want := seq(1, len(ts)); !slices.Equal(added, want) {
			t.Errorf("added %v, want each of 1..%d once", added, len(ts))
		}
		keys := map[string]int{}
		for i, tr := range fx.trials("g") {
			if tr.Number != i+1 {
				t.Errorf("trial %d is numbered %d", i+1, tr.Number)
			}
			if n, dup := keys[tr.Key]; dup {
				t.Errorf("key %q is trials %d and %d", tr.Key, n, tr.Number)
			}
			keys[tr.Key] = tr.Number
		}
		if len(keys) != len(ts) {
			t.Errorf("%d keys, want %d", len(keys), len(ts))
		}
	})
}

// seq returns from..to.
func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// testSweeps: Sweep and Sweeps summarise what is stored; ErrNoSweep lists
// the sweeps.
func testSweeps(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.buildMixed("mixed")
	// beta, by val_loss: its best done trial (3) has the lowest val_acc.
	fx.ensure(results.Sweep{Name: "beta", Metric: "val_loss"}, grid(4))
	o := owner("b")
	for i, m := range []results.Metrics{{ValAcc: 0.5, ValLoss: 1.0}, {ValAcc: 0.6, ValLoss: 1.2}, {ValAcc: 0.4, ValLoss: 0.9}} {
		fx.claimN("beta", i+1, o, never)
		fx.finish("beta", i+1, o, results.Outcome{Status: results.Done, Metrics: m})
	}

	sums, err := fx.s.Sweeps(fx.ctx, now(), time.Hour)
	fx.must(err)
	if len(sums) != 2 || sums[0].Name != "beta" || sums[1].Name != "mixed" {
		t.Fatalf("Sweeps = %+v, want beta and mixed, by name", sums)
	}
	mixedAcc, betaAcc := 0.7, 0.4
	want := []results.Summary{
		{Name: "beta", Total: 4, Done: 3, Pending: 1, BestValAcc: &betaAcc, Created: fx.sweep("beta").Created},
		{Name: "mixed", Total: mixedTrials, Done: 1, Running: 1, Paused: 1, Pending: 1, Failed: 1, Diverged: 1, Pruned: 1, Interrupted: 1,
			BestValAcc: &mixedAcc, Active: true, Created: fx.sweep("mixed").Created},
	}
	checkDiff(t, "Sweeps", want, sums)

	// No running trial, no activity.
	fx.must(fx.s.Release(fx.ctx, "mixed", mixedRunning, mixedOwner, now(), nil, nil, 1))
	sums, err = fx.s.Sweeps(fx.ctx, now(), time.Hour)
	fx.must(err)
	if sums[1].Active || sums[1].Running != 0 || sums[1].Interrupted != 2 {
		t.Errorf("after the release: %+v, want inactive, 0 running and 2 interrupted", sums[1])
	}

	for _, name := range []string{"gamma", ""} {
		_, err := fx.s.Sweep(fx.ctx, name)
		wantErr(t, fmt.Sprintf("Sweep(%q)", name), err, results.ErrNoSweep, name)
		if err != nil && (!strings.Contains(err.Error(), "beta") || !strings.Contains(err.Error(), "mixed")) {
			t.Errorf("Sweep(%q): %q does not list the sweeps beta and mixed", name, err)
		}
	}
}

// testBest: SetBest records each test-set evaluation, Best is the latest,
// and the evaluated trial has its TestAcc.
func testBest(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.grid("g", 4, 3)
	o := owner("a")
	for i := range 3 {
		fx.claimN("g", i+1, o, never)
		fx.finish("g", i+1, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.4 + 0.1*float64(i), ValLoss: 1}})
	}
	if sw := fx.sweep("g"); sw.Best != nil || sw.TestSetUses() != 0 || len(sw.Evaluations) != 0 {
		t.Errorf("a new sweep has Best %+v, evaluations %+v", sw.Best, sw.Evaluations)
	}
	evals := []results.Best{
		{Trial: 2, ValAcc: 0.5, ValLoss: 1, TestAcc: 0.48, TestLoss: 1.4, Evaluated: evaluated},
		{Trial: 3, ValAcc: 0.6, ValLoss: 1, TestAcc: 0.57, TestLoss: 1.2, Evaluated: evaluated.Add(time.Minute)}, // the sweep was extended
		{Trial: 3, ValAcc: 0.6, ValLoss: 1, TestAcc: 0.56, TestLoss: 1.3, Evaluated: evaluated.Add(time.Hour)},   // the caller should not, but did
	}
	for i, b := range evals {
		fx.must(fx.s.SetBest(fx.ctx, "g", b))
		sw := fx.sweep("g")
		if sw.TestSetUses() != i+1 {
			t.Errorf("after %d evaluations: TestSetUses() = %d", i+1, sw.TestSetUses())
		}
		checkDiff(t, fmt.Sprintf("Best after %d evaluations", i+1), &evals[i], sw.Best)
		checkDiff(t, fmt.Sprintf("Evaluations after %d", i+1), evals[:i+1], sw.Evaluations)
		tr, _ := fx.trial("g", b.Trial)
		if tr.TestAcc == nil || *tr.TestAcc != b.TestAcc {
			t.Errorf("trial %d: TestAcc %v, want %v", b.Trial, tr.TestAcc, b.TestAcc)
		}
	}
	if tr, _ := fx.trial("g", 1); tr.TestAcc != nil {
		t.Errorf("trial 1, never evaluated, has TestAcc %v", *tr.TestAcc)
	}
	// Listing gives TestAcc too.
	if ts := fx.trials("g"); ts[2].TestAcc == nil || *ts[2].TestAcc != 0.56 {
		t.Errorf("Trials: trial 3's TestAcc %v, want 0.56", ts[2].TestAcc)
	}
	// Extending the sweep keeps them.
	fx.ensure(results.Sweep{Name: "g"}, grid(5))
	checkDiff(t, "Evaluations after an extension", evals, fx.sweep("g").Evaluations)

	before := fx.dump("g")
	err := fx.s.SetBest(fx.ctx, "g", results.Best{Trial: 9, TestAcc: 0.1})
	wantErr(t, "SetBest of trial 9", err, results.ErrNoTrial, "g", "9")
	fx.unchanged("g", before, "a refused SetBest")
}

// testElapsed: AddElapsed sums (EnsureSweep keeps the sum) and refuses a
// negative duration; TickElapsed adds the time since the last tick when
// that is within gap, and nothing otherwise.
func testElapsed(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.grid("elapsed1", 1, 3)
	add := func(d, want time.Duration) {
		t.Helper()
		total, err := fx.s.AddElapsed(fx.ctx, "elapsed1", d)
		if err != nil || total != want {
			t.Fatalf("AddElapsed(%v) = %v, %v, want %v", d, total, err, want)
		}
	}
	add(4*time.Minute, 4*time.Minute)
	fx.grid("elapsed1", 2, 3) // a resumed run
	add(90*time.Second, 5*time.Minute+30*time.Second)
	add(0, 5*time.Minute+30*time.Second)
	_, err := fx.s.AddElapsed(fx.ctx, "elapsed1", -time.Second)
	if err == nil {
		t.Errorf("AddElapsed of a negative duration succeeded")
	} else if !strings.Contains(err.Error(), "elapsed1") {
		t.Errorf("AddElapsed of a negative duration: %q does not name the sweep", err)
	}
	if sw := fx.sweep("elapsed1"); sw.Elapsed != 330 || !sw.ElapsedAt.IsZero() {
		t.Errorf("Elapsed %v s, ElapsedAt %v, want 330 s and no tick", sw.Elapsed, sw.ElapsedAt)
	}

	tick := func(gap time.Duration) time.Duration {
		t.Helper()
		total, err := fx.s.TickElapsed(fx.ctx, "elapsed1", now(), gap)
		if err != nil {
			t.Fatal(err)
		}
		return total
	}
	// The first tick has nothing to count from.
	if total := tick(time.Hour); total != 330*time.Second {
		t.Errorf("first tick: total %v, want 5m30s", total)
	}
	// The next, within the gap, adds the time since: a little.
	total := tick(time.Hour)
	if d := total - 330*time.Second; d <= 0 || d >= 5*time.Second {
		t.Errorf("a tick right after another added %v, want a little", d)
	}
	// One whose gap is 0 adds nothing: some time has passed since.
	if again := tick(0); again != total {
		t.Errorf("a tick beyond its gap changed the total from %v to %v", total, again)
	}
	sw := fx.sweep("elapsed1")
	if sw.ElapsedAt.IsZero() {
		t.Errorf("ElapsedAt is zero after ticks")
	}
	if d := time.Duration(sw.Elapsed*float64(time.Second)) - total; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("Elapsed %v s, but the ticks returned %v", sw.Elapsed, total)
	}
	fx.grid("elapsed1", 3, 3) // a resumed run keeps both
	if again := fx.sweep("elapsed1"); again.Elapsed != sw.Elapsed || !again.ElapsedAt.Equal(sw.ElapsedAt) {
		t.Errorf("after EnsureSweep: Elapsed %v at %v, want %v at %v", again.Elapsed, again.ElapsedAt, sw.Elapsed, sw.ElapsedAt)
	}
}
