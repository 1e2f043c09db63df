package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkTrainStep measures one steady-state training iteration of the
// coursework's two-layer net: gather a minibatch, forward, backward, SGD
// update. The figures to compare are ns/op (one iteration) and allocs/op,
// which must be 0.
//
// The training data has as many rows as the yardstick's (../shared/bench:
// 59000 at d=784, 49000 at d=3072), so that gathering a minibatch costs what
// it costs there: rows scattered over 185 MB or 602 MB, not a cached 2000.
func BenchmarkTrainStep(b *testing.B) {
	for _, d := range []int{784, 3072} {
		name := fmt.Sprintf("d=%d/h=50/batch=200", d)
		b.Run("dtype=float32/"+name, func(b *testing.B) { benchStep[float32](b, d, 50, 200) })
		b.Run("dtype=float64/"+name, func(b *testing.B) { benchStep[float64](b, d, 50, 200) })
	}
}

// yardstickRows is the number of training rows of the yardstick at each d.
var yardstickRows = map[int]int{784: 59000, 3072: 49000}

var benchData = map[[2]int]Data{}

// yardstickData returns training data of the yardstick's size at d: the rows
// of a small blobs set repeated, each at its own address.
func yardstickData(d int) Data { return repeatedBlobs(d, yardstickRows[d]) }

// repeatedBlobs returns n rows of dimension d: the rows of a small blobs
// set repeated, each at its own address.
func repeatedBlobs(d, n int) Data {
	if data, ok := benchData[[2]int{d, n}]; ok {
		return data
	}
	small := blobs(1, 2000, d, 10, 1)
	x := NewMat[float32](n, d)
	y := make([]int, n)
	for i := range n {
		copy(x.Row(i), small.X.Row(i%2000))
		y[i] = small.Y[i%2000]
	}
	benchData[[2]int{d, n}] = Data{X: x, Y: y}
	return benchData[[2]int{d, n}]
}

// BenchmarkTrainStepRegularised is one step of the nets that issue 13
// made possible: two hidden layers with batchnorm (or layernorm), dropout
// and Adam on a cosine schedule, on standardised input (a data transform).
// allocs/op must be 0 here too.
func BenchmarkTrainStepRegularised(b *testing.B) {
	for _, norm := range []string{"batchnorm", "layernorm"} {
		b.Run("norm="+norm+"/d=784/h=512,256/batch=200", func(b *testing.B) {
			data := yardstickData(784)
			data.Scale = make([]float32, 784)
			for i := range data.Scale {
				data.Scale[i] = 1.0 / 64
			}
			cfg := Config{Hidden: []int{512, 256}, WeightInit: "he", Normalization: norm, Dropout: []float64{0.3},
				Optimizer: "adam", LearningRate: 1e-3, LRSchedule: "cosine", BatchSize: 200, Iterations: 1 << 20, Seed: 1}
			stepBench[float32](b, cfg, data)
		})
	}
}

func benchStep[T Float](b *testing.B, d, h, batch int) {
	data := yardstickData(d)
	cfg := Config{Hidden: []int{h}, WeightScale: 1e-4, Optimizer: "sgd", LearningRate: 1e-3, LRDecay: 0.95,
		Reg: 0.25, BatchSize: batch, Iterations: 1 << 20, Seed: 1}
	stepBench[T](b, cfg, data)
	// FLOPs of the three gemms of each layer (forward, dW, dX except the first).
	flops := 2.0 * float64(batch) * float64(d*h+h*10) * 2
	flops += 2.0 * float64(batch) * float64(h*10)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// stepBench times steady-state training steps of cfg on data.
func stepBench[T Float](b *testing.B, cfg Config, data Data) {
	t, err := newTrainer[T](cfg, data, data, nil)
	if err != nil {
		b.Fatal(err)
	}
	t.step() // size the buffers
	b.ReportAllocs()
	for b.Loop() {
		t.step()
	}
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

// BenchmarkGemm measures the backend's matrix product alone: a large square
// one (the backend's best case) and the two products of the first layer of
// the coursework's net, which dominate a training step.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
		tA      blas.Transpose
	}{
		{"square/n=1024", 1024, 1024, 1024, blas.NoTrans},
		{"forward/m=200/n=50/k=784", 200, 50, 784, blas.NoTrans},
		{"dW/m=784/n=50/k=200", 784, 50, 200, blas.Trans},
	}
	for _, s := range shapes {
		b.Run("dtype=float32/"+s.name, func(b *testing.B) { benchGemm[float32](b, s.m, s.n, s.k, s.tA) })
		b.Run("dtype=float64/"+s.name, func(b *testing.B) { benchGemm[float64](b, s.m, s.n, s.k, s.tA) })
	}
}

