package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Canonical texts and keys computed before the keys of issue 13 existed:
// sweeps stored then must find the same trials.
const (
	defaultCanonical = "sweep-config/v1\nhidden=[50]\nactivation=\"relu\"\nweight_scale=0.0001\ndtype=\"float32\"\noptimizer=\"sgd\"\niterations=1000\nepochs=0\nbatch_size=200\nlearning_rate=0.001\nlr_decay=0.95\nreg=0\nmomentum=0.9\ndecay_rate=0.99\nbeta1=0.9\nbeta2=0.999\nepsilon=1e-08\n"
	defaultKey       = "265d3c2caea271c1"
	adamCanonical    = "sweep-config/v1\nhidden=[100, 100]\nactivation=\"swish\"\nweight_scale=0.001\ndtype=\"float64\"\noptimizer=\"adam\"\niterations=0\nepochs=10\nbatch_size=100\nlearning_rate=0.0005\nlr_decay=0.9\nreg=0.25\nmomentum=0.9\ndecay_rate=0.99\nbeta1=0.9\nbeta2=0.999\nepsilon=1e-08\n"
	adamKey          = "02146facbd5be0ad"

	// oldJSON is DefaultConfig as a store held it before the new fields.
	oldJSON = `{"Hidden":[50],"Activation":"relu","WeightScale":0.0001,"DType":"float32","Optimizer":"sgd","LearningRate":0.001,"LRDecay":0.95,"Reg":0,"Momentum":0.9,"Beta1":0.9,"Beta2":0.999,"Epsilon":1e-8,"DecayRate":0.99,"BatchSize":200,"Iterations":1000,"Epochs":0}`

	pinSpec = `name = "pin"
seed = 3
[data]
source = "synthetic"
[model]
hidden = [100, 100]
activation = "swish"
weight_scale = 1e-3
[train]
optimizer = "momentum"
epochs = 10
momentum = 0.8
[search]
method = "random"
trials = 3
[search.params]
learning_rate = { log_uniform = [1e-4, 1e-2] }
reg = [0.1, 0.25]
`
	pinCanonical = "name = \"pin\"\nseed = 3\nworkers = 0\n\n[data]\nsource = \"synthetic\"\nseed = 0\n\n[model]\nhidden = [100, 100]\nactivation = \"swish\"\nweight_scale = 0.001\n\n[train]\ndtype = \"float32\"\noptimizer = \"momentum\"\nepochs = 10\nbatch_size = 200\nlearning_rate = 0.001\nlr_decay = 0.95\nreg = 0.0\nmomentum = 0.8\n\n[search]\nmethod = \"random\"\nmetric = \"val_acc\"\ntrials = 3\nsampler = \"random\"\nmax_trials = 10000\nkeep = 3\n\n[search.params]\nlearning_rate = { log_uniform = [0.0001, 0.01] }\nreg = [0.1, 0.25]\n"
)

// pinTrials are pinSpec's trials, computed before the keys of issue 13.
var pinTrials = []string{
	"8bcf5e1c7180ba9e 16061767195307470680 learning_rate=0.000173289 reg=0.1",
	"31949b2cecd398c5 6432472888174427801 learning_rate=0.000972131 reg=0.1",
	"dd3ec4939ecabf0e 18358718297999429511 learning_rate=0.00290666 reg=0.25",
}

func adamConfig() Config {
	c := DefaultConfig()
	c.Hidden = []int{100, 100}
	c.Activation, c.WeightScale, c.DType, c.Optimizer = "swish", 1e-3, "float64", "adam"
	c.Iterations, c.Epochs, c.BatchSize = 0, 10, 100
	c.LearningRate, c.LRDecay, c.Reg = 5e-4, 0.9, 0.25
	return c
}

// TestCanonicalTextCompatible: configs with the old keys only keep the
// canonical text and key they had before the new keys, whether the new
// settings hold their defaults or, as in stored configs, nothing.
func TestCanonicalTextCompatible(t *testing.T) {
	var old Config
	if err := json.Unmarshal([]byte(oldJSON), &old); err != nil {
		t.Fatal(err)
	}
	explicit := DefaultConfig()
	explicit.Dropout = []float64{0}
	tests := []struct {
		name      string
		c         Config
		canonical string
		key       string
	}{
		{"default", DefaultConfig(), defaultCanonical, defaultKey},
		{"stored before the new keys", old, defaultCanonical, defaultKey},
		{"dropout [0]", explicit, defaultCanonical, defaultKey},
		{"adam", adamConfig(), adamCanonical, adamKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.canonicalText(); got != tt.canonical {
				t.Errorf("canonical text\n%s\nwant\n%s", got, tt.canonical)
			}
			if got := tt.c.Key(); got != tt.key {
				t.Errorf("Key() = %s, want %s", got, tt.key)
			}
		})
	}
}

