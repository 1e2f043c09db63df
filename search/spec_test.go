package search

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/specs/bad/*.err from the current messages")

// specFiles returns the .toml files matching pattern; it fails the test when
// there are none, so a moved directory cannot pass silently.
func specFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no spec files match %s (err %v)", pattern, err)
	}
	return files
}

// TestGoodSpecs parses every good spec, the example specs of sweeps/
// included: each is valid, survives the canonical round trip and lists its
// trials with distinct keys.
func TestGoodSpecs(t *testing.T) {
	files := append(specFiles(t, "testdata/specs/good/*.toml"), specFiles(t, "../sweeps/*.toml")...)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			spec, err := ParseFile(file)
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			checkRoundTrip(t, spec)
			if spec.Search.Adaptive() {
				// Its trials are decided as it runs.
				if _, err := spec.Trials(); !errors.Is(err, ErrInvalid) {
					t.Errorf("Trials of an adaptive search: %v, want ErrInvalid", err)
				}
				return
			}
			trials, err := spec.Trials()
			if err != nil {
				t.Fatalf("Trials: %v", err)
			}
			if len(trials) != spec.Len() {
				t.Errorf("%d trials, Len() = %d", len(trials), spec.Len())
			}
			checkTrials(t, spec, trials)
		})
	}
}

// checkRoundTrip checks that the canonical form parses back to an equal spec
// and is a fixed point.
func checkRoundTrip(t testing.TB, spec *Spec) {
	t.Helper()
	canon := spec.Canonical()
	again, err := Parse("canonical.toml", canon)
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, canon)
	}
	if !reflect.DeepEqual(spec, again) {
		t.Fatalf("canonical round trip changed the spec:\n got %#v\nwant %#v\ncanonical:\n%s", again, spec, canon)
	}
	if c2 := again.Canonical(); string(c2) != string(canon) {
		t.Fatalf("canonical form is not a fixed point:\n%s\nthen\n%s", canon, c2)
	}
}

// checkTrials checks the invariants of every trial list.
func checkTrials(t testing.TB, spec *Spec, trials []Trial) {
	t.Helper()
	keys := make(map[string]int)
	for i, tr := range trials {
		if tr.Index != i {
			t.Errorf("trial %d has Index %d", i, tr.Index)
		}
		if j, dup := keys[tr.Key]; dup {
			t.Errorf("trials %d and %d have the same key %s", j, i, tr.Key)
		}
		keys[tr.Key] = i
		if tr.Key != tr.Config.Key() || tr.Seed != SeedFor(spec.Seed, tr.Key) {
			t.Errorf("trial %d: key %s seed %d, want %s %d", i, tr.Key, tr.Seed, tr.Config.Key(), SeedFor(spec.Seed, tr.Key))
		}
		if (tr.Iterations > 0) == (tr.Epochs > 0) {
			t.Errorf("trial %d: iterations %d, epochs %d: want exactly one", i, tr.Iterations, tr.Epochs)
		}
		if len(tr.Params) != len(spec.Search.Params) {
			t.Fatalf("trial %d has %d params, want %d", i, len(tr.Params), len(spec.Search.Params))
		}
		for j, pv := range tr.Params {
			def := lookupParam(pv.Name)
			if pv.Name != spec.Search.Params[j].Name {
				t.Errorf("trial %d param %d is %s, want %s", i, j, pv.Name, spec.Search.Params[j].Name)
			}
			if msg := def.check(pv.Value); msg != "" {
				t.Errorf("trial %d: %s: %s", i, pv, msg)
			}
			if got := def.get(&tr.Config); !reflect.DeepEqual(got, pv.Value) {
				t.Errorf("trial %d: config %s = %v, param says %v", i, pv.Name, got, pv.Value)
			}
		}
	}
}

// TestBadSpecs checks each bad spec's messages against its .err file.
func TestBadSpecs(t *testing.T) {
	for _, file := range specFiles(t, "testdata/specs/bad/*.toml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			spec, err := ParseFile(file)
			if err == nil {
				t.Fatalf("ParseFile succeeded: %+v", spec)
			}
			var se *SpecError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("error is %T %v, want a *SpecError", err, err)
			}
			for _, p := range se.Problems {
				if p.File != file || p.Err == nil || p.Msg == "" {
					t.Errorf("incomplete problem %#v", p)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".toml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("messages differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestSentinels checks that each kind of mistake wraps its sentinel error.
func TestSentinels(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want error
	}{
		{"syntax", "name = ", ErrSyntax},
		{"unknown key", "name = \"a\"\n[train]\nlerning_rate = 1", ErrUnknownKey},
		{"unknown param", "name = \"a\"\n[search.params]\nlerning_rate = [1]", ErrUnknownParam},
		{"type", "name = \"a\"\n[train]\nreg = \"x\"", ErrType},
		{"range", "name = \"a\"\n[train]\nreg = -1", ErrInvalid},
		{"enum", "name = \"a\"\n[model]\nactivation = \"sigmoid\"", ErrInvalid},
		{"missing name", "seed = 1", ErrMissing},
		{"random without trials", "name = \"a\"\n[search]\nmethod = \"random\"", ErrMissing},
		{"iterations and epochs", "name = \"a\"\n[train]\niterations = 1\nepochs = 1", ErrConflict},
		{"grid too big", "name = \"a\"\n[search]\nmax_trials = 1\n[search.params]\nreg = [0, 1]", ErrTooManyTrials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.toml", []byte(tt.spec))
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) = %v, want an error wrapping %v", tt.spec, err, tt.want)
			}
		})
	}
}

// TestDefaults checks the settings of a spec that gives only a name.
func TestDefaults(t *testing.T) {
	spec, err := Parse("min.toml", []byte(`name = "min"`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Name: "min",
		Data: Data{Source: "embedded"},
		Base: Config{
			Hidden: []int{50}, Activation: "relu", WeightScale: 1e-4, Normalization: "none", Preprocess: "mean_image",
			DType: "float32", Optimizer: "sgd", LearningRate: 1e-3, LRDecay: 0.95, LRSchedule: "step", Reg: 0,
			Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, DecayRate: 0.99,
			BatchSize: 200, Iterations: 1000,
		},
		Search: Search{Method: "grid", Metric: "val_acc", MaxTrials: 10000, Keep: 3},
	}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("defaults:\n got %#v\nwant %#v", spec, want)
	}
	if !spec.Search.Maximize() {
		t.Error("val_acc is not maximised")
	}
	trials, err := spec.Trials()
	if err != nil || len(trials) != 1 || len(trials[0].Params) != 0 {
		t.Fatalf("Trials() = %v, %v; want one trial without params", trials, err)
	}
}

// TestResolvedSettings checks settings that depend on other keys.
func TestResolvedSettings(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want func(*Spec) bool
	}{
		{"fashion-mnist default path", "[data]\nsource = \"fashion-mnist\"",
			func(s *Spec) bool { return s.Data.Path == "/usr/share/datasets/fashion-mnist" }},
		{"epochs replaces the default iterations", "[train]\nepochs = 10",
			func(s *Spec) bool { return s.Base.Epochs == 10 && s.Base.Iterations == 0 }},
		{"searched epochs too", "[search.params]\nepochs = [1, 2]",
			func(s *Spec) bool { return s.Base.Epochs == 0 && s.Base.Iterations == 0 }},
		{"val_loss is minimised", "[search]\nmetric = \"val_loss\"",
			func(s *Spec) bool { return !s.Search.Maximize() }},
		{"negative zero is zero", "[search.params]\nreg = [-0.0, 1]",
			func(s *Spec) bool { return FormatValue(s.Search.Params[0].Values[0]) == "0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse("t.toml", []byte("name = \"t\"\n"+tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(spec) {
				t.Errorf("unexpected settings %+v", spec)
			}
			checkRoundTrip(t, spec)
		})
	}
}

// TestProblemFormat checks the file:line: key: message form.
func TestProblemFormat(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.toml", Line: 3, Key: "train.reg", Msg: "bad"}, "a.toml:3: train.reg: bad"},
		{Problem{File: "a.toml", Key: "name", Msg: "required"}, "a.toml: name: required"},
		{Problem{File: "a.toml", Line: 1, Msg: "syntax"}, "a.toml:1: syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDidYouMean(t *testing.T) {
	keys := []string{"learning_rate", "lr_decay", "reg", "batch_size", "epochs"}
	tests := []struct{ in, want string }{
		{"learnig_rate", "learning_rate"},
		{"learningrate", "learning_rate"},
		{"lr_dacay", "lr_decay"},
		{"rge", "reg"},
		{"epoch", "epochs"},
		{"batchsize", "batch_size"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := closest(tt.in, keys); got != tt.want {
				t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestExampleSpecsExplain: every example spec starts with a comment that
// says what it shows.
func TestExampleSpecsExplain(t *testing.T) {
	for _, file := range specFiles(t, "../sweeps/*.toml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(src), "# ") {
				t.Errorf("%s does not start with a comment saying what it shows", file)
			}
		})
	}
}

// TestRelativeDataPath: a relative data path names files beside the spec,
// whatever the working directory, and is held absolute.
func TestRelativeDataPath(t *testing.T) {
	dir := t.TempDir()
	src := []byte("name = \"rel\"\n[data]\nsource = \"mnist\"\npath = \"%s\"\n")
	for _, tt := range []struct{ file, path, want string }{
		{filepath.Join(dir, "specs", "x.toml"), "../mnist", filepath.Join(dir, "mnist")},
		{filepath.Join(dir, "x.toml"), "data/mnist", filepath.Join(dir, "data", "mnist")},
		{filepath.Join(dir, "x.toml"), "/abs/mnist", "/abs/mnist"},
		{filepath.Join(dir, "x.toml"), "~/mnist", "~/mnist"},
	} {
		spec, err := Parse(tt.file, []byte(strings.Replace(string(src), "%s", tt.path, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if spec.Data.Path != tt.want {
			t.Errorf("%s in %s: path %q, want %q", tt.path, tt.file, spec.Data.Path, tt.want)
		}
	}
	// A spec named relative to the working directory: its path is still
	// resolved against the spec's directory, then made absolute.
	spec, err := Parse(filepath.Join("testdata", "x.toml"), []byte(strings.Replace(string(src), "%s", "mnist", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs(filepath.Join("testdata", "mnist")); spec.Data.Path != want {
		t.Errorf("path %q, want %q", spec.Data.Path, want)
	}
}
