package trial

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
)

const ashaSpec = `
name = "asha"
seed = 4

[data]
source = "synthetic"
train = 600
val = 150
test = 150
dim = 40

[model]
hidden = [16]
weight_scale = 1e-2

[train]
epochs = 9
batch_size = 30

[search]
method = "asha"
trials = 12

[search.asha]
min_epochs = 1
eta = 3

[search.params]
learning_rate = { log_uniform = [1e-4, 1e-1] }
reg = { log_uniform = [1e-4, 1.0] }
`

func loadSpecData(t *testing.T, src string) (*search.Spec, *data.Dataset) {
	t.Helper()
	spec, err := search.Parse("asha.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := spec.Data
	ds, err := data.Load(t.Context(), data.Options{Source: d.Source, Train: d.Train, Val: d.Val, Test: d.Test, Seed: d.Seed, Dim: d.Dim})
	if err != nil {
		t.Fatal(err)
	}
	return spec, ds
}

// TestPromotionsEqualStraightThrough: a trial paused at rungs and promoted
// from its checkpoints ends bitwise equal to the same trial trained
// straight through: same weights, same history, same metrics.
func TestPromotionsEqualStraightThrough(t *testing.T) {
	spec, ds := loadSpecData(t, ashaSpec)
	sched, err := NewScheduler(spec)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sched.Next(nil)
	if err != nil || d.Action != search.Start {
		t.Fatalf("first decision %v, %v: want a start", d.Action, err)
	}
	rec, err := record(d.Trial)
	if err != nil {
		t.Fatal(err)
	}
	rec.Number = 1

	straight := Train(t.Context(), Job{Trial: &rec, Data: ds, Metric: "val_acc"})
	if straight.Outcome.Status != results.Done {
		t.Fatalf("straight through: %v (%s)", straight.Outcome.Status, straight.Outcome.Error)
	}

	var ck *results.Checkpoint
	for _, target := range []int{1, 3} {
		r := Train(t.Context(), Job{Trial: &rec, Data: ds, Checkpoint: ck, Metric: "val_acc", Target: target})
		if !r.Paused || r.Checkpoint == nil {
			t.Fatalf("target %d: paused %v, outcome %v: want a pause with a checkpoint", target, r.Paused, r.Outcome.Status)
		}
		if r.Eval.Resource != target || len(r.History) != target {
			t.Errorf("target %d: paused at %d with %d epochs of history", target, r.Eval.Resource, len(r.History))
		}
		if want := straight.Outcome.History[target-1].ValAcc; r.Eval.Value != want {
			t.Errorf("target %d: rung value %v, straight through %v at that epoch", target, r.Eval.Value, want)
		}
		ck = r.Checkpoint
	}
	promoted := Train(t.Context(), Job{Trial: &rec, Data: ds, Checkpoint: ck, Metric: "val_acc"})
	if promoted.Outcome.Status != results.Done {
		t.Fatalf("after promotions: %v (%s)", promoted.Outcome.Status, promoted.Outcome.Error)
	}
	if !reflect.DeepEqual(promoted.Outcome.History, straight.Outcome.History) {
		t.Error("histories differ")
	}
	if promoted.Outcome.Metrics != straight.Outcome.Metrics {
		t.Errorf("metrics %+v, straight through %+v", promoted.Outcome.Metrics, straight.Outcome.Metrics)
	}
	for i, tn := range straight.Outcome.Model.Tensors {
		if !bytes.Equal(promoted.Outcome.Model.Tensors[i].Data, tn.Data) {
			t.Errorf("tensor %s differs", tn.Name)
		}
	}
	if *promoted.Outcome.Eval != *straight.Outcome.Eval || straight.Outcome.Eval.Resource != 9 {
		t.Errorf("final evaluations %+v and %+v, want equal, at 9 epochs", *promoted.Outcome.Eval, *straight.Outcome.Eval)
	}
}

// runASHA runs the adaptive sweep of src in a new database with workers.
func runASHA(t *testing.T, src string, workers int) []results.Trial {
	t.Helper()
	spec, ds := loadSpecData(t, src)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "sweep.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sw := results.Sweep{Name: spec.Name, Spec: []byte(src), SpecPath: "asha.toml", Canonical: spec.Canonical(), Metric: spec.Search.Metric}
	if _, err := st.EnsureSweep(t.Context(), sw, nil); err != nil {
		t.Fatal(err)
	}
	sched, err := NewScheduler(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pool{Store: st, Sweep: spec.Name, Data: ds, Workers: workers, Owner: Self(), Scheduler: sched, Metric: spec.Search.Metric}
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(context.Background()); err != nil {
		t.Errorf("database check: %v", err)
	}
	ts, err := st.Trials(t.Context(), spec.Name, results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Paused == 0 || stats.Done == 0 {
		t.Errorf("stats %+v: want trials paused at rungs and trials done", stats)
	}
	return ts
}

// TestASHAPool runs an ASHA sweep with one worker, twice: it ends with
// every trial done or pruned (none left paused), the scheduler's decisions
// recorded, and bitwise the same results both times.
func TestASHAPool(t *testing.T) {
	first := runASHA(t, ashaSpec, 1)
	if len(first) != 12 {
		t.Fatalf("%d trials, want 12", len(first))
	}
	counts := map[results.Status]int{}
	for _, tr := range first {
		counts[tr.Status]++
		if tr.Rung != len(tr.Evals) || tr.Rung == 0 {
			t.Errorf("trial %d: rung %d, %d evaluations", tr.Number, tr.Rung, len(tr.Evals))
		}
	}
	if counts[results.Done]+counts[results.Pruned]+counts[results.Diverged] != 12 || counts[results.Pruned] == 0 {
		t.Errorf("statuses %v: want every trial done, pruned or diverged, some pruned", counts)
	}
	again := runASHA(t, ashaSpec, 1)
	type outcome struct {
		Key    string
		Status results.Status
		M      results.Metrics
		Evals  []results.Eval
	}
	view := func(ts []results.Trial) []outcome {
		var o []outcome
		for _, tr := range ts {
			o = append(o, outcome{tr.Key, tr.Status, tr.Metrics, tr.Evals})
		}
		return o
	}
	a, _ := json.Marshal(view(first))
	b, _ := json.Marshal(view(again))
	if !bytes.Equal(a, b) {
		t.Errorf("two one-worker runs differ:\n%s\n%s", a, b)
	}
}

// TestASHAPoolTwoWorkers: with two workers which trials get promoted may
// depend on timing, but the sweep still ends with every trial finished,
// and each trial's curve is a function of its config and seed alone.
func TestASHAPoolTwoWorkers(t *testing.T) {
	ts := runASHA(t, ashaSpec, 2)
	_, ds := loadSpecData(t, ashaSpec)
	for _, tr := range ts {
		if !tr.Status.Finished() || tr.Status == results.Paused {
			t.Errorf("trial %d is %s", tr.Number, tr.Status)
		}
		if tr.Status != results.Done {
			continue
		}
		straight := Train(t.Context(), Job{Trial: &tr, Data: ds, Metric: "val_acc"})
		if straight.Outcome.Metrics != tr.Metrics {
			t.Errorf("trial %d: %+v through the sweep, %+v straight through", tr.Number, tr.Metrics, straight.Outcome.Metrics)
		}
	}
}