// TestOldConfigJSON: a config stored before the new fields behaves as the
// defaults once WithDefaults fills them in.
func TestOldConfigJSON(t *testing.T) {
	var old Config
	if err := json.Unmarshal([]byte(oldJSON), &old); err != nil {
		t.Fatal(err)
	}
	if got := old.WithDefaults(); !reflect.DeepEqual(got, DefaultConfig()) {
		t.Errorf("WithDefaults of a stored config:\n got %+v\nwant %+v", got, DefaultConfig())
	}
	// And a new config survives a store's JSON with its key.
	c := adamConfig()
	c.WeightInit, c.Normalization, c.Dropout, c.LRSchedule, c.WarmupEpochs, c.Patience = "xavier", "layernorm", []float64{0.5, 0.1}, "cosine", 2, 3
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Key() != c.Key() || !reflect.DeepEqual(back, c) {
		t.Errorf("JSON round trip: %+v (key %s), want %+v (key %s)", back, back.Key(), c, c.Key())
	}
}

// TestSpecCompatible: a spec of old keys keeps its canonical form and its
// trials; setting a new key to its default changes neither, and CheckCompatible
// lets it extend the old sweep.
func TestSpecCompatible(t *testing.T) {
	old := mustParse(t, pinSpec)
	if got := string(old.Canonical()); got != pinCanonical {
		t.Errorf("canonical form\n%s\nwant\n%s", got, pinCanonical)
	}
	var got []string
	for _, tr := range mustTrials(t, old) {
		got = append(got, fmt.Sprintf("%s %d %s", tr.Key, tr.Seed, paramString(tr)))
	}
	if !reflect.DeepEqual(got, pinTrials) {
		t.Errorf("trials\n%q\nwant\n%q", got, pinTrials)
	}

	defaults := strings.Replace(pinSpec, "[train]\n", "normalization = \"none\"\ndropout = [0]\npreprocess = \"mean_image\"\n[train]\npatience = 0\nlr_schedule = \"step\"\n", 1)
	spec := mustParse(t, defaults)
	if c := string(spec.Canonical()); c != pinCanonical {
		t.Errorf("new keys at their defaults change the canonical form:\n%s", c)
	}
	if err := CheckCompatible(old, spec); err != nil {
		t.Errorf("CheckCompatible: %v", err)
	}
	for i, tr := range mustTrials(t, spec) {
		if !strings.HasPrefix(pinTrials[i], tr.Key+" ") {
			t.Errorf("trial %d: key %s, want %s", i, tr.Key, pinTrials[i])
		}
	}

	changed := mustParse(t, strings.Replace(pinSpec, "[train]\n", "[train]\npatience = 2\n", 1))
	var ce *ChangeError
	if err := CheckCompatible(old, changed); !errors.As(err, &ce) || len(ce.Changes) != 1 ||
		ce.Changes[0] != (Change{Key: "train.patience", Old: "", New: "2"}) {
		t.Errorf("CheckCompatible with patience = 2: %v, want one change of train.patience", err)
	}
}

// TestNewKeysFixed checks how each new key's fixed value lands in the
// config, and that the canonical form keeps it.
func TestNewKeysFixed(t *testing.T) {
	tests := []struct {
		spec       string
		want       func(c Config) bool
		defaultKey bool // the config is the default one
	}{
		{"[model]\nactivation = \"tanh\"", func(c Config) bool { return c.Activation == "tanh" }, false},
		{"[train]\noptimizer = \"nesterov\"\nmomentum = 0.5", func(c Config) bool { return c.Optimizer == "nesterov" && c.Momentum == 0.5 }, false},
		{"[model]\nweight_scale = \"he\"", func(c Config) bool { return c.WeightInit == "he" && c.WeightScale == DefaultConfig().WeightScale }, false},
		{"[model]\nweight_scale = \"xavier\"", func(c Config) bool { return c.WeightInit == "xavier" }, false},
		{"[model]\nweight_scale = 1", func(c Config) bool { return c.WeightInit == "" && c.WeightScale == 1 }, false},
		{"[model]\nnormalization = \"layernorm\"", func(c Config) bool { return c.Normalization == "layernorm" }, false},
		{"[model]\ndropout = 0.25", func(c Config) bool { return reflect.DeepEqual(c.Dropout, []float64{0.25}) }, false},
		{"[model]\ndropout = [0.25]", func(c Config) bool { return reflect.DeepEqual(c.Dropout, []float64{0.25}) }, false},
		{"[model]\ndropout = 0", func(c Config) bool { return c.Dropout == nil }, true},
		{"[model]\ndropout = [-0.0]", func(c Config) bool { return c.Dropout == nil }, true},
		{"[model]\nhidden = [20, 10, 5]\ndropout = [0.5, 0, 0.25]", func(c Config) bool { return reflect.DeepEqual(c.Dropout, []float64{0.5, 0, 0.25}) }, false},
		{"[model]\npreprocess = \"none\"", func(c Config) bool { return c.Preprocess == "none" }, false},
		{"[train]\nlr_schedule = \"cosine\"\nwarmup_epochs = 4\nepochs = 5", func(c Config) bool {
			return c.LRSchedule == "cosine" && c.WarmupEpochs == 4 && c.Epochs == 5
		}, false},
		// Training by iterations, the number of epochs is the data's to decide.
		{"[train]\nlr_schedule = \"cosine\"\nwarmup_epochs = 50\niterations = 10", func(c Config) bool { return c.WarmupEpochs == 50 }, false},
		{"[train]\npatience = 3\niterations = 10", func(c Config) bool { return c.Patience == 3 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			spec := mustParse(t, "name = \"f\"\n"+tt.spec)
			if !tt.want(spec.Base) {
				t.Errorf("config %+v", spec.Base)
			}
			checkRoundTrip(t, spec)
			if got := spec.Base.Key() == DefaultConfig().Key(); got != tt.defaultKey {
				t.Errorf("key is the default config's: %t, want %t", got, tt.defaultKey)
			}
		})
	}
}

