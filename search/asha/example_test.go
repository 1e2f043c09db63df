package asha_test

import (
	"fmt"

	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/asha"
)

// A worker asks for work while three trials are paused at the first rung
// (1 epoch): the best of them is in the top floor(3/3) = 1, so it is
// promoted, to go on from its checkpoint to 3 epochs. When the sweep ends,
// the others are pruned.
func ExampleScheduler_Next() {
	spec, _ := search.Parse("asha.toml", []byte(`
name = "asha"
[train]
epochs = 9
[search]
method = "random"
trials = 20
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
`))
	sch, _ := asha.New(spec, asha.Config{Min: 1, Eta: 3}, search.NewRandomSampler(spec))
	h := []search.TrialRecord{
		{Number: 1, Status: search.StatusPaused, Rung: 1, Evals: []search.Eval{{Resource: 1, Value: 0.41}}},
		{Number: 2, Status: search.StatusPaused, Rung: 1, Evals: []search.Eval{{Resource: 1, Value: 0.48}}},
		{Number: 3, Status: search.StatusPaused, Rung: 1, Evals: []search.Eval{{Resource: 1, Value: 0.30}}},
	}
	d, _ := sch.Next(h)
	fmt.Println(d.Action, d.Number, d.Target, d.Pause)
	fmt.Println(d.Reason.Text)
	h[1].Status, h[1].Promoted = search.StatusRunning, true
	d, _ = sch.Next(h)
	fmt.Println(d.Action, d.Number, d.Target)
	for _, d := range sch.End(h) {
		fmt.Println(d.Reason.Text)
	}
	// Output:
	// promote 2 3 true
	// promote trial 2 from rung 1 (1 epoch) to rung 2 (3 epochs): val_acc 0.48 ranks 1 of 3, in the top k = floor(3/3) = 1, 0 of which promoted already (cut-off 0.48, trial 2)
	// start 4 1
	// trial 1 stops at rung 1 (1 epoch): val_acc 0.41 ranks 2 of 3, below the top k = floor(3/3) = 1 (cut-off 0.48, trial 2); not promoted
	// trial 3 stops at rung 1 (1 epoch): val_acc 0.3 ranks 3 of 3, below the top k = floor(3/3) = 1 (cut-off 0.48, trial 2); not promoted
}

// Hyperband for 1 to 10 epochs with eta 3: three brackets of ASHA, and each
// trial's bracket a function of the sweep's seed and its number.
func ExampleNewHyperband() {
	spec, _ := search.Parse("hyperband.toml", []byte(`
name = "hyperband"
seed = 1
[train]
epochs = 10
[search]
method = "random"
trials = 20
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
`))
	sch, _ := asha.NewHyperband(spec, asha.Config{Min: 1, Eta: 3}, search.NewRandomSampler(spec))
	for b := range sch.Brackets() {
		fmt.Println("bracket", b, sch.Rungs(b))
	}
	for n := 1; n <= 10; n++ {
		fmt.Print(sch.Bracket(n), " ")
	}
	fmt.Println()
	// Output:
	// bracket 0 [1 3 9 10]
	// bracket 1 [3 9 10]
	// bracket 2 [9 10]
	// 0 1 1 0 0 0 2 2 1 0
}
