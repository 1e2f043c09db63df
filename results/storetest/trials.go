package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// testLifecycle: a trial claimed, checkpointed, heartbeaten, released,
// reclaimed with its checkpoint, and finished.
func testLifecycle(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	ctx := fx.ctx
	fx.grid("grid1", 3, 3)
	a, b := owner("a"), owner("b")

	tr, ck := fx.claimN("grid1", 1, a, never)
	if tr.Status != results.Running || tr.Attempts != 1 || tr.Started.IsZero() || ck != nil || tr.Decisions != nil ||
		tr.Lease == nil || !sameOwner(tr.Lease.Owner, a) || tr.Lease.Claimed.IsZero() || !tr.Lease.Heartbeat.Equal(tr.Lease.Claimed) {
		t.Fatalf("claim = %+v (lease %+v), checkpoint %v", tr, tr.Lease, ck)
	}
	started := tr.Started
	got, _ := fx.trial("grid1", 1)
	checkDiff(t, "the claimed trial as read", tr, got)

	ck1 := results.Checkpoint{Epoch: 1, Iteration: 295, Data: []byte("snapshot 1")}
	fx.must(fx.s.SaveCheckpoint(ctx, "grid1", 1, a, now(), ck1, history(1)))
	got, hist := fx.trial("grid1", 1)
	if got.Epoch != 1 || got.Iteration != 295 || !got.Lease.Heartbeat.After(got.Lease.Claimed) {
		t.Errorf("after a checkpoint: epoch %v iteration %d, lease %+v; want 1, 295 and a newer heartbeat", got.Epoch, got.Iteration, got.Lease)
	}
	checkDiff(t, "the history of a checkpoint", history(1), hist)
	fx.must(fx.s.Heartbeat(ctx, "grid1", []int{1}, a, now()))

	// Ctrl-C: released with a newer checkpoint.
	ck2 := results.Checkpoint{Epoch: 2, Iteration: 590, Data: []byte("snapshot 2")}
	fx.must(fx.s.Release(ctx, "grid1", 1, a, now(), &ck2, history(2), 2.5))
	got, hist = fx.trial("grid1", 1)
	if got.Status != results.Interrupted || got.Lease != nil || got.Duration != 2.5 || got.Epoch != 2 || got.Iteration != 590 || got.Attempts != 1 {
		t.Errorf("released trial = %+v", got)
	}
	checkDiff(t, "the history of a released trial", history(2), hist)

	// Reclaimed by b with the checkpoint: Attempts 2, Started kept.
	tr, ck = fx.claimN("grid1", 1, b, never)
	if tr.Attempts != 2 || !tr.Started.Equal(started) || tr.Status != results.Running || !sameOwner(tr.Lease.Owner, b) {
		t.Errorf("reclaim = %+v (lease %+v), want attempt 2, started %v, b's", tr, tr.Lease, started)
	}
	checkDiff(t, "the checkpoint of a reclaim", &ck2, ck)

	// Released again without a checkpoint or history: both kept.
	fx.must(fx.s.Release(ctx, "grid1", 1, b, now(), nil, nil, 0.5))
	tr, ck = fx.claimN("grid1", 1, b, never)
	checkDiff(t, "the checkpoint kept by a release without one", &ck2, ck)
	if _, hist := fx.trial("grid1", 1); len(hist) != 2 {
		t.Errorf("a release without a history left %d epochs, want 2", len(hist))
	}
	if tr.Attempts != 3 {
		t.Errorf("third claim: attempt %d", tr.Attempts)
	}

	// Finished: metrics, history, duration over attempts, lease and
	// checkpoint gone, weights kept.
	m := results.Metrics{ValAcc: 0.51, ValLoss: 1.4, TrainAcc: 0.55, FinalValAcc: 0.5, Iterations: 1180, Epochs: 4, BestEpoch: 3.5, EarlyStopped: true}
	fx.finish("grid1", 1, b, results.Outcome{Status: results.Done, Metrics: m, History: history(4), Model: model(1), Duration: 3})
	got, hist = fx.trial("grid1", 1)
	if got.Status != results.Done || got.Metrics != m || got.Duration != 6 || got.Lease != nil || got.Finished.IsZero() ||
		got.Finished.Before(got.Started) || !got.Started.Equal(started) || got.Attempts != 3 {
		t.Errorf("finished trial = %+v", got)
	}
	checkDiff(t, "the history of a finished trial", history(4), hist)
	if d := fx.dump("grid1"); d.Trials[0].Checkpoint != nil {
		t.Errorf("a finished trial kept its checkpoint")
	}
	mod, err := fx.s.Model(ctx, "grid1", 1)
	fx.must(err)
	checkDiff(t, "the kept weights", model(1), mod)

	// Finished for good: no second finish, no claim.
	wantErr(t, "a second Finish", fx.s.Finish(ctx, "grid1", 1, b, now(), results.Outcome{Status: results.Done}), results.ErrLeaseLost, "grid1")
	fx.claimN("grid1", 2, a, never)
	err = fx.s.Finish(ctx, "grid1", 2, a, now(), results.Outcome{Status: results.Interrupted})
	wantErr(t, "Finish with status interrupted", err, nil, "grid1")
	if got, _ := fx.trial("grid1", 2); got.Status != results.Running {
		t.Errorf("Finish with status interrupted left trial 2 %s", got.Status)
	}
	fx.claimN("grid1", 3, b, never)
	fx.finish("grid1", 2, a, results.Outcome{Status: results.Failed, Error: "boom", Duration: 1})
	fx.finish("grid1", 3, b, results.Outcome{Status: results.Pruned, Metrics: results.Metrics{ValAcc: 0.2}, Duration: 1})
	_, _, err = fx.s.Claim(ctx, "grid1", a, now(), always)
	wantErr(t, "Claim of a finished sweep", err, results.ErrNoWork, "grid1")
	if errors.Is(err, results.ErrWait) {
		t.Errorf("Claim of a finished sweep: %v is ErrWait", err)
	}
}

