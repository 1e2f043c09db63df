package tpe

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sweep-dev/sweep/search"
)

func mustParse(t testing.TB, src string) *search.Spec {
	t.Helper()
	spec, err := search.Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return spec
}

// tinySpec is the space of the tiny history.
const tinySpec = `name = "tiny"
seed = 5
[train]
epochs = 9
[search]
method = "random"
trials = 30
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-1] }
lr_decay = { uniform = [0.5, 1.0] }
batch_size = { int_uniform = [50, 400] }
hidden = [[50], [100], [200]]
`

// rec makes a trial record of the tiny space.
func rec(n int, st search.Status, lr, decay float64, batch int, hidden []int, evals ...search.Eval) search.TrialRecord {
	return search.TrialRecord{Number: n, Key: fmt.Sprint("k", n), Status: st, Evals: evals, Params: []search.ParamValue{
		{Name: "learning_rate", Value: lr}, {Name: "lr_decay", Value: decay},
		{Name: "batch_size", Value: batch}, {Name: "hidden", Value: hidden},
	}}
}

func ev(pairs ...float64) []search.Eval {
	var es []search.Eval
	for i := 0; i < len(pairs); i += 2 {
		es = append(es, search.Eval{Resource: int(pairs[i]), Value: pairs[i+1]})
	}
	return es
}

// tinyHistory has every kind of trial: done, paused and pruned at 1 and 3
// epochs, diverged, failed, and in flight (running, pending, interrupted).
func tinyHistory() []search.TrialRecord {
	const (
		done, paused, pruned = search.StatusDone, search.StatusPaused, search.StatusPruned
	)
	return []search.TrialRecord{
		rec(1, done, 1e-3, 0.9, 200, []int{100}, ev(9, 0.50)...),
		rec(2, done, 3e-4, 0.8, 100, []int{50}, ev(9, 0.42)...),
		rec(3, paused, 2e-3, 0.95, 250, []int{200}, ev(1, 0.61)...),
		rec(4, paused, 5e-3, 0.7, 300, []int{100}, ev(1, 0.35, 2, 0.40, 3, 0.45)...),
		rec(5, pruned, 1e-5, 0.5, 50, []int{50}, ev(1, 0.30)...),
		rec(6, search.StatusDiverged, 9e-2, 0.99, 400, []int{200}, ev(1, 0.2)...),
		rec(7, search.StatusFailed, 1e-4, 0.6, 120, []int{100}),
		rec(8, search.StatusRunning, 1.5e-3, 0.92, 210, []int{100}, ev(1, 0.5)...),
		rec(9, done, 1.2e-3, 0.93, 180, []int{100}, ev(9, 0.55)...),
		rec(10, paused, 8e-4, 0.85, 220, []int{200}, ev(3, 0.52)...),
		rec(11, paused, 2e-5, 0.55, 60, []int{50}, ev(1, 0.20)...),
		rec(12, search.StatusPending, 4e-3, 0.75, 350, []int{200}),
		rec(13, done, 6e-4, 0.88, 150, []int{50}, ev(9, 0.38)...),
		rec(14, paused, 2.5e-3, 0.9, 260, []int{100}, ev(3, 0.47)...),
		rec(15, pruned, 7e-5, 0.65, 90, []int{200}, ev(1, 0.33)...),
		rec(16, search.StatusInterrupted, 3e-3, 0.97, 230, []int{50}),
	}
}

func numbers(ts []*search.TrialRecord) []int {
	var ns []int
	for _, t := range ts {
		ns = append(ns, t.Number)
	}
	return ns
}

