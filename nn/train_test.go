package nn

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
)

// baseConfig is a small, fast training config on blobs data.
func baseConfig() Config {
	return Config{
		Hidden: []int{32}, WeightScale: 1e-1, Optimizer: "sgd",
		LearningRate: 1e-1, LRDecay: 0.95, Reg: 1e-3,
		BatchSize: 50, Epochs: 5, Seed: 42,
	}
}

func blobSplits() (train, val Data) {
	all := blobs(1, 1200, 20, 5, 1.0)
	return Data{X: all.X.Slice(0, 1000), Y: all.Y[:1000]}, Data{X: all.X.Slice(1000, 1200), Y: all.Y[1000:]}
}

func TestOverfitSmallData(t *testing.T) {
	// The coursework's sanity check: a [100, 100] net, weight_scale 2e-2,
	// sgd lr 1e-2, batch 25, 20 epochs on 50 training samples reaches
	// training accuracy 1.0. Here on 50 CIFAR-shaped samples of noise with
	// the spread of mean-subtracted pixels (class centre and per-sample noise of
	// equal size): memorised, not generalised.
	all := blobs(3, 150, 3072, 10, 1)
	for i := range all.X.Data {
		all.X.Data[i] *= 50
	}
	train := Data{X: all.X.Slice(0, 50), Y: all.Y[:50]}
	val := Data{X: all.X.Slice(50, 150), Y: all.Y[50:]}
	cfg := Config{Hidden: []int{100, 100}, WeightScale: 2e-2, Optimizer: "sgd", LearningRate: 1e-2,
		LRDecay: 1, BatchSize: 25, Epochs: 20, Seed: 0}
	for _, dtype := range []string{"float32", "float64"} {
		t.Run(dtype, func(t *testing.T) {
			var trainAcc float64
			var hist []EpochStats
			switch dtype {
			case "float32":
				res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
				if err != nil {
					t.Fatal(err)
				}
				trainAcc, hist = res.FinalTrainAcc, res.History
			case "float64":
				res, err := Train[float64](t.Context(), cfg, train, val, TrainOptions[float64]{})
				if err != nil {
					t.Fatal(err)
				}
				trainAcc, hist = res.FinalTrainAcc, res.History
			}
			if trainAcc != 1.0 {
				t.Errorf("training accuracy after 20 epochs = %g, want 1.0", trainAcc)
			}
			if len(hist) != 20 || hist[19].Iteration != 40 {
				t.Errorf("history has %d entries (last at iteration %d), want 20 ending at 40", len(hist), hist[len(hist)-1].Iteration)
			}
		})
	}
}