func benchGemm[T Float](b *testing.B, m, n, k int, tA blas.Transpose) {
	r := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(r.NormFloat64())
		}
		return s
	}
	a, bb, c := fill(m*k), fill(k*n), fill(m*n)
	lda := k
	if tA == blas.Trans {
		lda = m
	}
	b.ReportAllocs()
	for b.Loop() {
		gemm(tA, blas.NoTrans, m, n, k, 1, a, lda, bb, n, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkFusedFirstLayer measures the design of fused trials (trials
// that share their minibatches trained side by side): per trial-step, the
// minibatch gather and the first layer's two products (forward X·W1 and
// dW1 = Xᵀ·dH1) of g trials of hidden width 50, fused (one gather, one
// product with X·[W1_a | W1_b | ...], one for every dW1) against unfused
// (each trial its own gather and products), for group sizes g, at the
// coursework's D = 784 (Fashion-MNIST) and 3072 (CIFAR-10), float32, batch
// 200 drawn from a training set larger than the caches. The metric
// ns/trial-step is what a trial's step costs in these parts.
func BenchmarkFusedFirstLayer(b *testing.B) {
	const batch, hidden = 200, 50
	for _, d := range []int{784, 3072} {
		rows := 59000
		if d == 3072 {
			rows = 20000 // 245 MB, still far beyond the caches
		}
		r := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, rows*d)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, g := range []int{1, 2, 4, 8, 12, 24} {
			w := make([]float32, d*hidden*g)
			dh := make([]float32, batch*hidden*g)
			for i := range w {
				w[i] = float32(r.NormFloat64()) * 1e-2
			}
			for i := range dh {
				dh[i] = float32(r.NormFloat64())
			}
			xb := make([]float32, batch*d)
			h := make([]float32, batch*hidden*g)
			dw := make([]float32, d*hidden*g)
			idx := make([]int, batch)
			gather := func() {
				for i := range idx {
					idx[i] = r.IntN(rows)
				}
				for i, k := range idx {
					copy(xb[i*d:(i+1)*d], x[k*d:(k+1)*d])
				}
			}
			b.Run(fmt.Sprintf("D=%d/group=%d/fused", d, g), func(b *testing.B) {
				n := hidden * g
				b.ReportAllocs()
				for b.Loop() {
					gather()
					gemm(blas.NoTrans, blas.NoTrans, batch, n, d, 1, xb, d, w, n, 0, h, n)
					gemm(blas.Trans, blas.NoTrans, d, n, batch, 1, xb, d, dh, n, 0, dw, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*g), "ns/trial-step")
			})
			b.Run(fmt.Sprintf("D=%d/group=%d/unfused", d, g), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for j := range g {
						gather()
						wj, hj := w[j*d*hidden:(j+1)*d*hidden], h[j*batch*hidden:(j+1)*batch*hidden]
						dhj, dwj := dh[j*batch*hidden:(j+1)*batch*hidden], dw[j*d*hidden:(j+1)*d*hidden]
						gemm(blas.NoTrans, blas.NoTrans, batch, hidden, d, 1, xb, d, wj, hidden, 0, hj, hidden)
						gemm(blas.Trans, blas.NoTrans, d, hidden, batch, 1, xb, d, dhj, hidden, 0, dwj, hidden)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*g), "ns/trial-step")
			})
		}
	}
}

// BenchmarkTrainGroupStep measures whole training steps (gather, forward,
// backward, update) of groups of g trials (TrainGroup) of the coursework's
// two-layer net, hidden width 50, sgd at different learning rates, float32,
// batch 200 drawn from a training set larger than the caches (59000 rows
// at D = 784, 20000 at D = 3072), against the same g trials each taking its
// own Train step (unfused). The metric ns/trial-step is what one trial's
// step costs; allocs/op must be 0 with OpenBLAS.
//
//	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE go test -tags openblas -run '^$' -bench TrainGroupStep -benchtime 200x ./nn/
//
// measured µs/trial-step, fused against unfused, on a shared 2-core
// virtual machine (OpenBLAS 0.3.21, its Cooperlake kernels with the
// variables unset; ±10% from run to run), in one make bench:
//
//	group              1          2          4          8         12         24
//	d=784/h=50   384/400    330/415    285/404    279/432    284/418    310/450
//	d=3072/h=50 1503/1455  1099/1540  1100/1617  1030/1651  1048/1595  1004/1493
//
// and at d=784, groups of 8, wider first layers: h=100 515/633, h=200
// 1047/1162, h=512 2642/2688 (trial.MaxFusedWidth).
func BenchmarkTrainGroupStep(b *testing.B) {
	const batch = 200
	type shape struct{ d, hidden, g int }
	var shapes []shape
	for _, d := range []int{784, 3072} {
		for _, g := range []int{1, 2, 4, 8, 12, 24} {
			shapes = append(shapes, shape{d, 50, g})
		}
	}
	// Wider first layers (D=784, groups of 8): where fusing stops paying.
	for _, h := range []int{100, 200, 512} {
		shapes = append(shapes, shape{784, h, 8})
	}
	datas := map[int]Data{}
	for _, sh := range shapes {
		d, hidden, g := sh.d, sh.hidden, sh.g
		data, ok := datas[d]
		if !ok {
			rows := 59000
			if d == 3072 {
				rows = 20000 // 245 MB, still far beyond the caches
			}
			data = repeatedBlobs(d, rows)
			datas[d] = data
		}
		{
			cfgs := make([]Config, g)
			for j := range cfgs {
				cfgs[j] = Config{Hidden: []int{hidden}, WeightScale: 1e-4, Optimizer: "sgd", LearningRate: 1e-3 * (1 + float64(j)/10),
					LRDecay: 0.95, Reg: 0.25, BatchSize: batch, Iterations: 1 << 16, Seed: uint64(j + 1)}
			}
			name := fmt.Sprintf("d=%d/h=%d/batch=%d/group=%d", d, hidden, batch, g)
			b.Run(name+"/fused", func(b *testing.B) {
				grp, err := newGroup(membersOf[float32](cfgs...), data, data, GroupOptions[float32]{Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				grp.step() // size the buffers
				b.ReportAllocs()
				for b.Loop() {
					grp.step()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*g), "ns/trial-step")
			})
			b.Run(name+"/unfused", func(b *testing.B) {
				ts := make([]*trainer[float32], g)
				for j, cfg := range cfgs {
					var err error
					if ts[j], err = newTrainer[float32](cfg, data, data, nil); err != nil {
						b.Fatal(err)
					}
					ts[j].step()
				}
				b.ReportAllocs()
				for b.Loop() {
					for _, t := range ts {
						t.step()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*g), "ns/trial-step")
			})
		}
	}
}
