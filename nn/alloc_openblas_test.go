//go:build openblas

package nn

import "testing"

// TestStepDoesNotAllocate: with OpenBLAS's products (gonum's allocate
// internally), a steady-state training step allocates nothing, for the
// plain net and for one with every layer of the second assignment.
func TestStepDoesNotAllocate(t *testing.T) {
	train, val := blobSplits()
	train.Scale = make([]float32, train.X.Cols)
	for i := range train.Scale {
		train.Scale[i] = 0.5
	}
	for _, cfg := range []Config{
		baseConfig(),
		{Hidden: []int{64, 32}, WeightInit: "he", Normalization: "batchnorm", Dropout: []float64{0.3},
			Optimizer: "adam", LearningRate: 1e-3, LRSchedule: "cosine", WarmupEpochs: 1, BatchSize: 50, Epochs: 50, Seed: 1},
		{Hidden: []int{64, 32}, Activation: "tanh", WeightScale: 1e-2, Normalization: "layernorm", Dropout: []float64{0.3, 0.1},
			Optimizer: "nesterov", LearningRate: 1e-2, BatchSize: 50, Epochs: 50, Seed: 1},
	} {
		tr, err := newTrainer[float32](cfg, train, val, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr.step() // sizes the buffers
		if n := testing.AllocsPerRun(20, func() { tr.step() }); n != 0 {
			t.Errorf("%+v: %v allocations per step, want 0", cfg, n)
		}
	}
}

// TestGroupStepDoesNotAllocate: a steady-state step of a group (one
// gather, the fused first-layer products, every member's rest of the net
// and update) allocates nothing either, in float32 and float64.
func TestGroupStepDoesNotAllocate(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testGroupStepDoesNotAllocate[float32](t) })
	t.Run("float64", func(t *testing.T) { testGroupStepDoesNotAllocate[float64](t) })
}

func testGroupStepDoesNotAllocate[T Float](t *testing.T) {
	train, val := blobSplits()
	train.Scale = make([]float32, train.X.Cols)
	for i := range train.Scale {
		train.Scale[i] = 0.5
	}
	cfgs := groupConfigs()
	for i := range cfgs {
		cfgs[i].Epochs = 50 // room in the loss histories
	}
	g, err := newGroup(membersOf[T](cfgs...), train, val, GroupOptions[T]{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	g.step() // sizes the nets' buffers
	if n := testing.AllocsPerRun(20, g.step); n != 0 {
		t.Errorf("%v allocations per group step, want 0", n)
	}
	if g.active != len(cfgs) {
		t.Errorf("%d of %d members still training", g.active, len(cfgs))
	}
}
