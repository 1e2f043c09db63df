package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Training with the second assignment's pieces: normalisation, dropout,
// schedules, Nesterov momentum, early stopping, input transforms.

func TestResumeIsBitwiseIdenticalWithBatchNormAndDropout(t *testing.T) {
	train, val := blobSplits()
	for _, tc := range []struct{ name, norm, opt, sched string }{
		{"batchnorm/nesterov/step", "batchnorm", "nesterov", "step"},
		{"layernorm/adam/cosine", "layernorm", "adam", "cosine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Hidden = []int{32, 16}
			cfg.Normalization, cfg.Dropout, cfg.Optimizer, cfg.LRSchedule = tc.norm, []float64{0.3, 0.1}, tc.opt, tc.sched
			cfg.WarmupEpochs = 1
			if tc.opt == "adam" {
				cfg.LearningRate = 1e-3
			}
			full, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := &countingCtx{Context: t.Context()}
			ctx.n.Store(53) // in mid-epoch: 20 iterations per epoch
			cancelled, err := Train[float32](ctx, cfg, train, val, TrainOptions[float32]{})
			if !errors.Is(err, context.Canceled) || cancelled.Snapshot == nil || cancelled.Snapshot.Iteration != 53 {
				t.Fatalf("cancel: outcome %v, err %v", cancelled.Outcome, err)
			}
			resumed, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Resume: cancelled.Snapshot})
			if err != nil {
				t.Fatal(err)
			}
			assertSameTraining(t, "mid-epoch snapshot", full, resumed)
			if tc.norm == "batchnorm" {
				// The running statistics are part of the parameters: they
				// moved, and the resumed run has them bitwise.
				net := full.Net
				if slices.Equal(net.RunningVar(0), make([]float32, 32)) {
					t.Error("running variance never moved")
				}
			}
			// Dropout draws from the trial's random source: without it the
			// run differs.
			cfg.Dropout = nil
			plain, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(plain.LossHistory, full.LossHistory) {
				t.Error("dropout changed nothing")
			}
		})
	}
}

func TestNesterov(t *testing.T) {
	// Two steps by hand: mu 0.9, lr 0.1, w 1, gradients 1 then 2.
	// v1 = -0.1; w1 = 1 + 0.9·0 − ... = 1 − 0 + 1.9·(−0.1) = 0.81.
	// v2 = 0.9·(−0.1) − 0.2 = −0.29; w2 = 0.81 + 0.09 + 1.9·(−0.29) = 0.349.
	r, err := NewUpdateRule[float64](Config{Optimizer: "nesterov"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := []float64{1}
	r.Update(w, []float64{1}, 0.1)
	if math.Abs(w[0]-0.81) > 1e-12 {
		t.Fatalf("after one step w = %v, want 0.81", w[0])
	}
	st := r.State()
	r.Update(w, []float64{2}, 0.1)
	if math.Abs(w[0]-0.349) > 1e-12 {
		t.Fatalf("after two steps w = %v, want 0.349", w[0])
	}
	// Its state restores: the second step again gives the same.
	r2, _ := NewUpdateRule[float64](Config{Optimizer: "nesterov"}, 1)
	if err := r2.SetState(st); err != nil {
		t.Fatal(err)
	}
	w2 := []float64{0.81}
	r2.Update(w2, []float64{2}, 0.1)
	if w2[0] != w[0] {
		t.Errorf("restored state gave %v, want %v", w2[0], w[0])
	}
	if err := r2.SetState(OptimizerState[float64]{Rule: "momentum", Slots: [][]float64{{0}}}); err == nil {
		t.Error("nesterov accepted momentum's state")
	}
}

func TestCosineSchedule(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig() // 20 iterations per epoch, 5 epochs
	cfg.LRSchedule, cfg.WarmupEpochs, cfg.LRDecay = "cosine", 1, 0.5
	tr, err := newTrainer[float32](cfg, train, val, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.LearningRate
	want := map[int]float64{
		0:  base / 20, // warm-up: linear to base over the first epoch
		9:  base / 2,
		19: base,
		20: base,                                     // the cosine starts at base
		60: base * 0.5 * (1 + math.Cos(math.Pi*0.5)), // halfway
		99: base * 0.5 * (1 + math.Cos(math.Pi*79/80)),
	}
	for it, w := range want {
		tr.it = it
		if got := tr.rate(); math.Abs(got-w) > 1e-15 {
			t.Errorf("iteration %d: lr %g, want %g", it, got, w)
		}
	}
	// Training records the last iteration's rate per epoch, ignores
	// lr_decay, and ends near 0.
	res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if h := res.History; h[0].LearningRate != base || h[len(h)-1].LearningRate > base*1e-3 {
		t.Errorf("recorded rates %g ... %g", h[0].LearningRate, h[len(h)-1].LearningRate)
	}
	// The step schedule is untouched: lr_decay once per epoch.
	cfg.LRSchedule, cfg.WarmupEpochs = "step", 0
	res, err = Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	for e, h := range res.History {
		if w := base * math.Pow(0.5, float64(e)); math.Abs(h.LearningRate-w) > 1e-15 {
			t.Errorf("step schedule, epoch %d: lr %g, want %g", e+1, h.LearningRate, w)
		}
	}
}

func TestPatience(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig()
	cfg.Epochs = 40
	full, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	// Where patience 3 must stop: the first epoch 3 epochs after the best
	// so far, by the uninterrupted history.
	stopAt, best := 0, -1.0
	bestEpoch := 0
	for e, h := range full.History {
		if h.ValAcc > best {
			best, bestEpoch = h.ValAcc, e+1
		}
		if e+1-bestEpoch >= 3 {
			stopAt = e + 1
			break
		}
	}
	if stopAt == 0 {
		t.Fatal("the validation accuracy never plateaued for 3 epochs: pick another config")
	}
	cfg.Patience = 3
	res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != EarlyStopped || len(res.History) != stopAt {
		t.Fatalf("outcome %v after %d epochs, want early stopped after %d", res.Outcome, len(res.History), stopAt)
	}
	if res.BestEpoch != float64(bestEpoch) || res.BestValAcc != best {
		t.Errorf("kept the epoch %g (val %.3f), want %d (%.3f)", res.BestEpoch, res.BestValAcc, bestEpoch, best)
	}
	if !slices.Equal(res.History, full.History[:stopAt]) {
		t.Error("history differs from the run without patience")
	}
	// The kept weights are the best epoch's: evaluated, they give its val.
	copy(res.Net.Params(), res.BestParams)
	if acc, _, err := Evaluate(res.Net, val); err != nil || acc != best {
		t.Errorf("best params evaluate to %.3f, want %.3f", acc, best)
	}
	// A run whose patience runs out at its last epoch completed.
	cfg.Epochs = stopAt
	if last, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{}); err != nil || last.Outcome != Completed {
		t.Errorf("patience out at the last epoch: outcome %v, err %v, want completed", last.Outcome, err)
	}
	cfg.Epochs = 40
	// A resume from the epoch before the stop stops at the same point.
	var snap *Snapshot[float32]
	hook := func(_ context.Context, s *Snapshot[float32]) (bool, error) {
		if s.Epoch == stopAt-1 {
			snap = s
			return true, nil
		}
		return false, nil
	}
	if _, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Hook: hook}); err != nil || snap == nil {
		t.Fatalf("snapshot before the stop: %v", err)
	}
	resumed, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{Resume: snap})
	if err != nil || resumed.Outcome != EarlyStopped || !slices.Equal(resumed.BestParams, res.BestParams) {
		t.Errorf("resumed: outcome %v, err %v, same best params %v", resumed.Outcome, err, slices.Equal(resumed.BestParams, res.BestParams))
	}
}

