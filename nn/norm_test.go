package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// colStats returns the per-column mean and (population) standard deviation.
func colStats(m Mat[float64]) (mean, std []float64) {
	mean, std = make([]float64, m.Cols), make([]float64, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(m.Rows)
	}
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(m.Rows))
	}
	return mean, std
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// assertClose checks every value of got against want[j % len(want)].
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for j, v := range got {
		if w := want[j%len(want)]; math.Abs(v-w) > tol {
			t.Errorf("%s[%d] = %.4f, want %.4f within %g", what, j, v, w, tol)
			return
		}
	}
}

// bnInput is the coursework's batchnorm input: relu(X·W1)·W2 with X, W1,
// W2 standard normal; X is drawn from xSeed, the weights are fixed.
func bnInput(xSeed uint64, n, d1, d2, d3 int) Mat[float64] {
	x := FromShape(randn(xSeed, n*d1), n, d1)
	w1 := FromShape(randn(901, d1*d2), d1, d2)
	w2 := FromShape(randn(902, d2*d3), d2, d3)
	h := NewMat[float64](n, d2)
	AffineForward(h, x, w1, make([]float64, d2))
	ReluForward(h, h)
	a := NewMat[float64](n, d3)
	AffineForward(a, h, w2, make([]float64, d3))
	return a
}

func TestBatchNormForwardTrainMode(t *testing.T) {
	// The coursework's check: before batchnorm the features have various
	// means and stds; after it (gamma 1, beta 0) means ≈ 0 and stds ≈ 1;
	// with gamma [1, 2, 3] and beta [11, 12, 13], means ≈ beta and stds ≈ gamma.
	const n, d = 200, 3
	a := bnInput(231, n, 50, 60, d)
	before, beforeStd := colStats(a)
	if math.Abs(before[0]) < 1 || beforeStd[0] < 5 {
		t.Fatalf("the input is already normalised: means %v stds %v", before, beforeStd)
	}
	for _, tc := range []struct{ gamma, beta []float64 }{
		{ones(d), make([]float64, d)},
		{[]float64{1, 2, 3}, []float64{11, 12, 13}},
	} {
		out := NewMat[float64](n, d)
		var c NormCache[float64]
		BatchNormForward(out, a, tc.gamma, tc.beta, make([]float64, d), make([]float64, d), BatchNormMomentum, NormEpsilon, &c)
		mean, std := colStats(out)
		assertClose(t, "mean", mean, tc.beta, 1e-9)
		assertClose(t, "std", std, tc.gamma, 1e-6)
	}
}

func TestBatchNormForwardTestMode(t *testing.T) {
	// The coursework's check: 50 training-mode passes on batches of
	// relu(X·W1)·W2 warm up the running statistics; then a test-mode pass on
	// a new batch has means ≈ 0 and stds ≈ 1.
	const n, d = 200, 3
	const nTest = 2000 // a large test batch: its own sampling noise is small
	gamma, beta := ones(d), make([]float64, d)
	runMean, runVar := make([]float64, d), make([]float64, d)
	var c NormCache[float64]
	out := NewMat[float64](n, d)
	for k := range 50 {
		a := bnInput(uint64(1000+10*k), n, 50, 60, d)
		BatchNormForward(out, a, gamma, beta, runMean, runVar, BatchNormMomentum, NormEpsilon, &c)
	}
	a := bnInput(7, nTest, 50, 60, d)
	out = NewMat[float64](nTest, d)
	BatchNormInference(out, a, gamma, beta, runMean, runVar, NormEpsilon, &c)
	mean, std := colStats(out)
	// The coursework sees means within about 0.1 and stds within about
	// 0.1 of 0 and 1 on such draws.
	assertClose(t, "mean", mean, []float64{0}, 0.15)
	assertClose(t, "std", std, []float64{1}, 0.15)
}

func TestLayerNormForward(t *testing.T) {
	// Per sample: each row has mean ≈ 0 and std ≈ 1 (gamma 1, beta 0).
	const n, d = 4, 7
	a := bnInput(5, n, 10, 12, d)
	out := NewMat[float64](n, d)
	var c NormCache[float64]
	LayerNormForward(out, a, ones(d), make([]float64, d), NormEpsilon, &c)
	tr := FromShape(transpose(out.Data, n, d), d, n)
	mean, std := colStats(tr)
	assertClose(t, "row mean", mean, []float64{0}, 1e-9)
	assertClose(t, "row std", std, []float64{1}, 1e-4)
}

