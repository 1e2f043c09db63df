package search

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, src string) *Spec {
	t.Helper()
	spec, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v\nspec:\n%s", err, src)
	}
	return spec
}

func mustTrials(t testing.TB, spec *Spec) []Trial {
	t.Helper()
	trials, err := spec.Trials()
	if err != nil {
		t.Fatalf("Trials: %v", err)
	}
	return trials
}

// paramString is a trial's searched values as "name=value ...".
func paramString(tr Trial) string {
	parts := make([]string, len(tr.Params))
	for i, p := range tr.Params {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ")
}

// TestGridOrder checks the coursework grid's size and nested-loop order.
func TestGridOrder(t *testing.T) {
	spec := mustParse(t, `name = "g"
[search.params]
learning_rate = [1e-3, 5e-3, 1e-4, 5e-4]
reg = [0.1, 0.25]
lr_decay = [0.55, 0.6, 0.8]
`)
	trials := mustTrials(t, spec)
	if len(trials) != 24 || spec.Len() != 24 {
		t.Fatalf("%d trials, Len %d, want 24", len(trials), spec.Len())
	}
	want := map[int]string{
		0:  "learning_rate=0.001 reg=0.1 lr_decay=0.55",
		1:  "learning_rate=0.001 reg=0.1 lr_decay=0.6",
		2:  "learning_rate=0.001 reg=0.1 lr_decay=0.8",
		3:  "learning_rate=0.001 reg=0.25 lr_decay=0.55",
		6:  "learning_rate=0.005 reg=0.1 lr_decay=0.55",
		23: "learning_rate=0.0005 reg=0.25 lr_decay=0.8",
	}
	for i, w := range want {
		if got := paramString(trials[i]); got != w {
			t.Errorf("trial %d: %s, want %s", i, got, w)
		}
	}
	tr := trials[23]
	if tr.LearningRate != 5e-4 || tr.Reg != 0.25 || tr.LRDecay != 0.8 || tr.Iterations != 1000 || tr.BatchSize != 200 {
		t.Errorf("trial 23 config %+v", tr.Config)
	}
	checkTrials(t, spec, trials)
}

// TestGridExtension: adding grid values keeps the keys and seeds of the
// trials that were there.
func TestGridExtension(t *testing.T) {
	small := mustTrials(t, mustParse(t, "name = \"g\"\n[search.params]\nlearning_rate = [1e-3, 1e-4]\nreg = [0.1]"))
	big := mustTrials(t, mustParse(t, "name = \"g\"\n[search.params]\nlearning_rate = [1e-2, 1e-3, 1e-4]\nreg = [0.1, 0.5]"))
	seeds := make(map[string]uint64)
	for _, tr := range big {
		seeds[tr.Key] = tr.Seed
	}
	for _, tr := range small {
		if s, ok := seeds[tr.Key]; !ok || s != tr.Seed {
			t.Errorf("trial %s (%s) lost in the extended grid", tr.Key, paramString(tr))
		}
	}
}

// TestSteps checks the values ranges with steps put on a grid.
func TestSteps(t *testing.T) {
	tests := []struct {
		param string
		want  string
	}{
		{"learning_rate = { log_uniform = [1e-5, 1e-2], steps = 4 }", "[1e-05 0.0001 0.001 0.01]"},
		{"lr_decay = { uniform = [0.5, 1.0], steps = 3 }", "[0.5 0.75 1]"},
		{"reg = { uniform = [0, 1], steps = 4 }", "[0 0.333333 0.666667 1]"},
		{"reg = { log_uniform = [1e-3, 1.0], steps = 7 }", "[0.001 0.00316228 0.01 0.0316228 0.1 0.316228 1]"},
		{"batch_size = { int_uniform = [100, 400], steps = 4 }", "[100 200 300 400]"},
		{"batch_size = { int_uniform = [1, 10], steps = 4 }", "[1 4 7 10]"},
		{"epochs = { int_uniform = [1, 3], steps = 3 }", "[1 2 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			spec := mustParse(t, "name = \"s\"\n[search.params]\n"+tt.param)
			var got []any
			for _, tr := range mustTrials(t, spec) {
				got = append(got, tr.Params[0].Value)
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("values %s, want %s", s, tt.want)
			}
		})
	}
}

const randomSpec = `name = "r"
seed = %d
[search]
method = "random"
trials = %d
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
lr_decay = { uniform = [0.5, 1.0] }
batch_size = { int_uniform = [50, 400] }
hidden = [[50], [100], [100, 100]]
activation = ["relu", "swish"]
`