func TestTrainLearns(t *testing.T) {
	train, val := blobSplits()
	res, err := Train[float32](t.Context(), baseConfig(), train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Completed || res.Iterations != 100 {
		t.Fatalf("outcome %v after %d iterations, want completed after 100", res.Outcome, res.Iterations)
	}
	if res.BestValAcc < 0.9 || res.FinalValAcc < 0.9 {
		t.Errorf("val acc best %g final %g, want >= 0.9 on separable blobs", res.BestValAcc, res.FinalValAcc)
	}
	if res.BestValAcc < res.FinalValAcc {
		t.Errorf("best val acc %g below final %g", res.BestValAcc, res.FinalValAcc)
	}
	// One history entry per epoch; the learning rate decays once per epoch.
	if len(res.History) != 5 {
		t.Fatalf("%d history entries, want 5", len(res.History))
	}
	for i, h := range res.History {
		want := 1e-1 * math.Pow(0.95, float64(i))
		if math.Abs(h.LearningRate-want) > 1e-15 || h.Epoch != float64(i+1) || h.Iteration != 20*(i+1) {
			t.Errorf("epoch %d: %+v, want lr %g", i+1, h, want)
		}
	}
	if len(res.LossHistory) != 100 || !finite(res.LossHistory) {
		t.Errorf("loss history: %d values", len(res.LossHistory))
	}
	if first, last := res.History[0].Loss, res.History[4].Loss; !(last < first) {
		t.Errorf("mean epoch loss went from %g to %g", first, last)
	}
	// The kept best parameters score the best validation accuracy.
	net := res.Net
	copy(net.Params(), res.BestParams)
	acc, _, err := Evaluate(net, val)
	if err != nil || acc != res.BestValAcc {
		t.Errorf("best params evaluate to %g (%v), want %g", acc, err, res.BestValAcc)
	}
}

func TestTrainIterationsPartialEpoch(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig()
	cfg.Epochs, cfg.Iterations = 0, 50 // 2.5 epochs of 20 iterations
	res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 3 || res.History[2].Iteration != 50 || res.History[2].Epoch != 2.5 {
		t.Errorf("history %+v, want entries at iterations 20, 40, 50", res.History)
	}
}

func TestTrainDeterministic(t *testing.T) {
	train, val := blobSplits()
	run := func(seed uint64) *Result[float32] {
		cfg := baseConfig()
		cfg.Seed = seed
		res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a.LossHistory, b.LossHistory) || !slices.Equal(a.Net.Params(), b.Net.Params()) {
		t.Error("the same seed gave different results")
	}
	if slices.Equal(a.LossHistory, c.LossHistory) {
		t.Error("different seeds gave the same loss history")
	}
}

// countingCtx is a context whose Err reports cancellation from its n-th call
// on: the trainer checks it once per iteration, so it cancels at an exact
// iteration.
type countingCtx struct {
	context.Context
	n, calls atomic.Int64
}

func (c *countingCtx) Err() error {
	if c.calls.Add(1) > c.n.Load() {
		return context.Canceled
	}
	return nil
}

func TestResumeIsBitwiseIdentical(t *testing.T) {
	train, val := blobSplits()
	for _, opt := range []string{"sgd", "momentum", "rmsprop", "adam"} {
		t.Run(opt, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Optimizer = opt
			if opt != "sgd" && opt != "momentum" {
				cfg.LearningRate = 1e-3
			}
			full, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
			if err != nil {
				t.Fatal(err)
			}

			// Snapshot at the end of epoch 2 through the hook, then resume.
			var snap *Snapshot[float32]
			hook := func(_ context.Context, s *Snapshot[float32]) (bool, error) {
				if s.Epoch == 2 {
					snap = s
					return true, nil
				}
				return false, nil
			}
			stopped, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Hook: hook})
			if err != nil || stopped.Outcome != Stopped || snap == nil || snap.Iteration != 40 {
				t.Fatalf("stop at epoch 2: outcome %v, err %v", stopped.Outcome, err)
			}
			resumed, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Resume: snap})
			if err != nil {
				t.Fatal(err)
			}
			assertSameTraining(t, "epoch snapshot", full, resumed)

			// Cancel in mid-epoch (after 53 iterations), then resume.
			ctx := &countingCtx{Context: t.Context()}
			ctx.n.Store(53)
			cancelled, err := Train[float32](ctx, cfg, train, val, TrainOptions[float32]{})
			if !errors.Is(err, context.Canceled) || cancelled.Outcome != Cancelled || cancelled.Snapshot == nil {
				t.Fatalf("cancel: outcome %v, err %v", cancelled.Outcome, err)
			}
			if cancelled.Iterations != 53 || cancelled.Snapshot.Iteration != 53 {
				t.Fatalf("cancelled after %d iterations, want 53 (within one iteration)", cancelled.Iterations)
			}
			resumed, err = Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Resume: cancelled.Snapshot})
			if err != nil {
				t.Fatal(err)
			}
			assertSameTraining(t, "mid-epoch snapshot", full, resumed)
		})
	}
}

func assertSameTraining(t *testing.T, what string, want, got *Result[float32]) {
	t.Helper()
	if !slices.Equal(got.Net.Params(), want.Net.Params()) {
		t.Errorf("%s: final parameters differ from the uninterrupted run", what)
	}
	if !slices.Equal(got.BestParams, want.BestParams) || got.BestValAcc != want.BestValAcc {
		t.Errorf("%s: best parameters differ", what)
	}
	if !slices.Equal(got.LossHistory, want.LossHistory) || !slices.Equal(got.History, want.History) {
		t.Errorf("%s: histories differ", what)
	}
	if got.Outcome != Completed || got.Iterations != want.Iterations {
		t.Errorf("%s: outcome %v after %d iterations", what, got.Outcome, got.Iterations)
	}
}

func TestDivergence(t *testing.T) {
	train, val := blobSplits()
	for _, opt := range []string{"sgd", "momentum"} {
		cfg := baseConfig()
		cfg.Optimizer = opt
		cfg.LearningRate = 1e12
		res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != Diverged || res.DivergedAt < 1 || res.DivergedAt > 100 {
			t.Errorf("%s: outcome %v at iteration %d, want diverged", opt, res.Outcome, res.DivergedAt)
		}
		if len(res.LossHistory) != res.DivergedAt-1 || !finite(res.LossHistory) {
			t.Errorf("%s: loss history of %d values holds non-finite losses", opt, len(res.LossHistory))
		}
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	train, val := blobSplits()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := Train[float64](ctx, baseConfig(), train, val, TrainOptions[float64]{})
	if !errors.Is(err, context.Canceled) || res.Iterations != 0 || res.Outcome != Cancelled {
		t.Errorf("outcome %v after %d iterations, err %v", res.Outcome, res.Iterations, err)
	}
}

func TestHookError(t *testing.T) {
	train, val := blobSplits()
	boom := errors.New("disk full")
	hook := func(context.Context, *Snapshot[float32]) (bool, error) { return false, boom }
	_, err := Train[float32](t.Context(), baseConfig(), train, val, TrainOptions[float32]{Hook: hook})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the hook's", err)
	}
}

