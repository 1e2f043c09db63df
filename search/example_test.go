package search_test

import (
	"errors"
	"fmt"

	"github.com/sweep-dev/sweep/search"
)

// A grid search: the coursework's learning rates x regularisation strengths,
// in nested-loop order.
func ExampleSpec_Trials_grid() {
	spec, err := search.Parse("grid.toml", []byte(`
name = "grid"

[train]
iterations = 500

[search]
method = "grid"

[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	trials, _ := spec.Trials()
	for _, t := range trials {
		fmt.Println(t.Index, t.Params, t.Iterations, t.Hidden)
	}
	// Output:
	// 0 [learning_rate=0.001 reg=0.1] 500 [50]
	// 1 [learning_rate=0.001 reg=0.25] 500 [50]
	// 2 [learning_rate=0.0001 reg=0.1] 500 [50]
	// 3 [learning_rate=0.0001 reg=0.25] 500 [50]
}

// A random search: trial i depends only on the seed and i, so asking for
// more trials later keeps the first ones.
func ExampleSpec_Trials_random() {
	spec, _ := search.Parse("random.toml", []byte(`
name = "random"
seed = 3

[search]
method = "random"
trials = 4

[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
hidden = [[50], [100]]
`))
	trials, _ := spec.Trials()
	for _, t := range trials {
		fmt.Println(t.Index, t.Key, t.Params)
	}
	// Output:
	// 0 8fcfc539f556fe1a [learning_rate=2.28117e-05 hidden=[50]]
	// 1 a06e1f1ab1af0284 [learning_rate=0.000303101 hidden=[50]]
	// 2 4fcd04424fdffb96 [learning_rate=0.00156708 hidden=[100]]
	// 3 27ef7e9bfaa7b1d0 [learning_rate=0.00212864 hidden=[100]]
}

// Every mistake of a spec at once, each with file, line and key.
func ExampleParse_errors() {
	_, err := search.Parse("sweeps/x.toml", []byte(`name = "x"

[train]
optimizer = "adamw"
iterations = 1000
epochs = 10

[search.params]
learnig_rate = [1e-3, 1e-4]
reg = { log_uniform = [0, 1] }
`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, search.ErrUnknownParam))
	// Output:
	// sweeps/x.toml:4: train.optimizer: unknown optimizer "adamw" (did you mean "adam"?)
	// sweeps/x.toml:6: train.epochs: conflicts with train.iterations (line 5): give iterations or epochs, not both
	// sweeps/x.toml:9: search.params.learnig_rate: unknown parameter (did you mean learning_rate?)
	// sweeps/x.toml:10: search.params.reg.log_uniform: log_uniform needs min > 0, got 0
	// true
}

// Extending a sweep may add values, not change its fixed settings.
func ExampleCheckCompatible() {
	old, _ := search.Parse("v1.toml", []byte(`
name = "s"
[train]
iterations = 1000
[search.params]
reg = [0.1, 0.25]
`))
	extended, _ := search.Parse("v2.toml", []byte(`
name = "s"
[train]
iterations = 1000
[search.params]
reg = [0.1, 0.25, 0.5]
`))
	changed, _ := search.Parse("v3.toml", []byte(`
name = "s"
[train]
iterations = 2000
batch_size = 100
[search.params]
reg = [0.1, 0.25]
`))
	fmt.Println(search.CheckCompatible(old, extended))
	fmt.Println(search.CheckCompatible(old, changed))
	// Output:
	// <nil>
	// sweep "s" exists with other fixed settings:
	//   train.iterations: 1000 -> 2000
	//   train.batch_size: 200 -> 100
	// put them back to extend the sweep, or give the spec a new name to start a new one
}

// weight_scale takes a number or an initialisation's name, and dropout one
// probability for every hidden layer or one per layer: a grid over both.
func ExampleSpec_Trials_mixed() {
	spec, _ := search.Parse("mixed.toml", []byte(`
name = "mixed"

[model]
hidden = [100, 50]

[search.params]
weight_scale = ["he", 1e-3]
dropout = [0, [0.5, 0.2]]
`))
	trials, _ := spec.Trials()
	for _, t := range trials {
		fmt.Printf("%v WeightInit=%q WeightScale=%g Dropout=%v\n", t.Params, t.WeightInit, t.WeightScale, t.Dropout)
	}
	// Output:
	// [weight_scale="he" dropout=0] WeightInit="he" WeightScale=0.0001 Dropout=[]
	// [weight_scale="he" dropout=[0.5, 0.2]] WeightInit="he" WeightScale=0.0001 Dropout=[0.5 0.2]
	// [weight_scale=0.001 dropout=0] WeightInit="" WeightScale=0.001 Dropout=[]
	// [weight_scale=0.001 dropout=[0.5, 0.2]] WeightInit="" WeightScale=0.001 Dropout=[0.5 0.2]
}

// A config stored before normalization, preprocess and lr_schedule existed
// holds "" for them: WithDefaults gives the settings it was trained with.
func ExampleConfig_WithDefaults() {
	var c search.Config // as decoded from an older store: new strings empty
	c.Hidden, c.Activation = []int{50}, "relu"
	d := c.WithDefaults()
	fmt.Printf("%q %q %q %v\n", d.Normalization, d.Preprocess, d.LRSchedule, d.Dropout == nil)
	fmt.Println(c.Key() == d.Key())
	// Output:
	// "none" "mean_image" "step" true
	// true
}