// TestDropoutKeys: one drop probability is the same config however it is
// written; a list per layer is another.
func TestDropoutKeys(t *testing.T) {
	keyOf := func(src string) string {
		t.Helper()
		return mustParse(t, "name = \"d\"\n[model]\nhidden = [10, 10]\n"+src).Base.Key()
	}
	if a, b := keyOf("dropout = 0.3"), keyOf("dropout = [0.3]"); a != b {
		t.Errorf("dropout 0.3 and [0.3]: keys %s and %s", a, b)
	}
	if a, b := keyOf(""), keyOf("dropout = [0]"); a != b {
		t.Errorf("no dropout and [0]: keys %s and %s", a, b)
	}
	if a, b := keyOf("dropout = 0.3"), keyOf("dropout = [0.3, 0.2]"); a == b {
		t.Errorf("dropout 0.3 and [0.3, 0.2]: the same key %s", a)
	}
	c := DefaultConfig()
	c.Dropout = []float64{0.5, 0.2}
	if !strings.Contains(c.canonicalText(), "\ndropout=[0.5, 0.2]\n") {
		t.Errorf("canonical text without the dropout list:\n%s", c.canonicalText())
	}
	c.WeightInit = "he"
	if !strings.Contains(c.canonicalText(), "\nweight_scale=\"he\"\n") {
		t.Errorf("canonical text without weight_scale \"he\":\n%s", c.canonicalText())
	}
}

// TestNewKeysGrid checks a grid over every form of the new keys: its size,
// its nested-loop order and each trial's config.
func TestNewKeysGrid(t *testing.T) {
	spec := mustParse(t, `name = "g"
[model]
hidden = [100, 50]
dropout = [0.4, 0.4]
[search.params]
weight_scale = ["he", 1e-2, "xavier"]
dropout = [0, [0.5, 0.2], 0.3]
normalization = ["none", "batchnorm"]
`)
	trials := mustTrials(t, spec)
	if len(trials) != 18 || spec.Len() != 18 {
		t.Fatalf("%d trials, Len %d, want 3 x 3 x 2 = 18", len(trials), spec.Len())
	}
	want := map[int]string{
		0:  `weight_scale="he" dropout=0 normalization="none"`,
		3:  `weight_scale="he" dropout=[0.5, 0.2] normalization="batchnorm"`,
		7:  `weight_scale=0.01 dropout=0 normalization="batchnorm"`,
		17: `weight_scale="xavier" dropout=0.3 normalization="batchnorm"`,
	}
	for i, w := range want {
		if got := paramString(trials[i]); got != w {
			t.Errorf("trial %d: %s, want %s", i, got, w)
		}
	}
	if c := trials[3].Config; c.WeightInit != "he" || !reflect.DeepEqual(c.Dropout, []float64{0.5, 0.2}) || c.Normalization != "batchnorm" {
		t.Errorf("trial 3 config %+v", c)
	}
	if c := trials[0].Config; c.Dropout != nil {
		t.Errorf("trial 0: searched dropout 0 left Dropout %v", c.Dropout)
	}
	if c := trials[7].Config; c.WeightInit != "" || c.WeightScale != 1e-2 {
		t.Errorf("trial 7: weight_scale 0.01 gave %q %g", c.WeightInit, c.WeightScale)
	}
	checkTrials(t, spec, trials)
	checkRoundTrip(t, spec)

	// A trial's lists are its own.
	trials[3].Dropout[0] = 0.9
	if trials[2].Dropout[0] != 0.5 || trials[3].Params[1].Value.([]float64)[0] != 0.5 || spec.Search.Params[1].Values[1].([]float64)[0] != 0.5 {
		t.Error("trials share their dropout lists")
	}
}

