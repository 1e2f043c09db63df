package trial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
)

// testSpec is a 3 x 2 grid on synthetic data; one learning rate diverges.
const testSpec = `
name = "pool-test"
seed = 7

[data]
source = "synthetic"
train = 1000
val = 200
test = 300

[model]
hidden = [50]
weight_scale = 1e-2

[train]
epochs = 4
batch_size = 50

[search]
method = "grid"
keep = 2

[search.params]
learning_rate = [3e-3, 3e-2, 1e6]
reg = [0.0, 0.1]
`

type fixture struct {
	store results.Store
	spec  *search.Spec
	ds    *data.Dataset
}

// newFixture creates the sweep of src in a new database, its trials on
// their own (as fuse = false makes them).
func newFixture(t *testing.T, src string) *fixture {
	t.Helper()
	return makeFixture(t, src, false)
}

// newFusedFixture creates the sweep of src with its trials in groups
// (Groups), as `sweep run` does.
func newFusedFixture(t *testing.T, src string) *fixture {
	t.Helper()
	return makeFixture(t, src, true)
}

func makeFixture(t *testing.T, src string, fused bool) *fixture {
	t.Helper()
	spec, err := search.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "sweep.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := Records(spec)
	if err != nil {
		t.Fatal(err)
	}
	if fused {
		if err := Groups(spec, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	sw := results.Sweep{Name: spec.Name, Spec: []byte(src), SpecPath: "test.toml", Canonical: spec.Canonical(),
		Metric: spec.Search.Metric, Keep: spec.Search.Keep}
	if _, err := st.EnsureSweep(t.Context(), sw, recs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(context.Background()); err != nil {
			t.Errorf("database check: %v", err)
		}
	})
	ds, err := data.Load(t.Context(), data.Options{Source: spec.Data.Source, Train: spec.Data.Train,
		Val: spec.Data.Val, Test: spec.Data.Test, Seed: spec.Data.Seed})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, spec: spec, ds: ds}
}

func (f *fixture) pool(workers int) *Pool {
	return &Pool{Store: f.store, Sweep: f.spec.Name, Data: f.ds, Workers: workers, Owner: Self()}
}

func (f *fixture) trials(t *testing.T) []results.Trial {
	t.Helper()
	ts, err := f.store.Trials(t.Context(), f.spec.Name, results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// outcome is what must not change with workers or interruptions.
type outcome struct {
	Status  results.Status
	Metrics results.Metrics
	History []results.Epoch
}

func (f *fixture) outcomes(t *testing.T) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for _, tr := range f.trials(t) {
		_, hist, err := f.store.Trial(t.Context(), f.spec.Name, tr.Number)
		if err != nil {
			t.Fatal(err)
		}
		out[tr.Key] = outcome{tr.Status, tr.Metrics, hist}
	}
	return out
}

func TestPoolTrainsEveryTrialOnce(t *testing.T) {
	f := newFixture(t, testSpec)
	var mu sync.Mutex
	finished := map[int]int{}
	p := f.pool(3)
	p.Events = func(e Event) {
		if e.Kind == Finished {
			mu.Lock()
			finished[e.Trial.Number]++
			mu.Unlock()
		}
	}
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Trained != 6 || stats.Done != 4 || stats.Diverged != 2 {
		t.Errorf("stats %+v, want 6 trained: 4 done, 2 diverged", stats)
	}
	for _, tr := range f.trials(t) {
		if finished[tr.Number] != 1 || tr.Attempts != 1 {
			t.Errorf("trial %d finished %d times in %d attempts", tr.Number, finished[tr.Number], tr.Attempts)
		}
		lr := tr.Params[0].Value.(float64)
		switch {
		case lr == 1e6 && (tr.Status != results.Diverged || tr.DivergedAt < 1):
			t.Errorf("trial %d (lr 1e6): %s at %d, want diverged", tr.Number, tr.Status, tr.DivergedAt)
		case lr != 1e6 && (tr.Status != results.Done || tr.Iterations != 80 || tr.ValAcc <= 0):
			t.Errorf("trial %d: %s after %d iterations, val_acc %g", tr.Number, tr.Status, tr.Iterations, tr.ValAcc)
		}
	}
	// A second run finds nothing to do.
	stats, err = f.pool(2).Run(t.Context())
	if err != nil || stats.Trained != 0 {
		t.Errorf("second run trained %d trials (err %v), want 0", stats.Trained, err)
	}

	// Selection: the best done trial on val_acc, evaluated on the test set once.
	best, bt, err := SelectBest(t.Context(), f.store, f.spec.Name, f.ds)
	if err != nil {
		t.Fatal(err)
	}
	ranked := f.trials(t)
	results.Rank(ranked, true)
	if best.Trial != ranked[0].Number || bt.Number != best.Trial || best.ValAcc != ranked[0].ValAcc {
		t.Errorf("best = trial %d, ranking says %d", best.Trial, ranked[0].Number)
	}
	if best.TestAcc < 0.5 || best.TestAcc > 1 {
		t.Errorf("test acc %g", best.TestAcc)
	}
	again, _, err := SelectBest(t.Context(), f.store, f.spec.Name, f.ds)
	if err != nil || !again.Evaluated.Equal(best.Evaluated) || again.TestAcc != best.TestAcc {
		t.Errorf("second selection evaluated again: %+v vs %+v (%v)", again, best, err)
	}
}

func TestReproducibleWithAnyWorkersAndInterruptions(t *testing.T) {
	one := newFixture(t, testSpec)
	if _, err := one.pool(1).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := one.outcomes(t)

	three := newFixture(t, testSpec)
	if _, err := three.pool(3).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "3 workers", want, three.outcomes(t))

	// Interrupt after a few epochs, then resume in a new pool.
	inter := newFixture(t, testSpec)
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	p := inter.pool(2)
	p.Events = func(e Event) {
		if e.Kind == EpochDone && e.Epoch.Epoch == 2 {
			once.Do(cancel)
		}
	}
	stats, err := p.Run(ctx)
	if !errors.Is(err, context.Canceled) || stats.Interrupted == 0 {
		t.Fatalf("interrupted run: %+v, err %v", stats, err)
	}
	if stats.Checkpointed != stats.Interrupted || stats.Unreleased != 0 {
		t.Errorf("interrupted run: %+v, want every interrupted trial released with a checkpoint", stats)
	}
	for _, tr := range inter.trials(t) {
		if tr.Status == results.Running {
			t.Errorf("trial %d left running after an interruption", tr.Number)
		}
	}
	if _, err := inter.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "interrupted and resumed", want, inter.outcomes(t))
}

