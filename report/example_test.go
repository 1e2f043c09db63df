package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// Values read back from a store, in the exact form of exports and in the
// short form of tables.
func ExampleHumanValue() {
	for _, v := range []any{1e-3, 1e-5, 0.25, 50.0, "he", []any{100.0, 50.0}} {
		fmt.Printf("%-8s  %s\n", report.FormatValue(v), report.HumanValue(v))
	}
	// Output:
	// 0.001     1.0e-03
	// 1e-5      1.0e-05
	// 0.25      0.25
	// 50        50
	// he        he
	// [100,50]  [100,50]
}

// A leaderboard of the done trials, best first, as `sweep leaderboard
// NAME --status done` draws it.
func ExampleNewBoard() {
	sw := &results.Sweep{Name: "grid", Metric: "val_acc"}
	trial := func(n int, st results.Status, acc, lr float64) results.Trial {
		return results.Trial{Number: n, Status: st, Duration: 40 + float64(n),
			Metrics: results.Metrics{ValAcc: acc, ValLoss: 2 - acc, TrainAcc: acc + 0.05, Epochs: 2},
			Params:  results.Params{{Name: "learning_rate", Value: lr}}}
	}
	trials := []results.Trial{
		trial(1, results.Done, 0.41, 1e-3), trial(2, results.Done, 0.47, 5e-3), trial(3, results.Failed, 0, 1e-2),
	}
	b, err := report.NewBoard(sw, trials, report.Options{Status: []results.Status{results.Done}})
	if err != nil {
		panic(err)
	}
	if err := b.WriteTable(os.Stdout, time.Now(), nil); err != nil {
		panic(err)
	}
	// Output:
	// sweep "grid": 3 trials: 2 done, 1 failed
	// rank  trial  status  val_acc  val_loss  train_acc  learning_rate  epochs   time
	//    1      2  done      0.470     1.530      0.520        5.0e-03       2  42.0s
	//    2      1  done      0.410     1.590      0.460        1.0e-03       2  41.0s
}