// testClaim: ErrNoWork when nothing is claimable; with one claimer,
// pending and interrupted trials lowest number first; stale running trials
// claimable, paused and finished ones not.
func testClaim(t *testing.T, f Factory) {
	t.Run("NoWork", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.ensure(results.Sweep{Name: "empty1"}, nil)
		_, _, err := fx.s.Claim(fx.ctx, "empty1", owner("a"), now(), always)
		wantErr(t, "Claim in a sweep without trials", err, results.ErrNoWork, "empty1")
		if errors.Is(err, results.ErrWait) {
			t.Errorf("Claim: %v is ErrWait", err)
		}
		fx.grid("grid1", 1, 3)
		fx.claimN("grid1", 1, owner("a"), never)
		for name, stale := range map[string]func(results.Lease) bool{"nil": nil, "never": never, "another owner's": staleOf("b")} {
			_, _, err := fx.s.Claim(fx.ctx, "grid1", owner("b"), now(), stale)
			wantErr(t, "Claim of a running trial with a "+name+" stale function", err, results.ErrNoWork, "grid1")
		}
	})

	t.Run("Order", func(t *testing.T) {
		fx := newFixture(t, f)
		a, b := owner("a"), owner("b")
		// Trials 1..4 claimed by a in order; 1 and 2 released: with a's
		// leases stale, b takes 1 and 2 (interrupted), then 3 and 4.
		fx.grid("grid1", 4, 3)
		for n := 1; n <= 4; n++ {
			fx.claimN("grid1", n, a, never)
		}
		for n := 1; n <= 2; n++ {
			fx.must(fx.s.Release(fx.ctx, "grid1", n, a, now(), nil, nil, 0))
		}
		for n := 1; n <= 4; n++ {
			tr, _ := fx.claimN("grid1", n, b, staleOf("a"))
			if tr.Attempts != 2 || !sameOwner(tr.Lease.Owner, b) {
				t.Errorf("claim of trial %d: attempt %d, lease %+v", n, tr.Attempts, tr.Lease)
			}
		}
		_, _, err := fx.s.Claim(fx.ctx, "grid1", b, now(), staleOf("a"))
		wantErr(t, "Claim with b's trials only", err, results.ErrNoWork, "grid1")

		// Stale trials numbered below pending ones: each trial is claimed
		// once, pending and interrupted ones in order (the stores differ
		// on where the stale ones come).
		fx.grid("grid2", 6, 3)
		for n := 1; n <= 4; n++ {
			fx.claimN("grid2", n, a, never)
		}
		fx.finish("grid2", 1, a, results.Outcome{Status: results.Done})
		fx.must(fx.s.Release(fx.ctx, "grid2", 3, a, now(), nil, nil, 0))
		var order, fresh []int
		for {
			tr, _, err := fx.s.Claim(fx.ctx, "grid2", b, now(), staleOf("a"))
			if errors.Is(err, results.ErrNoWork) {
				break
			}
			fx.must(err)
			order = append(order, tr.Number)
			if tr.Number != 2 && tr.Number != 4 {
				fresh = append(fresh, tr.Number)
			}
			if len(order) > 5 {
				break
			}
		}
		sorted := slices.Sorted(slices.Values(order))
		if !slices.Equal(sorted, []int{2, 3, 4, 5, 6}) || !slices.Equal(fresh, []int{3, 5, 6}) {
			t.Errorf("claims in order %v: want trials 2..6 once each, 3, 5 and 6 in that order", order)
		}
	})

	t.Run("Paused", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.ensure(results.Sweep{Name: "adapt1"}, nil)
		a := owner("a")
		fx.start("adapt1", a, "k1", 1, nil)
		fx.pause("adapt1", a, 1, 1, 0.5)
		_, _, err := fx.s.Claim(fx.ctx, "adapt1", owner("b"), now(), always)
		wantErr(t, "Claim with only a paused trial", err, results.ErrNoWork, "adapt1")
		if got, _ := fx.trial("adapt1", 1); got.Status != results.Paused || got.Attempts != 1 {
			t.Errorf("the paused trial is %s, attempt %d", got.Status, got.Attempts)
		}
	})
}