func assertSameOutcomes(t *testing.T, what string, want, got map[string]outcome) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d trials, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		// Compared as text: NaN metrics (a trial that diverged before its
		// first evaluation) equal NaN, and every other float must be equal.
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
			t.Errorf("%s: trial %s differs:\n got %+v\nwant %+v", what, k, g, w)
		}
	}
}

func TestStaleLeases(t *testing.T) {
	f := newFixture(t, testSpec)
	now := time.Now()
	self := Self()
	claimAs := func(o results.Owner, at time.Time) *results.Trial {
		t.Helper()
		tr, _, err := f.store.Claim(t.Context(), f.spec.Name, o, at, func(results.Lease) bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	dead := results.Owner{Host: self.Host, PID: 1 << 30, ID: "dead"} // no such pid
	elsewhere := results.Owner{Host: "other-host", PID: self.PID, ID: "remote"}
	deadTrial := claimAs(dead, now)
	remoteTrial := claimAs(elsewhere, now)
	oldRemote := claimAs(results.Owner{Host: "other-host", PID: 5, ID: "old"}, now.Add(-2*DefaultLeaseTTL))

	stale := Staleness(self, now, DefaultLeaseTTL)
	trials := f.trials(t)
	byNum := map[int]results.Trial{}
	for _, tr := range trials {
		byNum[tr.Number] = tr
	}
	tests := []struct {
		name  string
		trial int
		want  bool
	}{
		{"dead owner on this host", deadTrial.Number, true},
		{"live owner elsewhere", remoteTrial.Number, false},
		{"expired lease elsewhere", oldRemote.Number, true},
	}
	for _, tt := range tests {
		if got := stale(*byNum[tt.trial].Lease); got != tt.want {
			t.Errorf("%s: stale = %v, want %v", tt.name, got, tt.want)
		}
	}
	if stale(results.Lease{Owner: self, Heartbeat: now.Add(-time.Hour)}) {
		t.Error("this process's own lease counted as stale")
	}
	live := results.Owner{Host: self.Host, PID: self.PID, Start: self.Start, ID: "sibling"}
	if stale(results.Lease{Owner: live, Heartbeat: now}) {
		t.Error("a live process on this host counted as stale")
	}

	// Nothing selects a best trial while one runs elsewhere.
	if _, _, err := SelectBest(t.Context(), f.store, f.spec.Name, f.ds); !errors.Is(err, ErrUnfinished) {
		t.Errorf("selection with a trial still running elsewhere: err = %v", err)
	}

	// A new pool takes over the dead owner's and the expired trials, trains
	// the pending ones, and leaves the live remote trial alone: it waits
	// for it (to take it over, should its owner die) until the remote
	// process finishes it, here as soon as the pool waits.
	p := f.pool(2)
	var once sync.Once
	waited := false
	p.Events = func(e Event) {
		if e.Kind != Waiting {
			return
		}
		once.Do(func() {
			waited = true
			tr, _, err := f.store.Trial(t.Context(), f.spec.Name, remoteTrial.Number)
			if err != nil || tr.Status != results.Running || tr.Lease.Owner.ID != "remote" {
				t.Errorf("live remote trial while the pool waits: %+v, %v", tr, err)
			}
			o := results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.1, ValLoss: 2}}
			if err := f.store.Finish(t.Context(), f.spec.Name, remoteTrial.Number, elsewhere, time.Now(), o); err != nil {
				t.Errorf("the remote process finishes its trial: %v", err)
			}
		})
	}
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Trained != 5 || !waited {
		t.Errorf("trained %d trials, want 5 (all but the live remote one); waited for it: %v", stats.Trained, waited)
	}
	tr, _, err := f.store.Trial(t.Context(), f.spec.Name, remoteTrial.Number)
	if err != nil || tr.Status != results.Done || tr.Attempts != 1 {
		t.Errorf("remote trial: %+v, %v; want done by its owner, in 1 attempt", tr, err)
	}
}

