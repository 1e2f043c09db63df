package search

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const baseSpec = `name = "c"
seed = 1
workers = 2
[data]
source = "fashion-mnist"
train = 59000
[train]
iterations = 1000
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`

func TestCheckCompatible(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []Change // nil: compatible
	}{
		{"same", baseSpec, nil},
		{"more grid values", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[search]
keep = 5
[search.params]
learning_rate = [1e-2, 1e-3, 1e-4]
reg = [0.1, 0.25, 0.5]
`, nil},
		{"a searched key becomes fixed", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[train]
reg = 0.1
[search.params]
learning_rate = [1e-3, 1e-4]
`, nil},
		{"fixed settings changed", `name = "c"
seed = 2
[data]
source = "fashion-mnist"
[train]
epochs = 10
batch_size = 100
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`, []Change{
			{Key: "seed", Old: "1", New: "2"},
			{Key: "data.train", Old: "59000", New: ""},
			{Key: "train.iterations", Old: "1000", New: ""},
			{Key: "train.batch_size", Old: "200", New: "100"},
			{Key: "train.epochs", Old: "", New: "10"},
		}},
		{"method changed", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[search]
method = "random"
trials = 4
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`, []Change{{Key: "search.method", Old: `"grid"`, New: `"random"`}, {Key: "search.sampler", Old: "", New: `"random"`}}},
	}
	old := mustParse(t, baseSpec)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCompatible(old, mustParse(t, tt.spec))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckCompatible: %v", err)
				}
				return
			}
			var ce *ChangeError
			if !errors.As(err, &ce) || !errors.Is(err, ErrChanged) {
				t.Fatalf("CheckCompatible = %v, want a *ChangeError", err)
			}
			if !reflect.DeepEqual(ce.Changes, tt.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", ce.Changes, tt.want)
			}
		})
	}
}

// TestCheckCompatibleAdaptive: an adaptive sweep's method, sampler, eta and
// first rung are fixed settings; its budget and trials may change.
func TestCheckCompatibleAdaptive(t *testing.T) {
	const base = "name = \"a\"\n[train]\nepochs = 9\n[search]\nmethod = \"asha\"\nsampler = \"tpe\"\ntrials = 10\nbudget = \"1m\"\n[search.asha]\nmin_epochs = 1\neta = 3\n[search.params]\nreg = { log_uniform = [1e-4, 1.0] }\n"
	parse := func(src string) *Spec {
		t.Helper()
		s, err := Parse("a.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := parse(base)
	for _, tt := range []struct {
		from, to string
		key      string // "" when the change is allowed
	}{
		{"trials = 10", "trials = 20", ""},
		{"budget = \"1m\"", "budget = \"5m\"", ""},
		{"eta = 3", "eta = 2", "search.asha.eta"},
		{"min_epochs = 1", "min_epochs = 3", "search.asha.min_epochs"},
		{"sampler = \"tpe\"", "sampler = \"random\"", "search.sampler"},
	} {
		err := CheckCompatible(old, parse(strings.Replace(base, tt.from, tt.to, 1)))
		var ce *ChangeError
		switch {
		case tt.key == "" && err != nil:
			t.Errorf("%s -> %s: %v, want allowed", tt.from, tt.to, err)
		case tt.key != "" && (!errors.As(err, &ce) || len(ce.Changes) != 1 || ce.Changes[0].Key != tt.key):
			t.Errorf("%s -> %s: %v, want a change of %s", tt.from, tt.to, err, tt.key)
		}
	}
}