func TestDataTransform(t *testing.T) {
	// Scale and Shift give bitwise the training on transformed data.
	train, val := blobSplits()
	d := train.X.Cols
	scale, shift := make([]float32, d), make([]float32, d)
	for j := range d {
		scale[j], shift[j] = 0.5+float32(j)/float32(d), float32(j%3)-1
	}
	transform := func(x Data) Data {
		out := Data{X: NewMat[float32](x.X.Rows, d), Y: x.Y}
		for i := range x.X.Rows {
			for j, v := range x.X.Row(i) {
				out.X.Row(i)[j] = v*scale[j] + shift[j]
			}
		}
		return out
	}
	cfg := baseConfig()
	want, err := Train[float32](t.Context(), cfg, transform(train), transform(val), TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	train.Scale, train.Shift, val.Scale, val.Shift = scale, shift, scale, shift
	got, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.LossHistory, want.LossHistory) || !slices.Equal(got.BestParams, want.BestParams) {
		t.Error("training with a transform differs from training on transformed data")
	}
	if a, _, _ := Evaluate(got.Net, val); a != want.FinalValAcc {
		t.Errorf("Evaluate with the transform: %g, want %g", a, want.FinalValAcc)
	}
	val.Scale = scale[1:]
	if _, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{}); !errors.Is(err, ErrConfig) {
		t.Errorf("a transform of the wrong size: err %v", err)
	}
}

func TestTestTimeIgnoresDropoutAndUsesRunningStats(t *testing.T) {
	train, _ := blobSplits()
	cfg := Config{Hidden: []int{16}, Normalization: "batchnorm", Dropout: []float64{0.5}, WeightInit: "he"}
	net, err := NewNet[float64](train.X.Cols, 5, cfg, rand.New(rand.NewPCG(1, 1)))
	net.SetRand(nil)
	if err != nil {
		t.Fatal(err)
	}
	x := NewMat[float64](10, train.X.Cols)
	for i := range x.Rows {
		readRow(x.Row(i), train.X.Row(i), nil, nil)
	}
	a := slices.Clone(net.Scores(x).Data)
	b := slices.Clone(net.Scores(x).Data)
	if !slices.Equal(a, b) {
		t.Error("test-time scores are random")
	}
	// Running statistics zero and variance zero: test time divides by
	// √eps. Set them, and the scores follow.
	for j := range net.RunningVar(0) {
		net.RunningVar(0)[j] = 4
	}
	if c := net.Scores(x).Data; slices.Equal(c, a) {
		t.Error("the running variance does not reach the scores")
	}
	defer func() {
		if recover() == nil {
			t.Error("Loss with dropout and no random source did not panic")
		}
	}()
	net.Loss(x, train.Y[:10])
}

func TestPredictAgreesWithEvaluate(t *testing.T) {
	train, val := blobSplits()
	cfg := baseConfig()
	cfg.Normalization, cfg.Dropout = "batchnorm", []float64{0.2}
	res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
	if err != nil {
		t.Fatal(err)
	}
	val.Scale = make([]float32, val.X.Cols)
	for i := range val.Scale {
		val.Scale[i] = 1.5
	}
	pred, err := Predict(res.Net, val)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, p := range pred {
		if p == val.Y[i] {
			right++
		}
	}
	acc, _, _ := Evaluate(res.Net, val)
	if got := float64(right) / float64(len(pred)); got != acc {
		t.Errorf("predictions give accuracy %g, Evaluate %g", got, acc)
	}
	val.Shift = []float32{1}
	if _, err := Predict(res.Net, val); !errors.Is(err, ErrConfig) {
		t.Errorf("a transform of the wrong size: err %v", err)
	}
}