// write is one write of a trial's attempt, by owner o.
type write struct {
	name string
	do   func(fx *fixture, sweep string, n int, o results.Owner) error
}

// writes are every write of a trial's attempt: each refused unless the
// trial is running under o's lease (in o's attempt).
var writes = []write{
	{"SaveCheckpoint", func(fx *fixture, sweep string, n int, o results.Owner) error {
		return fx.s.SaveCheckpoint(fx.ctx, sweep, n, o, now(), results.Checkpoint{Epoch: 9, Data: []byte("late")}, history(9))
	}},
	{"Heartbeat", func(fx *fixture, sweep string, n int, o results.Owner) error {
		return fx.s.Heartbeat(fx.ctx, sweep, []int{n}, o, now())
	}},
	{"Pause", func(fx *fixture, sweep string, n int, o results.Owner) error {
		return fx.s.Pause(fx.ctx, sweep, n, o, now(), results.Checkpoint{Epoch: 9}, history(9), results.Eval{Resource: 99, Value: 0.9}, results.Metrics{ValAcc: 0.9}, 1)
	}},
	{"Finish", func(fx *fixture, sweep string, n int, o results.Owner) error {
		return fx.s.Finish(fx.ctx, sweep, n, o, now(), results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.9}, History: history(9), Model: model(9), Duration: 1})
	}},
	{"Release", func(fx *fixture, sweep string, n int, o results.Owner) error {
		return fx.s.Release(fx.ctx, sweep, n, o, now(), &results.Checkpoint{Epoch: 9}, history(9), 1)
	}},
}