func TestNormGradcheck(t *testing.T) {
	// Centred differences of Σ out·dout against the backward pass, float64.
	const n, d = 4, 5
	x := FromShape(scaled(4, randn(31, n*d)), n, d)
	for i := range x.Data {
		x.Data[i] += 5
	}
	gamma, beta := randn(32, d), randn(33, d)
	dout := randn(34, n*d)
	for _, kind := range []string{"batchnorm", "layernorm"} {
		t.Run(kind, func(t *testing.T) {
			out := NewMat[float64](n, d)
			var c NormCache[float64]
			f := func() []float64 {
				if kind == "batchnorm" {
					BatchNormForward(out, x, gamma, beta, make([]float64, d), make([]float64, d), BatchNormMomentum, NormEpsilon, &c)
				} else {
					LayerNormForward(out, x, gamma, beta, NormEpsilon, &c)
				}
				return out.Data
			}
			f()
			dx, dgamma, dbeta := NewMat[float64](n, d), make([]float64, d), make([]float64, d)
			g := FromShape(slices.Clone(dout), n, d)
			if kind == "batchnorm" {
				BatchNormBackward(dx, dgamma, dbeta, g, gamma, &c)
			} else {
				LayerNormBackward(dx, dgamma, dbeta, g, gamma, &c)
			}
			assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout, gradStep), layerGradTol)
			assertRelError(t, "dgamma", dgamma, NumericalGradientArray(f, gamma, dout, gradStep), layerGradTol)
			assertRelError(t, "dbeta", dbeta, NumericalGradientArray(f, beta, dout, gradStep), layerGradTol)
			// In place (dx = dout) gives the same.
			inPlace := FromShape(slices.Clone(dout), n, d)
			f()
			if kind == "batchnorm" {
				BatchNormBackward(inPlace, dgamma, dbeta, inPlace, gamma, &c)
			} else {
				LayerNormBackward(inPlace, dgamma, dbeta, inPlace, gamma, &c)
			}
			if !slices.Equal(inPlace.Data, dx.Data) {
				t.Error("in-place backward differs")
			}
		})
	}
}

func TestDropoutForward(t *testing.T) {
	// The coursework's check: on x ~ 10 + N(0,1) (500×500), the fraction of
	// zeroed outputs is ≈ p and the mean is ≈ the input's at training time;
	// at test time (the net's Scores) dropout is the identity.
	const n = 500
	x := FromShape(randn(41, n*n), n, n)
	for i := range x.Data {
		x.Data[i] += 10
	}
	mean := func(s []float64) float64 {
		var m float64
		for _, v := range s {
			m += v
		}
		return m / float64(len(s))
	}
	for _, p := range []float64{0.25, 0.4, 0.7} {
		out, mask := NewMat[float64](n, n), NewMat[float64](n, n)
		DropoutForward(out, mask, x, p, rand.New(rand.NewPCG(1, uint64(p*100))))
		zeros := 0
		for _, v := range out.Data {
			if v == 0 {
				zeros++
			}
		}
		if f := float64(zeros) / float64(n*n); math.Abs(f-p) > 0.005 {
			t.Errorf("p=%g: dropped fraction %.4f", p, f)
		}
		if mi, mo := mean(x.Data), mean(out.Data); math.Abs(mo-mi)/mi > 0.01 {
			t.Errorf("p=%g: mean %.4f after dropout, %.4f before", p, mo, mi)
		}
	}
	// p = 0 keeps everything.
	out, mask := NewMat[float64](n, n), NewMat[float64](n, n)
	DropoutForward(out, mask, x, 0, rand.New(rand.NewPCG(1, 2)))
	if !slices.Equal(out.Data, x.Data) {
		t.Error("p=0 changed the input")
	}
}

func TestDropoutGradcheck(t *testing.T) {
	// With a fixed mask (the same seed for every forward pass), dropout is
	// linear: the backward pass matches centred differences.
	const n, d = 10, 10
	x := FromShape(scaled(3, randn(51, n*d)), n, d)
	for i := range x.Data {
		x.Data[i] += 10
	}
	dout := randn(52, n*d)
	out, mask := NewMat[float64](n, d), NewMat[float64](n, d)
	f := func() []float64 {
		DropoutForward(out, mask, x, 0.2, rand.New(rand.NewPCG(123, 0)))
		return out.Data
	}
	f()
	dx := NewMat[float64](n, d)
	DropoutBackward(dx, FromShape(slices.Clone(dout), n, d), mask)
	assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout, gradStep), layerGradTol)
}