func TestGamma(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 1, 9: 1, 10: 1, 11: 2, 12: 2, 20: 2, 21: 3, 30: 3, 31: 4, 240: 24, 241: 25, 250: 25, 10000: 25} {
		if got := Gamma(n); got != want {
			t.Errorf("Gamma(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestSplit checks below and above against splits worked out by hand.
func TestSplit(t *testing.T) {
	spec := mustParse(t, tinySpec)
	paused := func(n int, evals ...float64) search.TrialRecord {
		return rec(n, search.StatusPaused, 1e-3, 0.9, 100, []int{50}, ev(evals...)...)
	}
	tests := []struct {
		name        string
		metric      string
		h           []search.TrialRecord
		n           int
		below       []int
		above       []int
		belowNoLiar []int // without the constant liar
	}{{
		// 12 trials with results (not 7, failed; not 8, 12, 16, in flight):
		// gamma(12) = 2. Done first by value: 9 (0.55), 1 (0.50), 2, 13;
		// then 3 epochs: 10 (0.52), 14, 4; then 1 epoch: 3 (0.61!), 15, 5,
		// 11; then 6, diverged. In-flight trials are above, as liars.
		name:  "tiny",
		h:     tinyHistory(),
		n:     12,
		below: []int{1, 9},
		above: []int{2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16},
	}, {
		// No trial done: more epochs rank first, 0.9 at 1 epoch below 0.3
		// at 3 epochs. gamma(11) = 2.
		name: "epochs first",
		h: []search.TrialRecord{paused(1, 1, 0.9), paused(2, 1, 0.1, 3, 0.3), paused(3, 3, 0.5), paused(4, 1, 0.7),
			paused(5, 1, 0.2), paused(6, 1, 0.3), paused(7, 1, 0.4), paused(8, 1, 0.5), paused(9, 1, 0.6), paused(10, 1, 0.8),
			paused(11, 1, 0.85)},
		n:     11,
		below: []int{2, 3},
		above: []int{1, 4, 5, 6, 7, 8, 9, 10, 11},
	}, {
		// val_loss is minimised; ties go to the lower trial number.
		name:   "minimise and ties",
		metric: "val_loss",
		h: []search.TrialRecord{paused(1, 2, 1.5), paused(2, 2, 0.9), paused(3, 2, 0.7), paused(4, 2, 0.7), paused(5, 2, 2.0),
			paused(6, 2, math.NaN()), paused(7, 2, 1.1), paused(8, 2, 1.2), paused(9, 2, 1.3), paused(10, 2, 1.4),
			paused(11, 2, 0.7), paused(12, 2, 3)},
		n:     12,
		below: []int{3, 4},
		above: []int{1, 2, 5, 6, 7, 8, 9, 10, 11, 12},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := *spec
			if tt.metric != "" {
				sp.Search.Metric = tt.metric
			}
			s := New(&sp, Options{})
			below, above, n := s.split(tt.h)
			if n != tt.n || !slices.Equal(numbers(below), tt.below) || !slices.Equal(numbers(above), tt.above) {
				t.Errorf("n = %d, below %v, above %v; want %d, %v, %v", n, numbers(below), numbers(above), tt.n, tt.below, tt.above)
			}
		})
	}
}

// TestParzenOptuna checks the estimators' densities against Optuna 3.1's
// own _ParzenEstimator, built from the same below (trials 1, 9) and above
// observations of the tiny history by testdata/optuna_parzen.py (Debian's
// python3-optuna 3.1.0, with Optuna 3.5's fix of the continuous kernels'
// scale applied: see the script), whose output rows are pasted here.
func TestParzenOptuna(t *testing.T) {
	want := []struct {
		param        string
		x            float64 // the parameter's value (hidden: the list's index)
		below, above float64 // log l(x), log g(x)
	}{
		{"learning_rate", 1e-05, -3.027521962318075, -2.0538173648071805},
		{"learning_rate", 0.0001, -2.2343061959114907, -2.725640121051769},
		{"learning_rate", 0.0011, -1.840974999432592, -1.5320488981371125},
		{"learning_rate", 0.003, -1.9147835088577012, -1.438422075007005},
		{"learning_rate", 0.1, -2.97527129194885, -3.4045320353073003},
		{"lr_decay", 0.5, -0.4292169117254147, 0.5505582544810477},
		{"lr_decay", 0.7, 0.37577518036107926, 0.4388305057879536},
		{"lr_decay", 0.91, 1.20133957277423, 1.2319618499942369},
		{"lr_decay", 1.0, 1.045521081714273, 0.9229070528573564},
		{"batch_size", 50, -6.324421504721073, -5.304602468007241},
		{"batch_size", 190, -5.471863879407699, -6.0867744795598036},
		{"batch_size", 200, -5.476301385123653, -5.826053623842256},
		{"batch_size", 333, -6.314505269331575, -6.229963189297308},
		{"batch_size", 400, -6.845939311158206, -6.313648313293272},
		{"hidden", 0, -1.5040773967762742, -0.9873866535578852},
		{"hidden", 1, -0.587786664902119, -1.366876275262789},
		{"hidden", 2, -1.5040773967762742, -0.9873866535578856},
	}
	const tol = 1e-12
	spec := mustParse(t, tinySpec)
	s := New(spec, Options{})
	below, above, _ := s.split(tinyHistory())
	for _, w := range want {
		i := slices.IndexFunc(spec.Search.Params, func(p search.Param) bool { return p.Name == w.param })
		p := spec.Search.Params[i]
		sp := newSpace(p)
		x := w.x
		switch {
		case sp.log:
			x = math.Log(x)
		case sp.kind == discrete:
			x -= p.Min // an index
		}
		l, g := sp.estimator(sp.observe(p, below)), sp.estimator(sp.observe(p, above))
		if got := l.logPDF(x); math.Abs(got-w.below) > tol {
			t.Errorf("%s = %g: log l = %.17g, Optuna %.17g", w.param, w.x, got, w.below)
		}
		if got := g.logPDF(x); math.Abs(got-w.above) > tol {
			t.Errorf("%s = %g: log g = %.17g, Optuna %.17g", w.param, w.x, got, w.above)
		}
	}
}

// TestWeights checks Optuna's default_weights and the prior's share.
func TestWeights(t *testing.T) {
	w := mixtureWeights(3)
	if !slices.Equal(w, []float64{0.25, 0.25, 0.25, 0.25}) {
		t.Errorf("3 observations: %v", w)
	}
	// n = 28: np.linspace(1/28, 1, 3) = [1/28, 29/56, 1], then 25 ones, then the prior.
	w = mixtureWeights(28)
	raw := []float64{1.0 / 28, (1.0/28 + 1) / 2, 1}
	sum := raw[0] + raw[1] + raw[2] + 26
	for i, r := range raw {
		if math.Abs(w[i]-r/sum) > 1e-15 {
			t.Errorf("weight %d = %g, want %g", i, w[i], r/sum)
		}
	}
	if w[28] != w[27] || math.Abs(w[3]-1/sum) > 1e-15 {
		t.Errorf("flat weights %g, prior %g, want %g", w[3], w[28], 1/sum)
	}
}

// TestSamplesFollowDensity: draws from an estimator follow its density
// (the inverse-CDF sampler against logPDF), for each kind of space.
func TestSamplesFollowDensity(t *testing.T) {
	spec := mustParse(t, tinySpec)
	_, above, _ := New(spec, Options{}).split(tinyHistory())
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, p := range spec.Search.Params {
		sp := newSpace(p)
		e := sp.estimator(sp.observe(p, above))
		const draws = 200000
		lo, hi := sp.low, sp.high
		if sp.kind == categorical {
			lo, hi = -0.5, float64(sp.choices)-0.5
		}
		// Histogram in 5 bins, against the density integrated over each.
		var count [5]float64
		for range draws {
			x := e.sample(rng)
			if sp.kind == discrete {
				x = sp.round(p, x)
			}
			count[min(int((x-lo)/(hi-lo)*5), 4)]++
		}
		for b := range count {
			a, z := lo+(hi-lo)*float64(b)/5, lo+(hi-lo)*float64(b+1)/5
			want := integrate(sp, e, a, z)
			if got := count[b] / draws; math.Abs(got-want) > 0.005 {
				t.Errorf("%s bin %d: %.4f of draws, density says %.4f", p.Name, b, got, want)
			}
		}
	}
}

// integrate returns the estimator's mass on [a, b).
func integrate(sp space, e estimator, a, b float64) float64 {
	if sp.kind != continuous {
		sum := 0.0
		for k := math.Ceil(a); k < b; k++ {
			if k >= 0 {
				sum += math.Exp(e.logPDF(k))
			}
		}
		return sum
	}
	const steps = 2000
	h, sum := (b-a)/steps, 0.0
	for i := range steps {
		sum += math.Exp(e.logPDF(a+(float64(i)+0.5)*h)) * h
	}
	return sum
}

// liarSpec is a space where TPE without the constant liar proposes the
// same point to every worker that asks at once: mostly discrete.
const liarSpec = `name = "liar"
seed = 3
[train]
epochs = 9
[search]
method = "random"
trials = 100
[search.params]
hidden = [[50], [100], [200]]
activation = ["relu", "swish"]
batch_size = [100, 200, 400]
lr_decay = { uniform = [0.5, 1.0], steps = 5 }
learning_rate = { log_uniform = [1e-5, 1e-1] }
`

// doneHistory returns n random trials of spec, done, with a smooth
// objective: best near learning_rate 1e-3 and small batches.
func doneHistory(t testing.TB, spec *search.Spec, n int) []search.TrialRecord {
	var h []search.TrialRecord
	for i := 1; i <= n; i++ {
		tr, err := spec.Draw(h, i, search.NewRandomSampler(spec))
		if err != nil {
			t.Fatal(err)
		}
		v := 0.9 - math.Abs(math.Log10(tr.LearningRate)+3)/5 - float64(tr.BatchSize)/2000
		h = append(h, search.TrialRecord{Number: i, Key: tr.Key, Params: tr.Params, Status: search.StatusDone,
			Evals: []search.Eval{{Resource: 9, Value: v}}})
	}
	return h
}

// TestConstantLiar: eight workers ask for a configuration at once, each
// seeing the ones before as running. Without the liar, TPE sends them all
// to the same discrete point (the hundreds of duplicates of optuna#3626);
// with it, the running trials count as bad results, and the proposals
// spread.
func TestConstantLiar(t *testing.T) {
	spec := mustParse(t, liarSpec)
	distinct := func(liar bool) int {
		s := New(spec, Options{})
		s.liar = liar
		h := doneHistory(t, spec, 20)
		points := map[string]bool{}
		for n := 21; n <= 28; n++ {
			tr, err := spec.Draw(h, n, s)
			if err != nil {
				t.Fatal(err)
			}
			points[fmt.Sprint(tr.Params[:4])] = true // the discrete parameters
			h = append(h, search.TrialRecord{Number: n, Key: tr.Key, Params: tr.Params, Status: search.StatusRunning})
		}
		return len(points)
	}
	without, with := distinct(false), distinct(true)
	if without != 1 {
		t.Errorf("without the liar: %d distinct discrete points of 8, want 1 (else this test shows nothing)", without)
	}
	if with < 4 {
		t.Errorf("with the liar: %d distinct discrete points of 8, want at least 4", with)
	}
}