func TestTrainRecoversPanic(t *testing.T) {
	f := newFixture(t, testSpec)
	tr := f.trials(t)[0]
	res := Train(t.Context(), Job{Trial: &tr, Data: nil}) // nil data: a bug inside a trial
	if res.Outcome.Status != results.Failed || res.Outcome.Stack == "" {
		t.Errorf("outcome %+v, want failed with a stack", res.Outcome)
	}
	tr.Config = json.RawMessage(`{"Hidden": "x"}`)
	res = Train(t.Context(), Job{Trial: &tr, Data: f.ds})
	if res.Outcome.Status != results.Failed || res.Outcome.Error == "" {
		t.Errorf("bad config: outcome %+v, want failed", res.Outcome)
	}
}

func TestModelRoundTrip(t *testing.T) {
	f := newFixture(t, testSpec)
	if _, err := f.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, tr := range f.trials(t) {
		m, err := f.store.Model(t.Context(), f.spec.Name, tr.Number)
		if err != nil {
			continue
		}
		kept++
		names := []string{}
		for _, ts := range m.Tensors {
			names = append(names, fmt.Sprintf("%s%v", ts.Name, ts.Shape))
		}
		if want := []string{"W1[100 50]", "b1[50]", "W2[50 10]", "b2[10]"}; !slices.Equal(names, want) {
			t.Errorf("trial %d model tensors %v, want %v", tr.Number, names, want)
		}
	}
	if kept != 2 {
		t.Errorf("%d models kept, want keep = 2", kept)
	}
}

func TestPanickingTrialDoesNotStopTheSweep(t *testing.T) {
	f := newFixture(t, testSpec)
	testHookTrain = func(tr *results.Trial) {
		if tr.Number == 2 {
			var s []int
			s[tr.Number]++ // a bug inside a trial: index out of range
		}
	}
	defer func() { testHookTrain = nil }()
	stats, err := f.pool(2).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Trained != 6 || stats.Failed != 1 {
		t.Errorf("stats %+v, want 6 trained, 1 failed", stats)
	}
	tr, _, err := f.store.Trial(t.Context(), f.spec.Name, 2)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != results.Failed || !strings.Contains(tr.Error, "index out of range") || !strings.Contains(tr.Stack, "pool_test.go") {
		t.Errorf("trial 2: %s, error %q, stack %q", tr.Status, tr.Error, tr.Stack)
	}
	done := 0
	for _, tr := range f.trials(t) {
		if tr.Status == results.Done {
			done++
		}
	}
	if done != 3 { // 6 trials: 2 diverge (lr 1e6), 1 panics
		t.Errorf("%d trials done, want 3", done)
	}
}

func TestLeaseLostToAnotherProcess(t *testing.T) {
	f := newFixture(t, testSpec)
	thief := results.Owner{Host: "elsewhere", PID: 1, ID: "thief"}
	var once, waitOnce sync.Once
	var lost []int
	var mu sync.Mutex
	p := f.pool(1)
	p.Events = func(e Event) {
		switch e.Kind {
		case EpochDone:
			if e.Trial.Number == 1 {
				// Another process reclaims trial 1 in mid-training, as if
				// this one had missed its heartbeats for a whole lease.
				once.Do(func() {
					tr, _, err := f.store.Claim(t.Context(), f.spec.Name, thief, time.Now(), func(results.Lease) bool { return true })
					if err != nil || tr.Number != 1 {
						t.Errorf("steal: trial %v, %v", tr, err)
					}
				})
			}
		case LeaseLost:
			mu.Lock()
			lost = append(lost, e.Trial.Number)
			mu.Unlock()
		case Waiting:
			// The pool waits for the thief's trial: it is running under
			// the thief, who now finishes it.
			waitOnce.Do(func() {
				tr, _, err := f.store.Trial(t.Context(), f.spec.Name, 1)
				if err != nil || tr.Status != results.Running || tr.Lease.Owner.ID != "thief" {
					t.Errorf("trial 1 after the steal: %+v, %v; want running under the thief", tr, err)
				}
				if err := f.store.Finish(t.Context(), f.spec.Name, 1, thief, time.Now(), results.Outcome{Status: results.Done}); err != nil {
					t.Errorf("the thief finishes trial 1: %v", err)
				}
			})
		}
	}
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(lost) != 1 || lost[0] != 1 || stats.Trained != 5 || stats.LeaseLost != 1 {
		t.Errorf("lease lost for %v, %d trained; want trial 1 lost and the 5 others trained", lost, stats.Trained)
	}
	tr, _, err := f.store.Trial(t.Context(), f.spec.Name, 1)
	if err != nil || tr.Status != results.Done || tr.Attempts != 2 {
		t.Errorf("trial 1: %+v, %v; want done by the thief, in attempt 2", tr, err)
	}
}