func TestTanhGradcheck(t *testing.T) {
	const n, d = 6, 8
	x := FromShape(scaled(2, randn(61, n*d)), n, d)
	dout := randn(62, n*d)
	out := NewMat[float64](n, d)
	f := func() []float64 { TanhForward(out, x); return out.Data }
	f()
	for i, v := range x.Data {
		if out.Data[i] != math.Tanh(v) {
			t.Fatalf("tanh(%g) = %g", v, out.Data[i])
		}
	}
	dx := NewMat[float64](n, d)
	TanhBackward(dx, FromShape(slices.Clone(dout), n, d), out)
	assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout, gradStep), layerGradTol)
}

// netCheckCoords is how many coordinates of each large parameter the net
// gradient checks test: every one of the vectors, a fixed random sample of
// the weight matrices (all of them would take minutes for [100, 100]).
const netCheckCoords = 150

// checkNetGradientsSampled compares a net's analytic gradients with centred
// differences of its loss, on sampled coordinates of every parameter.
// before runs before each loss evaluation (it fixes the dropout mask).
//
// A coordinate passes when its rel_error is below netGradTol, or when the
// two gradients differ by less than gradNoise: the differences carry
// rounding noise of about eps·loss/h ≈ 1e-10, which makes rel_error
// meaningless for the few gradients that are themselves that small (the
// biases of a batchnormed layer, whose gradient is exactly zero, and the odd
// tiny one). A wrong gradient is wrong by far more.
func checkNetGradientsSampled(t *testing.T, net *FullyConnectedNet[float64], x Mat[float64], y []int, before func()) {
	t.Helper()
	const gradNoise = 1e-9
	before()
	net.Loss(x, y)
	analytic := slices.Clone(net.Grads())
	params := net.Params()
	rng := rand.New(rand.NewPCG(9, 9))
	f := func() float64 { before(); return net.Loss(x, y) }
	for _, p := range net.Layout() {
		if p.Offset >= net.NumTrainable() {
			continue // running statistics
		}
		n := p.Rows * p.Cols
		idx := make([]int, 0, netCheckCoords)
		if n <= netCheckCoords {
			for i := range n {
				idx = append(idx, p.Offset+i)
			}
		} else {
			for range netCheckCoords {
				idx = append(idx, p.Offset+rng.IntN(n))
			}
		}
		for _, i := range idx {
			num := NumericalGradient(f, params[i:i+1], gradStep)[0]
			a := analytic[i]
			if math.Abs(a-num) < gradNoise {
				continue
			}
			if e := RelError([]float64{a}, []float64{num}); !(e < netGradTol) {
				t.Errorf("%s[%d]: analytic %g, numerical %g: rel_error %.3g, want < %.0e", p.Name, i-p.Offset, a, num, e, netGradTol)
				break
			}
		}
	}
}

func TestNetGradcheckEveryCombination(t *testing.T) {
	// [100, 100] nets, float64, with reg 0.1 (a larger one makes the loss,
	// and so the rounding noise of the differences, large against the
	// smallest gradients), for every normalisation, dropout
	// and activation: rel_error < 1e-5 per parameter, as the coursework asks.
	const n, d, c = 5, 12, 10
	x := FromShape(randn(71, n*d), n, d)
	y := []int{1, 4, 9, 0, 4}
	for _, norm := range []string{"none", "batchnorm", "layernorm"} {
		for _, drop := range [][]float64{{0}, {0.25}, {0.3, 0}} { // one value for all, or per layer
			for _, act := range []string{"relu", "swish", "tanh"} {
				name := fmt.Sprintf("%s/dropout=%v/%s", norm, drop, act)
				t.Run(name, func(t *testing.T) {
					cfg := Config{Hidden: []int{100, 100}, Activation: act, Normalization: norm,
						Dropout: drop, WeightScale: 1e-1, Reg: 0.1}
					net, err := NewNet[float64](d, c, cfg, rand.New(rand.NewPCG(72, 73)))
					if err != nil {
						t.Fatal(err)
					}
					// Non-trivial gammas and betas.
					for l := range 2 {
						for k, v := range randn(uint64(80+l), 2*len(net.Gamma(l))) {
							if k < len(net.Gamma(l)) {
								net.Gamma(l)[k] = 1 + 0.3*v
							} else {
								net.Beta(l)[k-len(net.Gamma(l))] = 0.3 * v
							}
						}
					}
					fixMask := func() { net.SetRand(rand.New(rand.NewPCG(74, 75))) }
					checkNetGradientsSampled(t, net, x, y, fixMask)
				})
			}
		}
	}
}