func TestConfigErrors(t *testing.T) {
	train, val := blobSplits()
	mod := func(f func(*Config)) Config { c := baseConfig(); f(&c); return c }
	tests := map[string]Config{
		"hidden":        mod(func(c *Config) { c.Hidden = []int{10, -1} }),
		"activation":    mod(func(c *Config) { c.Activation = "sigmoid" }),
		"normalization": mod(func(c *Config) { c.Normalization = "groupnorm" }),
		"dropout":       mod(func(c *Config) { c.Dropout = []float64{1} }),
		"dropout count": mod(func(c *Config) { c.Hidden = []int{10, 10, 10}; c.Dropout = []float64{0.1, 0.2} }),
		"init":          mod(func(c *Config) { c.WeightInit = "lecun" }),
		"schedule":      mod(func(c *Config) { c.LRSchedule = "linear" }),
		"warmup":        mod(func(c *Config) { c.LRSchedule = "cosine"; c.WarmupEpochs = c.Epochs }),
		"patience":      mod(func(c *Config) { c.Patience = -1 }),
		"optimizer":     mod(func(c *Config) { c.Optimizer = "lbfgs" }),
		"weight scale":  mod(func(c *Config) { c.WeightScale = 0 }),
		"learning rate": mod(func(c *Config) { c.LearningRate = -1 }),
		"lr decay":      mod(func(c *Config) { c.LRDecay = math.NaN() }),
		"reg":           mod(func(c *Config) { c.Reg = -0.1 }),
		"batch":         mod(func(c *Config) { c.BatchSize = 0 }),
		"both":          mod(func(c *Config) { c.Iterations = 10 }),
		"neither":       mod(func(c *Config) { c.Epochs = 0 }),
		"negative":      mod(func(c *Config) { c.Epochs = -2 }),
		"subset":        mod(func(c *Config) { c.TrainAccSamples = -1 }),
		"classes":       mod(func(c *Config) { c.Classes = -1 }),
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{}); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestDataErrors(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig()
	narrow := blobs(2, 10, 7, 5, 1)
	tests := map[string][2]Data{
		"labels":         {Data{X: train.X, Y: train.Y[:10]}, val},
		"empty":          {Data{X: Mat[float32]{Cols: 20}}, val},
		"width":          {train, narrow},
		"label range":    {train, Data{X: val.X.Slice(0, 1), Y: []int{-1}}},
		"classes config": {train, val},
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			c := cfg
			if name == "classes config" {
				c.Classes = 3 // blobs have 5 classes
			}
			if _, err := Train[float32](t.Context(), c, d[0], d[1], TrainOptions[float32]{}); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestResumeErrors(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig()
	var snap *Snapshot[float32]
	hook := func(_ context.Context, s *Snapshot[float32]) (bool, error) { snap = s; return true, nil }
	if _, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Hook: hook}); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*Snapshot[float32])) *Snapshot[float32] {
		c := *snap
		c.Params = slices.Clone(snap.Params)
		f(&c)
		return &c
	}
	tests := map[string]*Snapshot[float32]{
		"params":      mod(func(s *Snapshot[float32]) { s.Params = s.Params[:3] }),
		"best params": mod(func(s *Snapshot[float32]) { s.BestParams = nil }),
		"iteration":   mod(func(s *Snapshot[float32]) { s.Iteration = 1000 }),
		"losses":      mod(func(s *Snapshot[float32]) { s.LossHistory = s.LossHistory[:1] }),
		"subset":      mod(func(s *Snapshot[float32]) { s.TrainSubset = []int{5000} }),
		"rng":         mod(func(s *Snapshot[float32]) { s.RNG = []byte("nonsense") }),
		"optimizer":   mod(func(s *Snapshot[float32]) { s.Optimizer.Rule = "adam" }),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Resume: s}); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	train, val := blobSplits()
	res, err := Train[float32](t.Context(), baseConfig(), train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Evaluate(res.Net, blobs(1, 10, 7, 5, 1)); !errors.Is(err, ErrConfig) {
		t.Errorf("wrong width: err = %v", err)
	}
	if _, _, err := Evaluate(res.Net, Data{X: val.X.Slice(0, 1), Y: []int{9}}); !errors.Is(err, ErrConfig) {
		t.Errorf("label out of range: err = %v", err)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, s := range map[Outcome]string{Completed: "completed", Stopped: "stopped", Diverged: "diverged", Cancelled: "cancelled", 9: "Outcome(9)"} {
		if o.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(o), o.String(), s)
		}
	}
}