// refused checks that every write of trial n by o is refused with
// ErrLeaseLost (naming the sweep) and changes nothing.
func (fx *fixture) refused(sweep string, n int, o results.Owner, why string) {
	fx.t.Helper()
	before := fx.dump(sweep)
	for _, w := range writes {
		wantErr(fx.t, fmt.Sprintf("%s of trial %d %s", w.name, n, why), w.do(fx, sweep, n, o), results.ErrLeaseLost, sweep)
	}
	fx.unchanged(sweep, before, fmt.Sprintf("writes of trial %d %s", n, why))
}

// testLeases: every write of an attempt is fenced by its lease: refused,
// writing nothing, when another owner holds the trial, when the trial is
// not running, when it was reclaimed as stale, and when the attempt
// presented is not the trial's current one.
func testLeases(t *testing.T, f Factory) {
	t.Run("OtherOwner", func(t *testing.T) {
		fx := newFixture(t, f)
		a := owner("a")
		fx.grid("grid1", 4, 3)
		for n := 1; n <= 3; n++ {
			fx.claimN("grid1", n, a, never)
		}
		fx.must(fx.s.SaveCheckpoint(fx.ctx, "grid1", 1, a, now(), results.Checkpoint{Epoch: 1, Data: []byte("a's")}, history(1)))
		fx.must(fx.s.Pause(fx.ctx, "grid1", 2, a, now(), results.Checkpoint{Epoch: 1}, history(1), results.Eval{Resource: 1, Value: 0.5}, results.Metrics{ValAcc: 0.5}, 1))
		fx.finish("grid1", 3, a, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}})

		fx.refused("grid1", 1, owner("b"), "held by another owner")
		twin := a
		twin.ID = "a-twin" // same host, pid and start; another process ID
		fx.refused("grid1", 1, twin, "held by an owner of another ID")
		fx.refused("grid1", 2, a, "paused")
		fx.refused("grid1", 3, a, "done")
		fx.refused("grid1", 4, a, "pending")

		// The ID is what names the owner.
		moved := owner("a")
		moved.Host, moved.PID, moved.Start = "elsewhere", 7, 9
		fx.must(fx.s.Heartbeat(fx.ctx, "grid1", []int{1}, moved, now()))

		before := fx.dump("grid1")
		for _, w := range writes {
			err := w.do(fx, "grid1", 9, a)
			wantErr(t, w.name+" of trial 9", err, nil, "grid1", "9")
			if !errors.Is(err, results.ErrNoTrial) && !errors.Is(err, results.ErrLeaseLost) {
				t.Errorf("%s of trial 9: %v, want ErrNoTrial or ErrLeaseLost", w.name, err)
			}
		}
		fx.unchanged("grid1", before, "writes of trial 9")
	})

	t.Run("Stale", func(t *testing.T) {
		fx := newFixture(t, f)
		a, b := owner("a"), owner("b")
		fx.grid("grid1", 1, 3)
		fx.claimN("grid1", 1, a, never)
		ck := results.Checkpoint{Epoch: 1, Iteration: 295, Data: []byte("a's checkpoint")}
		fx.must(fx.s.SaveCheckpoint(fx.ctx, "grid1", 1, a, now(), ck, history(1)))
		var given []results.Lease
		tr, got := fx.claimN("grid1", 1, b, func(l results.Lease) bool { given = append(given, l); return true })
		if len(given) != 1 || !sameOwner(given[0].Owner, a) || given[0].Heartbeat.IsZero() || given[0].Claimed.IsZero() {
			t.Errorf("the stale function was given %+v, want a's lease", given)
		}
		if tr.Attempts != 2 || !sameOwner(tr.Lease.Owner, b) || !tr.Lease.Heartbeat.Equal(tr.Lease.Claimed) {
			t.Errorf("reclaim of a stale trial = attempt %d, lease %+v", tr.Attempts, tr.Lease)
		}
		checkDiff(t, "the checkpoint of a stale trial", &ck, got)
		fx.refused("grid1", 1, a, "reclaimed from its stale lease")
		fx.finish("grid1", 1, b, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}})
	})

	t.Run("Attempt", func(t *testing.T) {
		fx := newFixture(t, f)
		a := owner("a")
		fx.grid("grid1", 1, 3)
		tr, _ := fx.claimN("grid1", 1, a, never)
		first := a
		first.Attempt = tr.Attempts
		fx.must(fx.s.Heartbeat(fx.ctx, "grid1", []int{1}, first, now())) // its attempt, its lease
		// a is presumed dead and its trial reclaimed, by a itself.
		tr, _ = fx.claimN("grid1", 1, a, always)
		if tr.Attempts != 2 {
			t.Fatalf("reclaim: attempt %d, want 2", tr.Attempts)
		}
		fx.refused("grid1", 1, first, "by its previous attempt")
		for _, attempt := range []int{3, -1} {
			other := a
			other.Attempt = attempt
			fx.refused("grid1", 1, other, fmt.Sprintf("by attempt %d", attempt))
		}
		current := a
		current.Attempt = 2
		fx.must(fx.s.SaveCheckpoint(fx.ctx, "grid1", 1, current, now(), results.Checkpoint{Epoch: 2}, history(2)))
		fx.must(fx.s.Heartbeat(fx.ctx, "grid1", []int{1}, a, now())) // Attempt 0: no fencing token
		fx.must(fx.s.Finish(fx.ctx, "grid1", 1, current, now(), results.Outcome{Status: results.Done}))
		if got, _ := fx.trial("grid1", 1); got.Status != results.Done || got.Attempts != 2 || got.Epoch != 2 {
			t.Errorf("trial 1 = %s, attempt %d, epoch %v; want done, 2, 2", got.Status, got.Attempts, got.Epoch)
		}
	})

	t.Run("Heartbeat", func(t *testing.T) {
		fx := newFixture(t, f)
		a, b := owner("a"), owner("b")
		fx.grid("grid1", 5, 3)
		fx.claimN("grid1", 1, a, never)
		fx.claimN("grid1", 2, a, never)
		fx.claimN("grid1", 3, b, never)
		fx.claimN("grid1", 4, a, never)
		fx.finish("grid1", 4, a, results.Outcome{Status: results.Done})
		err := fx.s.Heartbeat(fx.ctx, "grid1", []int{1, 2, 3, 4, 5, 14}, a, now())
		wantErr(t, "Heartbeat of trials held and lost", err, results.ErrLeaseLost, "grid1", words(3, 4, 5, 14)...)
		for _, tr := range fx.trials("grid1")[:3] {
			refreshed := tr.Lease.Heartbeat.After(tr.Lease.Claimed)
			if want := tr.Number != 3; refreshed != want {
				t.Errorf("trial %d: lease %+v: refreshed %v, want %v", tr.Number, tr.Lease, refreshed, want)
			}
		}
		fx.must(fx.s.Heartbeat(fx.ctx, "grid1", []int{1, 2}, a, now()))
		fx.must(fx.s.Heartbeat(fx.ctx, "grid1", nil, a, now()))
	})
}

