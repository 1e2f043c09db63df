package trial

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// betterSpec searches the second assignment's keys on synthetic data: every
// normalisation, dropout, a schedule, an optimizer and every preprocessing,
// with patience.
const betterSpec = `
name = "better-nets"
seed = 11

[data]
source = "synthetic"
train = 1000
val = 200
test = 300

[model]
hidden = [32, 16]
weight_scale = "he"
dropout = [0.3, 0.1]

[train]
epochs = 5
batch_size = 50
optimizer = "adam"
lr_schedule = "cosine"
warmup_epochs = 1
patience = 2

[search]
method = "grid"
keep = 9

[search.params]
normalization = ["batchnorm", "layernorm", "none"]
preprocess = ["mean_image", "standardize", "none"]
learning_rate = [3e-2]
`

func TestBetterNetsThroughThePool(t *testing.T) {
	one := newFixture(t, betterSpec)
	stats, err := one.pool(1).Run(t.Context())
	if err != nil || stats.Done != 9 {
		t.Fatalf("run: %+v, err %v, want 9 done", stats, err)
	}
	want := one.outcomes(t)

	// Interrupted after two epochs and resumed, with two workers: bitwise
	// the same (batchnorm's running statistics and the dropout masks'
	// random state travel in the checkpoints).
	inter := newFixture(t, betterSpec)
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	p := inter.pool(2)
	p.Events = func(e Event) {
		if e.Kind == EpochDone && e.Epoch.Epoch == 2 {
			once.Do(cancel)
		}
	}
	if _, err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v", err)
	}
	if _, err := inter.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "interrupted and resumed", want, inter.outcomes(t))

	// The kept model of every trial reproduces its recorded validation
	// accuracy exactly: running statistics and preprocessing come back with
	// it. The preprocessing choices give different results.
	accs := map[string]float64{}
	for _, tr := range one.trials(t) {
		m, err := one.store.Model(t.Context(), one.spec.Name, tr.Number)
		if err != nil {
			t.Fatal(err)
		}
		pred, err := ValidationPredictions(&tr, m, one.ds)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, p := range pred {
			if p == one.ds.Val.Y[i] {
				right++
			}
		}
		if acc := float64(right) / float64(len(pred)); acc != tr.ValAcc {
			t.Errorf("trial %d (%v): predictions give val_acc %g, recorded %g", tr.Number, tr.Params, acc, tr.ValAcc)
		}
		if tr.EarlyStopped && (tr.Epochs >= 5 || tr.Epochs-tr.BestEpoch < 2) {
			t.Errorf("trial %d stopped early at epoch %g with its best at %g, patience 2", tr.Number, tr.Epochs, tr.BestEpoch)
		}
		accs[fmt.Sprint(tr.Params)] = tr.ValAcc
	}
	if len(accs) != 9 {
		t.Errorf("%d distinct configurations, want 9", len(accs))
	}
	// Selection evaluates the best on the test split with its preprocessing.
	best, _, err := SelectBest(t.Context(), one.store, one.spec.Name, one.ds)
	if err != nil || best.TestAcc < 0.3 {
		t.Errorf("best %+v, err %v", best, err)
	}
	var sel results.Trial
	for _, tr := range one.trials(t) {
		if tr.Number == best.Trial {
			sel = tr
		}
	}
	if sel.ValAcc != best.ValAcc {
		t.Errorf("selected trial %d val %g, best record %g", sel.Number, sel.ValAcc, best.ValAcc)
	}
}
