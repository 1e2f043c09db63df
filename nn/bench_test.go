package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkTrainStep measures one steady-state training iteration of the
// coursework's two-layer net: gather a minibatch, forward, backward, SGD
// update. The figures to compare are ns/op (one iteration) and allocs/op,
// which must be 0.
func BenchmarkTrainStep(b *testing.B) {
	for _, d := range []int{784, 3072} {
		b.Run(fmt.Sprintf("dtype=float32/d=%d/h=50/batch=200", d), func(b *testing.B) { benchStep[float32](b, d, 50, 200) })
		b.Run(fmt.Sprintf("dtype=float64/d=%d/h=50/batch=200", d), func(b *testing.B) { benchStep[float64](b, d, 50, 200) })
	}
}

func benchStep[T Float](b *testing.B, d, h, batch int) {
	data := blobs(1, 2000, d, 10, 1)
	cfg := Config{Hidden: []int{h}, WeightScale: 1e-4, Optimizer: "sgd", LearningRate: 1e-3, LRDecay: 0.95,
		Reg: 0.25, BatchSize: batch, Iterations: 1 << 20, Seed: 1}
	t, err := newTrainer[T](cfg, data, data, nil)
	if err != nil {
		b.Fatal(err)
	}
	t.step() // size the buffers
	b.ReportAllocs()
	for b.Loop() {
		t.step()
	}
	// FLOPs of the three gemms of each layer (forward, dW, dX except the first).
	flops := 2.0 * float64(batch) * float64(d*h+h*10) * 2
	flops += 2.0 * float64(batch) * float64(h*10)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkEvaluate(b *testing.B) {
	data := blobs(1, 1000, 784, 10, 1)
	net, err := NewFullyConnectedNet[float32](784, []int{50}, 10, ReLU, 1e-4, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	var buf []float32
	evaluate(net, data, nil, &buf)
	b.ReportAllocs()
	for b.Loop() {
		evaluate(net, data, nil, &buf)
	}
}