// testKeptModels: as trials finish, in whatever order, exactly the best
// Keep done trials by results.Less have their weights; Model refuses the
// others with ErrNotFound listing the kept ones.
func testKeptModels(t *testing.T, f Factory) {
	// Trial i+1 finishes with val_acc accs[i] (val_loss 2 - acc); 5 fails
	// with the best accuracy and 7 diverges (neither is ever kept); 8 is
	// done with a NaN accuracy (ranked last).
	accs := []float64{0.3, 0.5, 0.5, 0.1, 0.99, 0.6, 0.95, math.NaN(), 0.7, 0.4}
	outcome := func(n int) results.Outcome {
		acc := accs[n-1]
		o := results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: acc, ValLoss: 2 - acc}, Model: model(n)}
		switch n {
		case 3:
			o.Metrics.ValLoss = 1.4 // ties trial 2 on val_acc, better on val_loss
		case 5:
			o.Status = results.Failed
		case 7:
			o.Status, o.Metrics.ValLoss = results.Diverged, math.NaN()
		case 8:
			o.Metrics.ValLoss = math.NaN()
		}
		return o
	}
	for _, tc := range []struct {
		metric string
		keep   int // 0: DefaultKeep
		order  []int
	}{
		{"val_acc", 2, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"val_acc", 2, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"val_loss", 2, []int{6, 2, 9, 3, 1, 10, 5, 8, 4, 7}},
		{"val_acc", 1, []int{3, 2, 8, 9, 1, 6, 4, 10, 7, 5}},
		{"val_acc", 0, []int{8, 4, 1, 2, 3, 10, 6, 7, 5, 9}},
	} {
		t.Run(fmt.Sprintf("%s/keep=%d/first=%d", tc.metric, tc.keep, tc.order[0]), func(t *testing.T) {
			fx := newFixture(t, f)
			fx.ensure(results.Sweep{Name: "grid1", Metric: tc.metric, Keep: tc.keep}, grid(len(accs)))
			keep := cmp0(tc.keep, results.DefaultKeep)
			o := owner("a")
			for n := 1; n <= len(accs); n++ {
				fx.claimN("grid1", n, o, never)
			}
			for _, n := range tc.order {
				fx.finish("grid1", n, o, outcome(n))
				ts := fx.trials("grid1")
				results.Rank(ts, tc.metric != "val_loss")
				var want, have []int
				for _, tr := range ts {
					if tr.Status == results.Done && len(want) < keep {
						want = append(want, tr.Number)
					}
				}
				for _, tr := range ts {
					m, err := fx.s.Model(fx.ctx, "grid1", tr.Number)
					switch {
					case err == nil:
						have = append(have, tr.Number)
						checkDiff(t, fmt.Sprintf("weights of trial %d", tr.Number), model(tr.Number), m)
					case !slices.Contains(want, tr.Number):
						// Checked once want is known to be kept: below.
					default:
						t.Errorf("Model(%d) after trial %d finished: %v", tr.Number, n, err)
					}
				}
				slices.Sort(want)
				slices.Sort(have)
				if !slices.Equal(have, want) {
					t.Fatalf("after trial %d finished: weights of %v, want %v", n, have, want)
				}
			}
			// Every trial is done now; the others' weights are refused.
			for n := 1; n <= len(accs); n++ {
				if _, err := fx.s.Model(fx.ctx, "grid1", n); err != nil {
					ts := fx.trials("grid1")
					results.Rank(ts, tc.metric != "val_loss")
					var kept []int
					for _, tr := range ts[:keep] {
						kept = append(kept, tr.Number)
					}
					wantErr(t, fmt.Sprintf("Model(%d)", n), err, results.ErrNotFound, "grid1", words(kept...)...)
					break
				}
			}
			for _, n := range []int{0, 11, -1} {
				_, err := fx.s.Model(fx.ctx, "grid1", n)
				wantErr(t, fmt.Sprintf("Model(%d)", n), err, results.ErrNoTrial, "grid1")
			}
		})
	}
}

