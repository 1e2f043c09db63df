package nn

import (
	"math"
	"testing"
)

func TestAffineForwardGolden(t *testing.T) {
	// The coursework's affine_forward check: x (2,4,5,6), w (120,3), b (3).
	x := FromShape(linspace(-0.1, 0.5, 240), 2, 4, 5, 6)
	w := FromShape(linspace(-0.2, 0.3, 360), 120, 3)
	b := linspace(-0.3, 0.1, 3)
	out := NewMat[float64](2, 3)
	AffineForward(out, x, w, b)
	want := []float64{1.49834967, 1.70660132, 1.91485297, 3.25553199, 3.5141327, 3.77273342}
	if e := RelError(out.Data, want); e > 1e-8 {
		t.Errorf("affine forward = %v, rel_error %.3g > 1e-8", out.Data, e)
	}
}

func TestReluForwardGolden(t *testing.T) {
	x := FromShape(linspace(-0.5, 0.5, 12), 3, 4)
	out := NewMat[float64](3, 4)
	ReluForward(out, x)
	want := []float64{0, 0, 0, 0, 0, 0, 0.04545455, 0.13636364, 0.22727273, 0.31818182, 0.40909091, 0.5}
	if e := RelError(out.Data, want); e > 5e-8 {
		t.Errorf("relu forward = %v, rel_error %.3g", out.Data, e)
	}
}

func TestAffineBackwardGradcheck(t *testing.T) {
	for _, reg := range []float64{0, 0.3} {
		x := FromShape(randn(1, 10*2*3), 10, 2, 3)
		w := FromShape(randn(2, 6*5), 6, 5)
		b := randn(3, 5)
		dout := FromShape(randn(4, 10*5), 10, 5)
		out := NewMat[float64](10, 5)
		f := func() []float64 { AffineForward(out, x, w, b); return out.Data }
		dx, dw, db := NewMat[float64](10, 6), NewMat[float64](6, 5), make([]float64, 5)
		AffineBackward(dx, dw, db, dout, x, w, reg)
		// The reg term's gradient is that of 0.5·reg·‖w‖², added to dout's.
		numDW := NumericalGradientArray(f, w.Data, dout.Data, gradStep)
		for i, v := range w.Data {
			numDW[i] += reg * v
		}
		assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout.Data, gradStep), layerGradTol)
		assertRelError(t, "dw", dw.Data, numDW, layerGradTol)
		assertRelError(t, "db", db, NumericalGradientArray(f, b, dout.Data, gradStep), layerGradTol)

		// No dx for the first layer: the same dw and db without it.
		dw2, db2 := NewMat[float64](6, 5), make([]float64, 5)
		AffineBackward(Mat[float64]{}, dw2, db2, dout, x, w, reg)
		if RelError(dw2.Data, dw.Data) != 0 || RelError(db2, db) != 0 {
			t.Errorf("reg %g: gradients differ when dx is not computed", reg)
		}
	}
}

func TestActivationGradcheck(t *testing.T) {
	tests := []struct {
		name     string
		forward  func(out, x Mat[float64])
		backward func(dx, dout, x Mat[float64])
	}{
		{"relu", ReluForward[float64], ReluBackward[float64]},
		{"swish", SwishForward[float64], SwishBackward[float64]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := FromShape(randn(5, 100), 10, 10)
			dout := FromShape(randn(6, 100), 10, 10)
			out := NewMat[float64](10, 10)
			f := func() []float64 { tt.forward(out, x); return out.Data }
			dx := NewMat[float64](10, 10)
			tt.backward(dx, dout, x)
			assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout.Data, gradStep), layerGradTol)
		})
	}
}

func TestSwishValues(t *testing.T) {
	// swish(x) = x·σ(x); stable at large |x|.
	x := FromShape([]float64{-800, -1, 0, 1, 800}, 1, 5)
	out := NewMat[float64](1, 5)
	SwishForward(out, x)
	s1 := 1 / (1 + math.Exp(-1))
	want := []float64{0, -1 * (1 - s1), 0, s1, 800}
	for i := range want {
		if math.Abs(out.Data[i]-want[i]) > 1e-12 {
			t.Errorf("swish(%g) = %g, want %g", x.Data[i], out.Data[i], want[i])
		}
	}
}

func TestAffineActivationPairGradcheck(t *testing.T) {
	for _, act := range []Activation{ReLU, Swish, Tanh} {
		t.Run(act.String(), func(t *testing.T) {
			x := FromShape(randn(7, 2*3*4), 2, 3, 4)
			w := FromShape(scaled(0.5, randn(8, 12*10)), 12, 10)
			b := randn(9, 10)
			dout := FromShape(randn(10, 2*10), 2, 10)
			z, out := NewMat[float64](2, 10), NewMat[float64](2, 10)
			f := func() []float64 { AffineActivationForward(act, out, z, x, w, b); return out.Data }
			f()
			dx, dw, db := NewMat[float64](2, 12), NewMat[float64](12, 10), make([]float64, 10)
			d := FromShape(append([]float64(nil), dout.Data...), 2, 10)
			AffineActivationBackward(act, dx, dw, db, d, x, w, z, out, 0)
			assertRelError(t, "dx", dx.Data, NumericalGradientArray(f, x.Data, dout.Data, gradStep), layerGradTol)
			assertRelError(t, "dw", dw.Data, NumericalGradientArray(f, w.Data, dout.Data, gradStep), layerGradTol)
			assertRelError(t, "db", db, NumericalGradientArray(f, b, dout.Data, gradStep), layerGradTol)
		})
	}
}