func TestNetLayoutWithNormalization(t *testing.T) {
	cfg := Config{Hidden: []int{6, 4}, Normalization: "batchnorm", WeightScale: 1e-2}
	net, err := NewNet[float32](5, 3, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range net.Layout() {
		names = append(names, fmt.Sprintf("%s %dx%d", p.Name, p.Rows, p.Cols))
	}
	want := []string{"W1 5x6", "b1 1x6", "gamma1 1x6", "beta1 1x6", "W2 6x4", "b2 1x4", "gamma2 1x4", "beta2 1x4",
		"W3 4x3", "b3 1x3", "running_mean1 1x6", "running_var1 1x6", "running_mean2 1x4", "running_var2 1x4"}
	if !slices.Equal(names, want) {
		t.Errorf("layout %v\nwant %v", names, want)
	}
	if got, want := net.NumTrainable(), 5*6+6*3+6*4+4*3+4*3+3; got != want || len(net.Grads()) != want {
		t.Errorf("%d trainable parameters (%d gradients), want %d", got, len(net.Grads()), want)
	}
	if got := len(net.Params()); got != net.NumTrainable()+2*(6+4) {
		t.Errorf("%d parameters in all", got)
	}
	for l := range 2 {
		for _, v := range net.Gamma(l) {
			if v != 1 {
				t.Fatalf("gamma%d starts at %g, want 1", l+1, v)
			}
		}
	}
	ln, err := NewNet[float32](5, 3, Config{Hidden: []int{6}, Normalization: "layernorm", WeightScale: 1e-2}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ln.Params()) != ln.NumTrainable() || ln.RunningMean(0) != nil {
		t.Error("layernorm keeps running statistics")
	}
}

func TestWeightInit(t *testing.T) {
	for _, tc := range []struct {
		init string
		want func(fanIn int) float64
	}{
		{"he", func(f int) float64 { return math.Sqrt(2 / float64(f)) }},
		{"xavier", func(f int) float64 { return math.Sqrt(1 / float64(f)) }},
	} {
		net, err := NewNet[float64](400, 10, Config{Hidden: []int{300, 200}, WeightInit: tc.init}, rand.New(rand.NewPCG(3, 3)))
		if err != nil {
			t.Fatal(err)
		}
		for l := range net.Layers() {
			w := net.W(l)
			_, std := colStats(Mat[float64]{Rows: len(w.Data), Cols: 1, Data: w.Data})
			if want := tc.want(w.Rows); math.Abs(std[0]-want)/want > 0.03 {
				t.Errorf("%s: W%d std %.5f, want %.5f", tc.init, l+1, std[0], want)
			}
		}
	}
}

func TestBatchNormRescuesDeepNet(t *testing.T) {
	// The coursework's experiment: a 5-layer net ([100]×4) with weight_scale
	// 2e-2 stalls without batchnorm (its activations vanish layer by layer)
	// and trains with it.
	train, val := blobSplits()
	run := func(norm string) *Result[float32] {
		cfg := Config{Hidden: []int{100, 100, 100, 100}, Normalization: norm, WeightScale: 2e-2,
			Optimizer: "adam", LearningRate: 1e-3, BatchSize: 50, Epochs: 5, Seed: 3}
		res, err := Train[float32](t.Context(), cfg, train, val, TrainOptions[float32]{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	plain, bn := run("none"), run("batchnorm")
	// Plain: the first epoch's loss stays at ln 5 (chance) and accuracy is
	// far below batchnorm's.
	if l := plain.History[0].Loss; math.Abs(l-math.Log(5)) > 0.02 {
		t.Errorf("plain net's first-epoch loss %.4f, want ln 5 = %.4f (stalled)", l, math.Log(5))
	}
	if bn.History[0].TrainAcc < 0.8 || bn.BestValAcc < 0.8 {
		t.Errorf("batchnorm net: first-epoch train acc %.3f, best val %.3f, want both >= 0.8", bn.History[0].TrainAcc, bn.BestValAcc)
	}
	if plain.History[0].TrainAcc > bn.History[0].TrainAcc-0.3 {
		t.Errorf("first-epoch train acc: plain %.3f, batchnorm %.3f: want batchnorm far ahead", plain.History[0].TrainAcc, bn.History[0].TrainAcc)
	}
}
