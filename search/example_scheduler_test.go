package search_test

import (
	"fmt"

	"github.com/sweep-dev/sweep/search"
)

// ASHA's rungs for 10 epochs, starting at 1 epoch, keeping the best third;
// Hyperband runs one ladder per bracket.
func ExampleRungs() {
	rungs, _ := search.Rungs(1, 10, 3)
	brackets, _ := search.Brackets(1, 10, 3)
	fmt.Println(rungs, brackets)
	_, err := search.Rungs(1, 10, 1)
	fmt.Println(err)
	// Output:
	// [1 3 9 10] 3
	// invalid value: eta = 1: want eta >= 2 (each rung promotes its best 1/eta)
}

func ExampleParseBudget() {
	for _, s := range []string{"10m", "1h30m", "600"} {
		d, err := search.ParseBudget(s)
		fmt.Println(d, err)
	}
	// Output:
	// 10m0s <nil>
	// 1h30m0s <nil>
	// 0s invalid value: "600" is not a duration: give a number with a unit, e.g. "90s", "10m" or "1h30m"
}

// A grid through the scheduler seam: each worker that asks gets the next
// cell; when every cell is in the sweep, workers wait for those in flight,
// then the sweep is finished.
func ExampleFixed_Next() {
	spec, _ := search.Parse("grid.toml", []byte(`
name = "grid"
[train]
epochs = 5
[search.params]
learning_rate = [1e-3, 1e-4]
`))
	sch, _ := search.NewFixed(spec)
	var h []search.TrialRecord
	for {
		d, _ := sch.Next(h)
		fmt.Println(d.Action, d.Number, d.Target, d.Reason.Text)
		switch d.Action {
		case search.Start:
			h = append(h, search.TrialRecord{Number: d.Number, Key: d.Trial.Key, Params: d.Trial.Params, Status: search.StatusRunning})
			continue
		case search.Wait:
			for i := range h {
				h[i].Status = search.StatusDone
			}
			continue
		}
		break
	}
	// Output:
	// start 1 5 start trial 1: trial 1 of the spec's 2, the first not yet in the sweep
	// start 2 5 start trial 2: trial 2 of the spec's 2, the first not yet in the sweep
	// wait 0 0 all 2 trials of the spec are in the sweep; waiting for 2 in flight
	// finished 0 0 all 2 trials of the spec are in the sweep; none in flight
}
