package search

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestRungs(t *testing.T) {
	tests := []struct {
		min, max, eta int
		want          []int
		brackets      int
	}{
		{1, 10, 3, []int{1, 3, 9, 10}, 3},
		{1, 9, 3, []int{1, 3, 9}, 3},
		{1, 27, 3, []int{1, 3, 9, 27}, 4},
		{3, 10, 3, []int{3, 9, 10}, 2},
		{4, 4, 2, []int{4}, 1},
		{100, 1000, 3, []int{100, 300, 900, 1000}, 3},
		{1, 1000, 10, []int{1, 10, 100, 1000}, 4},
		{1, maxInt, 2, nil, 31}, // 2^30 < maxInt = 2^31-1: 31 powers, then the max
		{math.MaxInt / 4, math.MaxInt, math.MaxInt / 8, []int{math.MaxInt / 4, math.MaxInt}, 1}, // no overflow
	}
	for _, tt := range tests {
		got, err := Rungs(tt.min, tt.max, tt.eta)
		if err != nil {
			t.Errorf("Rungs(%d, %d, %d): %v", tt.min, tt.max, tt.eta, err)
			continue
		}
		if tt.want == nil { // only the shape
			if len(got) != 32 || got[30] != 1<<30 || got[31] != maxInt {
				t.Errorf("Rungs(%d, %d, %d) = %d rungs ending %v", tt.min, tt.max, tt.eta, len(got), got[len(got)-2:])
			}
		} else if !slices.Equal(got, tt.want) {
			t.Errorf("Rungs(%d, %d, %d) = %v, want %v", tt.min, tt.max, tt.eta, got, tt.want)
		}
		// floor(log_eta(max/min)) + 1
		if b, err := Brackets(tt.min, tt.max, tt.eta); err != nil || b != tt.brackets {
			t.Errorf("Brackets(%d, %d, %d) = %d, %v; want %d", tt.min, tt.max, tt.eta, b, err, tt.brackets)
		}
	}
	for _, bad := range [][3]int{{1, 10, 1}, {1, 10, 0}, {0, 10, 3}, {11, 10, 3}, {-1, 10, 3}} {
		if _, err := Rungs(bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rungs%v: %v, want ErrInvalid", bad, err)
		}
		if _, err := Brackets(bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Brackets%v: %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseBudget(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "10m", want: 10 * time.Minute},
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "2.5h", want: 150 * time.Minute},
		{in: "10", err: `invalid value: "10" is not a duration: give a number with a unit, e.g. "90s", "10m" or "1h30m"`},
		{in: "ten minutes", err: `invalid value: "ten minutes" is not a duration: give a number, e.g. "90s", "10m" or "1h30m"`},
		{in: "", err: `invalid value: "" is not a duration: give a number, e.g. "90s", "10m" or "1h30m"`},
		{in: "0s", err: `invalid value: "0s": a budget must be positive`},
		{in: "-5m", err: `invalid value: "-5m": a budget must be positive`},
	}
	for _, tt := range tests {
		got, err := ParseBudget(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseBudget(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalid)):
			t.Errorf("ParseBudget(%q) error %v, want %s", tt.in, err, tt.err)
		}
	}
}

// play runs a scheduler with one worker: every Start is recorded done at
// once. It returns the trials in the order started.
func play(t *testing.T, s Scheduler, h []TrialRecord) ([]Trial, []TrialRecord) {
	t.Helper()
	var started []Trial
	for range 10000 {
		d, err := s.Next(h)
		if err != nil {
			t.Fatal(err)
		}
		switch d.Action {
		case Start:
			if d.Number != NextNumber(h) || d.Pause || d.Target != resourceOf(d.Trial.Config) {
				t.Fatalf("start trial %d to %d (pause %v) after %d trials", d.Number, d.Target, d.Pause, len(h))
			}
			started = append(started, d.Trial)
			h = append(h, TrialRecord{Number: d.Number, Key: d.Trial.Key, Params: d.Trial.Params, Status: StatusDone,
				Evals: []Eval{{Resource: d.Target, Value: 0.5}}})
		case Finished:
			return started, h
		default:
			t.Fatalf("after %d trials: %v (%s)", len(h), d.Action, d.Reason.Text)
		}
	}
	t.Fatal("no end")
	return nil, nil
}

// TestRandomThroughSeam: random search through the seam, with the random
// sampler, starts Spec.Trials' trials in order, in a continuous space and
// in a finite one nearly used up (redraws and the fallback).
func TestRandomThroughSeam(t *testing.T) {
	for name, src := range map[string]string{
		"continuous": `name = "r"
seed = 7
[search]
method = "random"
trials = 40
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
hidden = [[50], [100]]
`,
		"finite, every point": `name = "r"
seed = 7
[search]
method = "random"
trials = 24
[search.params]
learning_rate = [1e-3, 5e-3, 1e-4, 5e-4]
reg = [0.1, 0.25]
lr_decay = [0.55, 0.6, 0.8]
`,
	} {
		t.Run(name, func(t *testing.T) {
			spec := mustParse(t, src)
			want := mustTrials(t, spec)
			got, _ := play(t, NewRandom(spec, NewRandomSampler(spec), spec.Search.Trials), nil)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("through the seam:\n%v\nSpec.Trials:\n%v", got, want)
			}
		})
	}
}

