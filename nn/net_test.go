package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// twoLayerGolden builds the coursework's TwoLayerNet test case:
// N, D, H, C = 3, 5, 50, 7 with linspace parameters and inputs.
func twoLayerGolden(t *testing.T) (*FullyConnectedNet[float64], Mat[float64]) {
	t.Helper()
	const n, d, h, c = 3, 5, 50, 7
	net, err := newNet[float64](d, []int{h}, c, ReLU, NoNorm)
	if err != nil {
		t.Fatal(err)
	}
	copy(net.W(0).Data, linspace(-0.7, 0.3, d*h))
	copy(net.B(0), linspace(-0.1, 0.9, h))
	copy(net.W(1).Data, linspace(-0.3, 0.4, h*c))
	copy(net.B(1), linspace(-0.9, 0.1, c))
	x := FromShape(transpose(linspace(-5.5, 4.5, n*d), d, n), n, d)
	return net, x
}

func TestTwoLayerNetGolden(t *testing.T) {
	net, x := twoLayerGolden(t)
	scores := net.Scores(x)
	want := []float64{
		11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096,
		12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143,
		12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319,
	}
	var diff float64
	for i := range want {
		diff += math.Abs(scores.Data[i] - want[i])
	}
	if diff >= 1e-6 {
		t.Errorf("scores differ from the coursework's by %g (sum of |diff|), want < 1e-6", diff)
	}
	y := []int{0, 5, 1}
	for _, tc := range []struct{ reg, want float64 }{{0, 3.4702243556}, {1.0, 26.5948426952}} {
		net.Reg = tc.reg
		if loss := net.Loss(x, y); math.Abs(loss-tc.want) >= 1e-10 {
			t.Errorf("reg %g: loss %.10f, want %.10f", tc.reg, loss, tc.want)
		}
	}
}

// checkNetGradients compares a net's analytic gradients with centred
// differences of its loss, parameter by parameter.
func checkNetGradients(t *testing.T, net *FullyConnectedNet[float64], x Mat[float64], y []int, tol float64) {
	t.Helper()
	net.Loss(x, y)
	analytic := slices.Clone(net.Grads())
	f := func() float64 { return net.Loss(x, y) }
	numeric := NumericalGradient(f, net.Params(), gradStep)
	for _, p := range net.Layout() {
		n := p.Rows * p.Cols
		assertRelError(t, p.Name, analytic[p.Offset:p.Offset+n], numeric[p.Offset:p.Offset+n], tol)
	}
}

func TestTwoLayerNetGradcheck(t *testing.T) {
	const n, d, h, c = 3, 5, 50, 7
	for _, reg := range []float64{0, 0.7} {
		rng := rand.New(rand.NewPCG(3, 4))
		net, err := NewFullyConnectedNet[float64](d, []int{h}, c, ReLU, 1e-3, rng)
		if err != nil {
			t.Fatal(err)
		}
		net.Reg = reg
		x := FromShape(randn(20, n*d), n, d)
		checkNetGradients(t, net, x, []int{0, 5, 1}, netGradTol)
	}
}

func TestMultiLayerNetGradcheck(t *testing.T) {
	// The coursework's FullyConnectedNet check: hidden [20, 30], N=2, D=15,
	// C=10, weight_scale 5e-2, reg 0 and 3.14.
	const n, d, c = 2, 15, 10
	for _, act := range []Activation{ReLU, Swish} {
		for _, reg := range []float64{0, 3.14} {
			rng := rand.New(rand.NewPCG(5, 6))
			net, err := NewFullyConnectedNet[float64](d, []int{20, 30}, c, act, 5e-2, rng)
			if err != nil {
				t.Fatal(err)
			}
			net.Reg = reg
			x := FromShape(randn(21, n*d), n, d)
			checkNetGradients(t, net, x, []int{3, 8}, netGradTol)
			if t.Failed() {
				t.Fatalf("activation %v, reg %g", act, reg)
			}
		}
	}
}

func TestNetInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const scale = 1e-2
	net, err := NewFullyConnectedNet[float64](300, []int{200}, 10, ReLU, scale, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Weights ~ N(0, scale²): the sample standard deviation of 60,000 draws
	// is within 2% of scale; biases are zero.
	w := net.W(0).Data
	var s, s2 float64
	for _, v := range w {
		s += v
		s2 += v * v
	}
	mean := s / float64(len(w))
	std := math.Sqrt(s2/float64(len(w)) - mean*mean)
	if math.Abs(std-scale)/scale > 0.02 || math.Abs(mean) > 1e-3*scale*10 {
		t.Errorf("W1 mean %g std %g, want 0 and %g", mean, std, scale)
	}
	for l := range net.Layers() {
		for _, v := range net.B(l) {
			if v != 0 {
				t.Fatalf("b%d is not zero", l+1)
			}
		}
	}
	layout := net.Layout()
	names := []string{}
	for _, p := range layout {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"W1", "b1", "W2", "b2"}) {
		t.Errorf("layout names %v", names)
	}
	last := layout[len(layout)-1]
	if last.Offset+last.Rows*last.Cols != len(net.Params()) || len(net.Grads()) != len(net.Params()) {
		t.Errorf("layout does not cover the %d parameters", len(net.Params()))
	}
	if net.DW(1).Rows != 200 || net.DW(1).Cols != 10 || len(net.DB(1)) != 10 {
		t.Errorf("gradient views have the wrong shape")
	}
}

func TestNewNetErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name        string
		in, classes int
		hidden      []int
		act         Activation
		scale       float64
	}{
		{"input", 0, 10, []int{5}, ReLU, 1},
		{"hidden", 4, 10, []int{5, 0}, ReLU, 1},
		{"classes", 4, 0, []int{5}, ReLU, 1},
		{"activation", 4, 10, []int{5}, Activation(9), 1},
		{"scale", 4, 10, []int{5}, ReLU, 0},
		{"nan scale", 4, 10, []int{5}, ReLU, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFullyConnectedNet[float32](tt.in, tt.hidden, tt.classes, tt.act, tt.scale, rng)
			if !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestScoresPanicsOnWrongWidth(t *testing.T) {
	net, _ := twoLayerGolden(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic for an input of the wrong width")
		}
	}()
	net.Scores(NewMat[float64](2, 4))
}

func TestNetFromParams(t *testing.T) {
	golden, x := twoLayerGolden(t)
	net, err := NetFromParams(5, []int{50}, 7, ReLU, golden.Params())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(net.Scores(x).Data, golden.Scores(x).Data) {
		t.Error("a net rebuilt from its parameters scores differently")
	}
	if _, err := NetFromParams(5, []int{50}, 7, ReLU, golden.Params()[1:]); !errors.Is(err, ErrConfig) {
		t.Errorf("wrong parameter count: err = %v", err)
	}
	zero, err := NetFromParams[float32](5, []int{50}, 7, ReLU, nil)
	if err != nil || len(zero.Params()) != len(golden.Params()) || slices.Max(zero.Params()) != 0 {
		t.Errorf("nil params: %v", err)
	}
	if _, err := NetFromParams(5, []int{-1}, 7, ReLU, golden.Params()); !errors.Is(err, ErrConfig) {
		t.Errorf("bad hidden size: err = %v", err)
	}
}