func TestSoftmaxLoss(t *testing.T) {
	n, c := 50, 10
	x := FromShape(scaled(0.001, randn(11, n*c)), n, c)
	y := make([]int, n)
	for i := range y {
		y[i] = (i * 7) % c
	}
	dx := NewMat[float64](n, c)
	loss := SoftmaxLoss(dx, x, y)
	if math.Abs(loss-math.Log(10)) > 0.01 {
		t.Errorf("loss of near-zero scores = %.4f, want ln 10 = 2.3026 within 0.01", loss)
	}
	f := func() float64 { return SoftmaxLoss(Mat[float64]{}, x, y) }
	assertRelError(t, "dx", dx.Data, NumericalGradient(f, x.Data, gradStep), layerGradTol)

	// Large scores do not overflow: the row max is subtracted.
	big := FromShape([]float64{1000, 0, -1000, 1000}, 2, 2)
	if l := SoftmaxLoss(Mat[float64]{}, big, []int{0, 0}); math.Abs(l-0.5*(0+2000)) > 1e-9 {
		t.Errorf("loss of large scores = %g, want 1000", l)
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	x64 := FromShape(randn(12, 8*6), 8, 6)
	w64 := FromShape(randn(13, 6*4), 6, 4)
	b64 := randn(14, 4)
	conv := func(s []float64) []float32 {
		out := make([]float32, len(s))
		for i, v := range s {
			out[i] = float32(v)
		}
		return out
	}
	out64 := NewMat[float64](8, 4)
	AffineForward(out64, x64, w64, b64)
	out32 := NewMat[float32](8, 4)
	AffineForward(out32, FromShape(conv(x64.Data), 8, 6), FromShape(conv(w64.Data), 6, 4), conv(b64))
	back := make([]float64, len(out32.Data))
	for i, v := range out32.Data {
		back[i] = float64(v)
	}
	assertRelError(t, "float32 affine", back, out64.Data, 1e-5)
}

func TestShapePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"FromShape size", func() { FromShape(make([]float64, 5), 2, 3) }},
		{"FromShape empty", func() { FromShape[float64](nil) }},
		{"affine", func() {
			AffineForward(NewMat[float64](2, 3), NewMat[float64](2, 4), NewMat[float64](5, 3), make([]float64, 3))
		}},
		{"relu", func() { ReluForward(NewMat[float64](2, 3), NewMat[float64](3, 2)) }},
		{"softmax labels", func() { SoftmaxLoss(Mat[float64]{}, NewMat[float64](2, 3), []int{0}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic on a shape mismatch")
				}
			}()
			tt.f()
		})
	}
}

func TestParseActivation(t *testing.T) {
	for _, s := range []string{"relu", "swish", "tanh"} {
		a, err := ParseActivation(s)
		if err != nil || a.String() != s {
			t.Errorf("ParseActivation(%q) = %v, %v", s, a, err)
		}
	}
	if _, err := ParseActivation("sigmoid"); err == nil {
		t.Error("ParseActivation(sigmoid) succeeded")
	}
	if s := Activation(7).String(); s != "Activation(7)" {
		t.Errorf("String = %q", s)
	}
}

func TestReluSpecialValues(t *testing.T) {
	// The branch-free float32 path agrees with max(x, 0) and x > 0 on zeros
	// of both signs (relu(-0) is +0), denormals and infinities.
	vals := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 3, -3, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	x := FromShape(vals, 1, len(vals))
	out := NewMat[float32](1, len(vals))
	ReluForward(out, x)
	dout := FromShape(make([]float32, len(vals)), 1, len(vals))
	for i := range dout.Data {
		dout.Data[i] = 7
	}
	dx := NewMat[float32](1, len(vals))
	ReluBackward(dx, dout, x)
	for i, v := range vals {
		wantOut, wantDx := float32(0), float32(0)
		if v > 0 {
			wantOut, wantDx = v, 7
		}
		if v != v {
			// A NaN input means the loss is NaN and training stops as
			// diverged: what relu passes on does not matter, only that it
			// does not panic.
			continue
		}
		if math.Float32bits(out.Data[i]) != math.Float32bits(wantOut) || dx.Data[i] != wantDx {
			t.Errorf("relu(%g) = %g, grad %g; want %g, %g", v, out.Data[i], dx.Data[i], wantOut, wantDx)
		}
	}
}