// TestFixed: a grid through the seam starts its cells in order; an
// extended grid starts only its new cells, numbered after the old.
func TestFixed(t *testing.T) {
	small := mustParse(t, "name = \"g\"\n[search.params]\nlearning_rate = [1e-3, 1e-4]\nreg = [0.1]")
	big := mustParse(t, "name = \"g\"\n[search.params]\nlearning_rate = [1e-2, 1e-3, 1e-4]\nreg = [0.1, 0.5]")
	fs, err := NewFixed(small)
	if err != nil {
		t.Fatal(err)
	}
	first, h := play(t, fs, nil)
	if !reflect.DeepEqual(first, mustTrials(t, small)) {
		t.Errorf("grid through the seam: %v", first)
	}
	fb, _ := NewFixed(big)
	more, h := play(t, fb, h)
	if len(more) != 4 || len(h) != 6 || h[5].Number != 6 {
		t.Fatalf("extension started %d trials, sweep has %d", len(more), len(h))
	}
	for _, tr := range more {
		if hasKey(h[:2], tr.Key) {
			t.Errorf("extension ran %v again", tr.Params)
		}
	}
	h[3].Status = StatusRunning
	if d, _ := fb.Next(h); d.Action != Wait {
		t.Errorf("with a trial running: %v, want wait", d.Action)
	}
}

// TestDraw: a sampler's values must be points of the space; numbers are
// given the parameter's type.
func TestDraw(t *testing.T) {
	spec := mustParse(t, `name = "d"
[search]
method = "random"
trials = 5
[search.params]
batch_size = [100, 200]
lr_decay = { uniform = [0.5, 1.0] }
`)
	for _, tt := range []struct {
		values []any
		ok     bool
	}{
		{[]any{200, 0.75}, true},
		{[]any{200.0, 0.75}, true}, // a float64 200 is the int 200
		{[]any{300, 0.75}, false},
		{[]any{200, 1.5}, false},
		{[]any{200, 1}, false},
		{[]any{200}, false},
	} {
		tr, err := spec.Draw(nil, 1, fixedSampler(tt.values))
		switch {
		case tt.ok && (err != nil || tr.BatchSize != 200 || tr.LRDecay != 0.75):
			t.Errorf("%v: %v, %v", tt.values, tr.Config, err)
		case !tt.ok && !errors.Is(err, ErrInvalid):
			t.Errorf("%v: %v, want ErrInvalid", tt.values, err)
		}
	}
	// A sampler that repeats itself: 64 redraws, then the first unused
	// point of a finite space.
	finite := mustParse(t, "name = \"f\"\n[search]\nmethod = \"random\"\ntrials = 2\n[search.params]\nbatch_size = [100, 200]")
	h := []TrialRecord{{Number: 1, Key: mustTrials(t, finite)[0].Key}}
	same := fixedSampler{mustTrials(t, finite)[0].Params[0].Value}
	if tr, err := finite.Draw(h, 2, same); err != nil || hasKey(h, tr.Key) {
		t.Errorf("fallback: %v, %v", tr.Params, err)
	}
	if _, err := finite.Draw(append(h, TrialRecord{Number: 2, Key: mustTrials(t, finite)[1].Key}), 3, same); !errors.Is(err, ErrTooManyTrials) {
		t.Errorf("space used up: %v, want ErrTooManyTrials", err)
	}
}

type fixedSampler []any

func (f fixedSampler) Sample([]TrialRecord, int, int) ([]any, error) { return slices.Clone(f), nil }

func TestParamIndex(t *testing.T) {
	spec := mustParse(t, `name = "p"
[search]
method = "random"
trials = 5
[search.params]
hidden = [[50], [100, 100]]
weight_scale = { log_uniform = [1e-5, 1e-1], steps = 9 }
lr_decay = { uniform = [0.5, 1.0], steps = 6 }
batch_size = { int_uniform = [50, 60], steps = 4 }
momentum = { uniform = [0.5, 0.9] }
iterations = { int_uniform = [10, 20] }
optimizer = ["sgd", "momentum"]
`)
	for _, p := range spec.Search.Params {
		for k := range p.Len() {
			if got, ok := p.Index(p.At(k)); !ok || got != k {
				t.Errorf("%s: Index(At(%d) = %v) = %d, %v", p.Name, k, p.At(k), got, ok)
			}
		}
		if p.Len() == 0 {
			if _, ok := p.Index(0.7); ok {
				t.Errorf("%s: Index of a continuous range", p.Name)
			}
		}
	}
	hidden := spec.Search.Params[0]
	if k, ok := hidden.Index([]any{100.0, 100.0}); !ok || k != 1 {
		t.Errorf("hidden from JSON: %d, %v", k, ok)
	}
	lr := spec.Search.Params[2]
	for _, v := range []any{0.55, 1.5, "x", 0.6000001} {
		if _, ok := lr.Index(v); ok {
			t.Errorf("lr_decay.Index(%v) found", v)
		}
	}
	m := spec.Search.Params[4]
	if got := m.Round(0.123456789); got != 0.5 {
		t.Errorf("Round below min: %v", got)
	}
	if got := m.Round(0.612345678); got != 0.612346 {
		t.Errorf("Round: %v", got)
	}
}

func TestCompare(t *testing.T) {
	nan := math.NaN()
	acc, loss := Search{Metric: "val_acc"}, Search{Metric: "val_loss"}
	for _, tt := range []struct {
		s    Search
		a, b float64
		want int
	}{
		{acc, 0.9, 0.8, -1}, {acc, 0.8, 0.9, 1}, {acc, 0.8, 0.8, 0}, {acc, nan, 0.1, 1}, {acc, 0.1, nan, -1}, {acc, nan, nan, 0},
		{loss, 0.9, 0.8, 1}, {loss, nan, 5, 1}, {loss, math.Inf(1), nan, -1},
	} {
		if got := tt.s.Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: Compare(%v, %v) = %d, want %d", tt.s.Metric, tt.a, tt.b, got, tt.want)
		}
	}
}
