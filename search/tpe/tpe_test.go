package tpe_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/tpe"
)

const spaceSpec = `name = "space"
seed = 11
[train]
epochs = 10
[search]
method = "random"
trials = 200
[search.params]
hidden = [[50], [100], [200], [400]]
learning_rate = { log_uniform = [1e-5, 1e-2] }
reg = { log_uniform = [1e-4, 1.0] }
lr_decay = { uniform = [0.5, 1.0] }
batch_size = { int_uniform = [50, 400] }
weight_scale = { log_uniform = [1e-5, 1e-2], steps = 7 }
`

func mustParse(t testing.TB, src string) *search.Spec {
	t.Helper()
	spec, err := search.Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return spec
}

// objective is a smooth stand-in for validation accuracy: best at
// learning_rate 1e-3, reg 1e-2, lr_decay 0.9.
func objective(c search.Config) float64 {
	return 0.9 - 0.1*math.Abs(math.Log10(c.LearningRate)+3) - 0.05*math.Abs(math.Log10(c.Reg)+2) - 0.2*math.Abs(c.LRDecay-0.9)
}

// run draws n trials one at a time with smp, each done with objective's
// value before the next is drawn (one worker), and returns the history.
func run(t testing.TB, spec *search.Spec, smp search.Sampler, n int) []search.TrialRecord {
	var h []search.TrialRecord
	for i := 1; i <= n; i++ {
		tr, err := spec.Draw(h, i, smp)
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, search.TrialRecord{Number: i, Key: tr.Key, Params: tr.Params, Status: search.StatusDone,
			Evals: []search.Eval{{Resource: 10, Value: objective(tr.Config)}}})
	}
	return h
}

// TestDeterministic: the same history, seed and trial number give the same
// values, from any Sampler and goroutine; another trial number or seed
// gives others.
func TestDeterministic(t *testing.T) {
	spec := mustParse(t, spaceSpec)
	h := run(t, spec, tpe.New(spec, tpe.Options{}), 30)
	want, err := tpe.New(spec, tpe.Options{}).Sample(h, 31, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := tpe.New(spec, tpe.Options{})
	var wg sync.WaitGroup
	got := make([][]any, 8)
	for i := range got {
		wg.Go(func() { got[i], _ = s.Sample(h, 31, 0) })
	}
	wg.Wait()
	for i, g := range got {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("goroutine %d: %v, want %v", i, g, want)
		}
	}
	other, _ := s.Sample(h, 32, 0)
	again, _ := s.Sample(h, 31, 1)
	reseeded := *spec
	reseeded.Seed++
	seed, _ := tpe.New(&reseeded, tpe.Options{}).Sample(h, 31, 0)
	for name, v := range map[string][]any{"trial 32": other, "attempt 1": again, "seed 12": seed} {
		if reflect.DeepEqual(v, want) {
			t.Errorf("%s: the same values as trial 31: %v", name, v)
		}
	}
}

// TestStartup: until 10 trials have results, TPE's trials are random
// search's, so a TPE sweep begins as the random sweep of its seed does.
func TestStartup(t *testing.T) {
	spec := mustParse(t, spaceSpec)
	random := mustTrialsOf(t, spec)
	h := run(t, spec, tpe.New(spec, tpe.Options{}), 11)
	for i, tr := range h[:10] {
		if tr.Key != random[i].Key {
			t.Errorf("trial %d: %v, random search's %v", i+1, tr.Params, random[i].Params)
		}
	}
	if h[10].Key == random[10].Key {
		t.Errorf("trial 11 is random search's: TPE did not take over")
	}
}

func mustTrialsOf(t testing.TB, spec *search.Spec) []search.Trial {
	t.Helper()
	trials, err := spec.Trials()
	if err != nil {
		t.Fatal(err)
	}
	return trials
}

// TestInSpace: every value TPE proposes is a point of the space: inside
// the bounds, floats at 6 significant digits, integers whole, steps and
// list values as listed.
func TestInSpace(t *testing.T) {
	spec := mustParse(t, spaceSpec)
	s := tpe.New(spec, tpe.Options{})
	h := run(t, spec, s, 60)
	for n := 61; n <= 160; n++ {
		values, err := s.Sample(h, n, 0)
		if err != nil {
			t.Fatal(err)
		}
		for j, p := range spec.Search.Params {
			v := values[j]
			if p.Len() > 0 {
				if k, ok := p.Index(v); !ok || !reflect.DeepEqual(p.At(k), v) {
					t.Errorf("trial %d: %s = %#v is not one of its values", n, p.Name, v)
				}
				continue
			}
			f := v.(float64)
			if r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64); f != r || f < p.Min || f > p.Max {
				t.Errorf("trial %d: %s = %v: want 6 significant digits in [%g, %g]", n, p.Name, f, p.Min, p.Max)
			}
		}
	}
}

// TestFindsBetter: on a smooth objective, TPE's trials after the startup
// are better than random search's: it learns where the good trials are.
func TestFindsBetter(t *testing.T) {
	spec := mustParse(t, spaceSpec)
	median := func(h []search.TrialRecord) float64 {
		var vs []float64
		for _, tr := range h[10:] {
			vs = append(vs, tr.Evals[0].Value)
		}
		sort.Float64s(vs)
		return vs[len(vs)/2]
	}
	tp := median(run(t, spec, tpe.New(spec, tpe.Options{}), 80))
	rnd := median(run(t, spec, search.NewRandomSampler(spec), 80))
	if tp <= rnd+0.05 {
		t.Errorf("median value of trials 11-80: TPE %.3f, random %.3f; want TPE ahead by 0.05", tp, rnd)
	}
}