// cmp0 returns v, or def if v is 0.
func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// testRoundTrip: what a trial holds comes back as it went in: params in
// order with their value types, config, full-range seeds, NaN and
// infinite metrics and histories, evaluations, weights bit for bit.
func testRoundTrip(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	ctx := fx.ctx
	params := results.Params{
		{Name: "weight_scale", Value: 1e-5},
		{Name: "lr", Value: 0.001},
		{Name: "activation", Value: "leaky_relu"},
		{Name: "hidden", Value: []any{512.0, 256.0, 10.0}},
		{Name: "nesterov", Value: true},
		{Name: "dropout", Value: false},
		{Name: "b", Value: -1.5e300},
		{Name: "zeta", Value: 50.0},
		{Name: "note", Value: "ünïcode \"quoted\" \\ and\nnewline"},
		{Name: "empty", Value: []any{}},
		{Name: "aa", Value: 0.1},
	}
	config := []byte(`{"train": {"optimizer": "sgd", "iterations": 1000, "lr_schedule": [0.1, 0.01]}, "model": {"hidden": [512, 256]}}`)
	in := []results.Trial{
		{Key: "weight_scale=1e-5,lr=0.001,…", Params: params, Config: config, Seed: math.MaxUint64},
		{Key: "seed-0", Params: results.Params{}, Seed: 0},
		{Key: "seed-2^63", Params: results.Params{{Name: "x", Value: 1.0}}, Seed: 1 << 63},
	}
	fx.ensure(results.Sweep{Name: "values1", Spec: []byte("name = \"values1\"\n# ünïcode \x00 bytes\n")}, in)
	for i, tr := range fx.trials("values1") {
		want := results.Trial{Number: i + 1, Key: in[i].Key, Params: in[i].Params, Config: in[i].Config, Seed: in[i].Seed, Status: results.Pending, Created: tr.Created}
		checkDiff(t, fmt.Sprintf("trial %d", i+1), &want, &tr)
		for j, p := range in[i].Params {
			if j >= len(tr.Params) || tr.Params[j].Name != p.Name || fmt.Sprintf("%T", tr.Params[j].Value) != fmt.Sprintf("%T", p.Value) {
				t.Errorf("trial %d param %d: %+v, want %+v (order and type kept)", i+1, j, tr.Params, p)
				break
			}
		}
	}
	if sw := fx.sweep("values1"); string(sw.Spec) != "name = \"values1\"\n# ünïcode \x00 bytes\n" {
		t.Errorf("spec %q", sw.Spec)
	}

	// A trial diverges: NaN and infinite metrics and history rows.
	o := owner("a")
	fx.claimN("values1", 1, o, never)
	fx.must(fx.s.SaveCheckpoint(ctx, "values1", 1, o, now(), results.Checkpoint{Epoch: 1.5, Iteration: 442, Data: []byte{0, 1, 2, 0xff}}, divergedHistory()))
	_, hist := fx.trial("values1", 1)
	checkDiff(t, "a diverging history", divergedHistory(), hist)
	fx.finish("values1", 1, o, results.Outcome{Status: results.Diverged, Metrics: divergedMetrics, Duration: 1})
	got, hist := fx.trial("values1", 1)
	if got.Status != results.Diverged {
		t.Errorf("trial 1 is %s", got.Status)
	}
	checkDiff(t, "the metrics of a diverged trial", divergedMetrics, got.Metrics)
	checkDiff(t, "a history kept by a Finish without one", divergedHistory(), hist)
	if !math.IsNaN(got.ValLoss) || !math.IsInf(got.TrainAcc, -1) || !math.IsInf(got.FinalValAcc, 1) {
		t.Errorf("metrics %+v, want NaN val_loss, -Inf train_acc, +Inf final_val_acc", got.Metrics)
	}
	if ts := fx.trials("values1"); !math.IsNaN(ts[0].ValLoss) {
		t.Errorf("Trials: val_loss %v, want NaN", ts[0].ValLoss)
	}

	// Weights bit for bit; evaluations with NaN and infinities.
	fx.claimN("values1", 2, o, never)
	fx.claimN("values1", 3, o, never) // so that ClaimNext has nothing to claim but what it is told to
	fx.must(fx.s.Pause(ctx, "values1", 2, o, now(), results.Checkpoint{}, nil, results.Eval{Resource: 1, Value: math.NaN()}, results.Metrics{ValAcc: math.NaN()}, 0))
	fx.promote("values1", o, 2, 3, nil)
	fx.must(fx.s.Pause(ctx, "values1", 2, o, now(), results.Checkpoint{}, nil, results.Eval{Resource: 3, Value: math.Inf(-1)}, results.Metrics{}, 0))
	fx.promote("values1", o, 2, 9, nil)
	fx.finish("values1", 2, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5, ValLoss: math.Inf(1)}, Model: model(2),
		Eval: &results.Eval{Resource: 9, Value: 0.5}})
	got, _ = fx.trial("values1", 2)
	checkDiff(t, "evaluations", []results.Eval{{Resource: 1, Value: math.NaN()}, {Resource: 3, Value: math.Inf(-1)}, {Resource: 9, Value: 0.5}}, got.Evals)
	m, err := fx.s.Model(ctx, "values1", 2)
	fx.must(err)
	checkDiff(t, "weights", model(2), m)
}

