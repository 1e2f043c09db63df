package tpe_test

import (
	"fmt"
	"math"

	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/tpe"
)

// TPE proposes trial 13 from twelve finished trials whose validation
// accuracy peaks near learning_rate 1e-3 with hidden [100]: it proposes a
// point near the good ones. The same history and seed always give the same
// proposal.
func ExampleSampler_Sample() {
	spec, _ := search.Parse("tpe.toml", []byte(`
name = "tpe"
seed = 4
[train]
epochs = 10
[search]
method = "random"
trials = 50
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-1] }
hidden = [[50], [100], [200]]
`))
	var h []search.TrialRecord
	for i, lr := range []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 2e-4, 2e-3, 5e-5} {
		hidden := []int{[]int{50, 100, 200}[i%3]}
		acc := 0.5 - 0.1*math.Abs(math.Log10(lr)+3)
		if hidden[0] == 100 {
			acc += 0.05
		}
		h = append(h, search.TrialRecord{
			Number: i + 1, Key: fmt.Sprint(i), Status: search.StatusDone,
			Params: []search.ParamValue{{Name: "learning_rate", Value: lr}, {Name: "hidden", Value: hidden}},
			Evals:  []search.Eval{{Resource: 10, Value: acc}},
		})
	}
	values, _ := tpe.New(spec, tpe.Options{}).Sample(h, 13, 0)
	fmt.Println(values)
	// Output:
	// [0.000894267 [100]]
}