// TestNewKeysRandom: random draws of the new keys stay in their domains,
// are the same for the same seed and differ for another.
func TestNewKeysRandom(t *testing.T) {
	const src = `name = "r"
seed = %d
[model]
hidden = [30, 20]
[train]
epochs = 6
[search]
method = "random"
trials = 60
[search.params]
weight_scale = ["he", "xavier", 1e-3, 1e-2]
dropout = { uniform = [0.1, 0.5] }
lr_schedule = ["step", "cosine"]
warmup_epochs = { int_uniform = [1, 5] }
patience = { int_uniform = [0, 4] }
optimizer = ["sgd", "nesterov"]
momentum = { uniform = [0.5, 0.99] }
`
	spec := mustParse(t, fmt.Sprintf(src, 1))
	a := mustTrials(t, spec)
	b := mustTrials(t, mustParse(t, fmt.Sprintf(src, 1)))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two parses of one spec gave different trials")
	}
	other := mustTrials(t, mustParse(t, fmt.Sprintf(src, 2)))
	inits := map[string]int{}
	for i, tr := range a {
		if tr.Key == other[i].Key {
			t.Errorf("seeds 1 and 2 share trial %d", i)
		}
		if len(tr.Dropout) != 1 || tr.Dropout[0] < 0.1 || tr.Dropout[0] > 0.5 ||
			tr.WarmupEpochs < 1 || tr.WarmupEpochs > 5 || tr.Patience < 0 || tr.Patience > 4 {
			t.Errorf("trial %d out of its ranges: %s", i, paramString(tr))
		}
		inits[tr.WeightInit]++
	}
	if inits["he"] == 0 || inits["xavier"] == 0 || inits[""] == 0 {
		t.Errorf("weight_scale draws %v: want names and numbers", inits)
	}
	checkTrials(t, spec, a)
	checkRoundTrip(t, spec)
}

// TestFormatValue checks the forms of the new values, as listings and
// canonical texts show them.
func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{[]float64{0.5, 0.25}, "[0.5, 0.25]"},
		{[]float64{}, "[]"},
		{"he", `"he"`},
		{1e-3, "0.001"},
		{[]int{100, 50}, "[100, 50]"},
	}
	for _, tt := range tests {
		if got := FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

// TestIndexStoredValues: values read back from a store's JSON (numbers as
// float64, lists as []any) are found among a parameter's values, as TPE
// and Draw need.
func TestIndexStoredValues(t *testing.T) {
	spec := mustParse(t, "name = \"i\"\n[model]\nhidden = [10, 10]\n[search.params]\ndropout = [0, [0.5, 0.2], 0.3]\nweight_scale = [\"he\", 1e-3]")
	drop, scale := spec.Search.Params[0], spec.Search.Params[1]
	var stored []any
	if err := json.Unmarshal([]byte(`[0, [0.5, 0.2], 0.3, [0.5], [0.2, 0.5], "he", 0.001, "xavier"]`), &stored); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    Param
		v    any
		want int // -1: not found
	}{
		{drop, stored[0], 0}, {drop, stored[1], 1}, {drop, stored[2], 2},
		{drop, stored[3], -1}, {drop, stored[4], -1}, {drop, stored[5], -1},
		{scale, stored[5], 0}, {scale, stored[6], 1}, {scale, stored[7], -1}, {scale, stored[1], -1},
	}
	for _, tt := range tests {
		k, ok := tt.p.Index(tt.v)
		if !ok {
			k = -1
		}
		if k != tt.want {
			t.Errorf("%s.Index(%v) = %d, want %d", tt.p.Name, tt.v, k, tt.want)
		}
	}
}

// TestTrialsOwnDropout: a fixed list of drop probabilities is copied into
// each trial, and Clone copies it.
func TestTrialsOwnDropout(t *testing.T) {
	spec := mustParse(t, "name = \"d\"\n[model]\nhidden = [10, 10]\ndropout = [0.5, 0.2]\n[search.params]\nreg = [0, 1]")
	trials := mustTrials(t, spec)
	trials[0].Dropout[0] = 0.9
	c := trials[1].Clone()
	c.Dropout[1] = 0.9
	if trials[1].Dropout[0] != 0.5 || trials[1].Dropout[1] != 0.2 || spec.Base.Dropout[0] != 0.5 {
		t.Errorf("trials share their dropout lists: %v %v, base %v", trials[0].Dropout, trials[1].Dropout, spec.Base.Dropout)
	}
}