// testQuery: Trials selects by status, without decisions; Running lists
// the running trials with their leases; Trial gives one with its
// decisions and history.
func testQuery(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.buildMixed("mixed")
	all := fx.trials("mixed")
	if len(all) != mixedTrials {
		t.Fatalf("%d trials, want %d", len(all), mixedTrials)
	}
	for i, tr := range all {
		if tr.Number != i+1 || tr.Decisions != nil {
			t.Errorf("Trials()[%d]: trial %d with %d decisions", i, tr.Number, len(tr.Decisions))
		}
	}
	for _, tc := range []struct {
		statuses []results.Status
		want     []int
	}{
		{nil, seq(1, mixedTrials)},
		{[]results.Status{results.Running}, []int{mixedRunning}},
		{[]results.Status{results.Failed, results.Diverged}, []int{mixedDiverged, mixedFailed}},
		{[]results.Status{results.Paused, results.Pruned, results.Pending}, []int{mixedPruned, mixedPaused, mixedPending}},
		{[]results.Status{results.Interrupted, results.Done}, []int{mixedDone, mixedInterrupted}},
	} {
		ts, err := fx.s.Trials(fx.ctx, "mixed", results.Filter{Status: tc.statuses})
		fx.must(err)
		var got []int
		for _, tr := range ts {
			got = append(got, tr.Number)
			checkDiff(t, fmt.Sprintf("Trials(%v): trial %d", tc.statuses, tr.Number), &all[tr.Number-1], &tr)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Trials(%v) = %v, want %v", tc.statuses, got, tc.want)
		}
	}

	// Running: the leases, the trials as listed.
	fx.claimN("mixed", mixedInterrupted, owner("b"), never)
	running, err := fx.s.Running(fx.ctx, "mixed")
	fx.must(err)
	if len(running) != 2 || running[0].Number != mixedRunning || running[1].Number != mixedInterrupted {
		t.Fatalf("Running = %+v, want trials %d and %d", running, mixedRunning, mixedInterrupted)
	}
	for i, o := range []results.Owner{mixedOwner, owner("b")} {
		tr := running[i]
		if tr.Lease == nil || !sameOwner(tr.Lease.Owner, o) || tr.Decisions != nil {
			t.Errorf("running trial %d: lease %+v, decisions %d; want %s's", tr.Number, tr.Lease, len(tr.Decisions), o.ID)
		}
	}
	checkDiff(t, "Running()[0]", &all[mixedRunning-1], &running[0])

	// Trial: decisions and history.
	for _, tc := range []struct {
		n         int
		decisions []string
		epochs    int
	}{
		{mixedRunning, []string{"start 1", "promote 1"}, 2},
		{mixedDone, []string{"start 2", "promote 2"}, 3},
		{mixedPruned, []string{"start 3", "prune 3"}, 1},
		{mixedPaused, []string{"start 4"}, 1},
		{mixedDiverged, nil, 3},
		{mixedPending, nil, 0},
	} {
		tr, hist := fx.trial("mixed", tc.n)
		checkDiff(t, fmt.Sprintf("decisions of trial %d", tc.n), decisionsJSON(tc.decisions...), tr.Decisions)
		if len(hist) != tc.epochs || (tc.epochs == 0 && hist != nil) {
			t.Errorf("trial %d: %d epochs (nil %v), want %d", tc.n, len(hist), hist == nil, tc.epochs)
		}
		tr.Decisions = nil
		checkDiff(t, fmt.Sprintf("Trial(%d)", tc.n), &all[tc.n-1], tr)
	}
	for _, n := range []int{0, mixedTrials + 1} {
		_, _, err := fx.s.Trial(fx.ctx, "mixed", n)
		wantErr(t, fmt.Sprintf("Trial(%d)", n), err, results.ErrNoTrial, "mixed", fmt.Sprint(mixedTrials))
	}
}