// TestRandomDeterministic: the same spec gives the same trials; raising
// trials appends; another seed gives other trials; values are in range.
func TestRandomDeterministic(t *testing.T) {
	a := mustTrials(t, mustParse(t, fmt.Sprintf(randomSpec, 7, 30)))
	b := mustTrials(t, mustParse(t, fmt.Sprintf(randomSpec, 7, 30)))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two parses of one spec gave different trials")
	}
	more := mustTrials(t, mustParse(t, fmt.Sprintf(randomSpec, 7, 100)))
	if !reflect.DeepEqual(a, more[:30]) {
		t.Error("raising trials from 30 to 100 changed the first 30")
	}
	other := mustTrials(t, mustParse(t, fmt.Sprintf(randomSpec, 8, 30)))
	same := 0
	for i := range a {
		if a[i].Key == other[i].Key {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 share %d of 30 trials", same)
	}
	for _, tr := range more {
		if tr.LearningRate < 1e-5 || tr.LearningRate > 1e-2 || tr.LRDecay < 0.5 || tr.LRDecay > 1 ||
			tr.BatchSize < 50 || tr.BatchSize > 400 {
			t.Errorf("trial %d out of its ranges: %s", tr.Index, paramString(tr))
		}
	}
	spec := mustParse(t, fmt.Sprintf(randomSpec, 7, 100))
	checkTrials(t, spec, more)
}

// TestRandomPinned pins the first random trials: a change of sampling that
// would silently change existing sweeps fails here.
func TestRandomPinned(t *testing.T) {
	trials := mustTrials(t, mustParse(t, fmt.Sprintf(randomSpec, 0, 3)))
	var got []string
	for _, tr := range trials {
		got = append(got, tr.Key+" "+paramString(tr))
	}
	want := []string{
		`2a6e29e43c5135d1 learning_rate=1.15361e-05 lr_decay=0.832691 batch_size=119 hidden=[100, 100] activation="swish"`,
		`f02f8353c068c0be learning_rate=0.000855804 lr_decay=0.608489 batch_size=399 hidden=[100, 100] activation="relu"`,
		`a9071ee788ce58db learning_rate=0.00414246 lr_decay=0.81854 batch_size=77 hidden=[50] activation="swish"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("random trials of seed 0:\n got %q\nwant %q", got, want)
	}
}

// TestRandomCoversFiniteSpace: as many trials as a finite space has points
// gives every point once.
func TestRandomCoversFiniteSpace(t *testing.T) {
	spec := mustParse(t, `name = "f"
[search]
method = "random"
trials = 12
[search.params]
learning_rate = [1e-3, 1e-4, 1e-5]
activation = ["relu", "swish"]
batch_size = { int_uniform = [100, 101] }
`)
	trials := mustTrials(t, spec)
	seen := make(map[string]bool)
	for _, tr := range trials {
		seen[paramString(tr)] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d distinct trials of 12", len(seen))
	}
	checkTrials(t, spec, trials)
}

// TestKeyAndSeedPinned pins the key of the default config and a seed: both
// identify stored trials, so they must never change.
func TestKeyAndSeedPinned(t *testing.T) {
	c := DefaultConfig()
	if got, want := c.Key(), "265d3c2caea271c1"; got != want {
		t.Errorf("DefaultConfig().Key() = %s, want %s", got, want)
	}
	if got, want := SeedFor(0, c.Key()), uint64(12126062091346423647); got != want {
		t.Errorf("SeedFor(0, key) = %d, want %d", got, want)
	}
	if SeedFor(1, c.Key()) == SeedFor(0, c.Key()) {
		t.Error("the sweep seed does not change the trial seed")
	}
	c.Reg = 0.1
	if c.Key() == DefaultConfig().Key() {
		t.Error("reg does not change the key")
	}
}

// TestTrialsOwnHidden: a trial's Hidden is its own.
func TestTrialsOwnHidden(t *testing.T) {
	spec := mustParse(t, "name = \"h\"\n[search.params]\nhidden = [[50], [100, 100]]\nreg = [0, 1]")
	trials := mustTrials(t, spec)
	trials[0].Hidden[0] = 7
	if trials[1].Hidden[0] != 50 || spec.Search.Params[0].Values[0].([]int)[0] != 50 || trials[0].Params[0].Value.([]int)[0] != 50 {
		t.Error("trials share their hidden sizes")
	}
}