// TestRandomScheduler runs random search with TPE through the seam: the
// scheduler draws each trial when a worker asks, seeing the results so far.
func TestRandomScheduler(t *testing.T) {
	spec := mustParse(t, spaceSpec)
	smp := tpe.New(spec, tpe.Options{})
	want := run(t, spec, smp, 15)
	sch := search.NewRandom(spec, smp, 15)
	var h []search.TrialRecord
	for {
		d, err := sch.Next(h)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != search.Start {
			if d.Action != search.Finished || len(h) != 15 {
				t.Fatalf("after %d trials: %v (%s)", len(h), d.Action, d.Reason.Text)
			}
			break
		}
		if d.Target != 10 || d.Pause {
			t.Fatalf("trial %d: target %d, pause %v; want 10 epochs to the end", d.Number, d.Target, d.Pause)
		}
		h = append(h, search.TrialRecord{Number: d.Number, Key: d.Trial.Key, Params: d.Trial.Params, Status: search.StatusDone,
			Evals: []search.Eval{{Resource: 10, Value: objective(d.Trial.Config)}}})
	}
	keys := func(h []search.TrialRecord) []string {
		var ks []string
		for _, tr := range h {
			ks = append(ks, tr.Key)
		}
		return ks
	}
	if !slices.Equal(keys(h), keys(want)) {
		t.Errorf("scheduled trials differ from drawn ones")
	}
}

// BenchmarkSample is the cost of one TPE proposal, by the number of trials
// with results in the history.
func BenchmarkSample(b *testing.B) {
	spec := mustParse(b, spaceSpec)
	spec.Search.Trials = 10000
	for _, n := range []int{100, 1000, 10000} {
		h := run(b, spec, search.NewRandomSampler(spec), n)
		s := tpe.New(spec, tpe.Options{})
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sample(h, n+1, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNewKeys runs TPE over the keys of issue 13 with a history as a store
// gives it back (JSON: numbers as float64, lists as []any): every proposal
// is a point of the space, and TPE learns which weight initialisation and
// dropout are good faster than random search does.
func TestNewKeys(t *testing.T) {
	const head = `name = "new"
seed = 7
[model]
hidden = [20, 10]
[train]
epochs = 10
lr_schedule = "cosine"
[search]
method = "random"
trials = 100
[search.params]
weight_scale = ["xavier", 1e-3, "he", 1e-2]
normalization = ["none", "batchnorm", "layernorm"]
warmup_epochs = { int_uniform = [0, 3] }
patience = [0, 2]
`
	// Best with He initialisation and a dropout of 0.1 on every layer.
	objective := func(c search.Config) float64 {
		v := 0.5 - 0.5*math.Abs(c.Dropout[0]-0.1)
		if c.WeightInit == "he" {
			v += 0.3
		}
		if len(c.Dropout) > 1 {
			v -= 0.5 * math.Abs(c.Dropout[1]-0.1)
		}
		return v
	}
	for _, dropout := range []string{
		"dropout = { uniform = [0.05, 0.6] }",
		"dropout = [[0.5, 0.4], [0.3, 0.5], 0.6, [0.1, 0.1], 0.4]",
	} {
		t.Run(dropout, func(t *testing.T) {
			spec := mustParse(t, head+dropout)
			// draw returns the keys of 60 trials drawn one by one with smp,
			// the history held as a store holds it (JSON) or as drawn, and
			// how many of trials 11-60 have He initialisation.
			draw := func(smp search.Sampler, json bool) ([]string, int) {
				var h []search.TrialRecord
				var keys []string
				he := 0
				for i := 1; i <= 60; i++ {
					tr, err := spec.Draw(h, i, smp)
					if err != nil {
						t.Fatal(err)
					}
					if i > 10 && tr.WeightInit == "he" {
						he++
					}
					ps := tr.Params
					if json {
						ps = stored(t, ps)
					}
					keys = append(keys, tr.Key)
					h = append(h, search.TrialRecord{Number: i, Key: tr.Key, Params: ps, Status: search.StatusDone,
						Evals: []search.Eval{{Resource: 10, Value: objective(tr.Config)}}})
				}
				return keys, he
			}
			keys, tp := draw(tpe.New(spec, tpe.Options{}), true)
			if again, _ := draw(tpe.New(spec, tpe.Options{}), false); !slices.Equal(keys, again) {
				t.Errorf("TPE proposes other trials from a stored history than from the drawn one")
			}
			if _, rnd := draw(search.NewRandomSampler(spec), true); 2*tp < 3*rnd {
				t.Errorf("trials 11-60 with weight_scale \"he\": TPE %d, random %d; want TPE at 1.5 times random's at least", tp, rnd)
			}
		})
	}
}

// stored returns ps as a store reads them back from JSON.
func stored(t *testing.T, ps []search.ParamValue) []search.ParamValue {
	out := make([]search.ParamValue, len(ps))
	for i, p := range ps {
		b, err := json.Marshal(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out[i] = search.ParamValue{Name: p.Name, Value: v}
	}
	return out
}
