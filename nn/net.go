package nn

import (
	"fmt"
	"math/rand/v2"
)

// FullyConnectedNet is the coursework's fully connected net:
//
//	{affine - activation} x (L-1) - affine - softmax
//
// with L = len(hidden)+1 affine layers. One hidden layer is the coursework's
// TwoLayerNet. Weights are D_in×D_out (row-major, (in, out) as in the
// coursework), biases have D_out elements.
//
// All parameters live in one flat slice, Params, in the order
// W1, b1, W2, b2, ...; the gradients live in Grads with the same layout. The
// update rules and checkpoints work on these flat slices. The net owns its
// scratch buffers (activations, gradients of the hidden layers), sized on
// first use for the largest batch seen and reused after that: a net is not
// safe for concurrent use, but nets share read-only inputs freely.
type FullyConnectedNet[T Float] struct {
	Dims       []int      // layer sizes: input dimension, hidden sizes..., classes
	Activation Activation // the nonlinearity after each hidden affine layer
	Reg        float64    // L2 strength: the loss adds 0.5·Reg·Σ‖W‖², weights only

	params, grads []T
	w, dw         []Mat[T] // views of params and grads
	b, db         [][]T

	// scratch, per hidden layer l: z[l] = pre-activation, a[l] = activation,
	// d[l] = gradient with respect to a[l] (then z[l], in place).
	z, a, d [][]T
	scores  []T
}

// ParamInfo locates one parameter inside the flat parameter slice.
type ParamInfo struct {
	Name       string // W1, b1, W2, b2, ...: the coursework's names
	Offset     int    // first element in Params
	Rows, Cols int    // weights: in×out; biases: 1×out
}

// NewFullyConnectedNet returns a net for inputs of dimension inputDim with
// the given hidden sizes and classes outputs. Weights are drawn from
// N(0, weightScale²) using rng, layer by layer, each row-major; biases are
// zero.
func NewFullyConnectedNet[T Float](inputDim int, hidden []int, classes int, act Activation, weightScale float64, rng *rand.Rand) (*FullyConnectedNet[T], error) {
	net, err := newNet[T](inputDim, hidden, classes, act)
	if err != nil {
		return nil, err
	}
	if !(weightScale > 0) {
		return nil, fmt.Errorf("%w: weight_scale %g must be positive", ErrConfig, weightScale)
	}
	for _, w := range net.w {
		for i := range w.Data {
			w.Data[i] = T(weightScale * rng.NormFloat64())
		}
	}
	return net, nil
}

// NetFromParams returns a net with the given flat parameters (W1, b1, W2,
// b2, ... as Params lays them out), copied: how a kept model is loaded. With
// nil params every parameter is zero, to be filled in through Params.
func NetFromParams[T Float](inputDim int, hidden []int, classes int, act Activation, params []T) (*FullyConnectedNet[T], error) {
	net, err := newNet[T](inputDim, hidden, classes, act)
	if err != nil {
		return nil, err
	}
	if params != nil && len(params) != len(net.params) {
		return nil, fmt.Errorf("%w: %d parameters for a net of %d", ErrConfig, len(params), len(net.params))
	}
	copy(net.params, params)
	return net, nil
}

// newNet returns a net with all parameters zero.
func newNet[T Float](inputDim int, hidden []int, classes int, act Activation) (*FullyConnectedNet[T], error) {
	dims := make([]int, 0, len(hidden)+2)
	dims = append(dims, inputDim)
	dims = append(dims, hidden...)
	dims = append(dims, classes)
	for i, d := range dims {
		if d <= 0 {
			what := fmt.Sprintf("hidden size %d", i)
			switch i {
			case 0:
				what = "input dimension"
			case len(dims) - 1:
				what = "number of classes"
			}
			return nil, fmt.Errorf("%w: %s is %d, must be positive", ErrConfig, what, d)
		}
	}
	if act != ReLU && act != Swish {
		return nil, fmt.Errorf("%w: unknown activation %v", ErrConfig, act)
	}
	net := &FullyConnectedNet[T]{Dims: dims, Activation: act}
	n := 0
	for l := 0; l+1 < len(dims); l++ {
		n += dims[l]*dims[l+1] + dims[l+1]
	}
	net.params = make([]T, n)
	net.grads = make([]T, n)
	off := 0
	for l := 0; l+1 < len(dims); l++ {
		in, out := dims[l], dims[l+1]
		net.w = append(net.w, Mat[T]{Rows: in, Cols: out, Data: net.params[off : off+in*out]})
		net.dw = append(net.dw, Mat[T]{Rows: in, Cols: out, Data: net.grads[off : off+in*out]})
		off += in * out
		net.b = append(net.b, net.params[off:off+out])
		net.db = append(net.db, net.grads[off:off+out])
		off += out
	}
	nh := len(hidden)
	net.z, net.a, net.d = make([][]T, nh), make([][]T, nh), make([][]T, nh)
	return net, nil
}

// Layers returns the number of affine layers.
func (n *FullyConnectedNet[T]) Layers() int { return len(n.w) }

// Params returns the flat parameter slice (W1, b1, W2, b2, ...); it aliases
// the net's parameters.
func (n *FullyConnectedNet[T]) Params() []T { return n.params }

// Grads returns the flat gradient slice filled by Loss, laid out as Params.
func (n *FullyConnectedNet[T]) Grads() []T { return n.grads }

// W returns the weights of affine layer l (0-based), a view into Params.
func (n *FullyConnectedNet[T]) W(l int) Mat[T] { return n.w[l] }

// B returns the biases of affine layer l (0-based), a view into Params.
func (n *FullyConnectedNet[T]) B(l int) []T { return n.b[l] }

// DW returns the gradient of W(l), a view into Grads.
func (n *FullyConnectedNet[T]) DW(l int) Mat[T] { return n.dw[l] }

// DB returns the gradient of B(l), a view into Grads.
func (n *FullyConnectedNet[T]) DB(l int) []T { return n.db[l] }

// Layout describes where each parameter lives in Params, in order.
func (n *FullyConnectedNet[T]) Layout() []ParamInfo {
	var out []ParamInfo
	off := 0
	for l, w := range n.w {
		out = append(out, ParamInfo{Name: fmt.Sprintf("W%d", l+1), Offset: off, Rows: w.Rows, Cols: w.Cols})
		off += len(w.Data)
		out = append(out, ParamInfo{Name: fmt.Sprintf("b%d", l+1), Offset: off, Rows: 1, Cols: len(n.b[l])})
		off += len(n.b[l])
	}
	return out
}

// forward runs the net on x (N×D) and returns the scores (N×C), a view of
// the net's scratch valid until the next call. It keeps z and a for backward.
func (n *FullyConnectedNet[T]) forward(x Mat[T]) Mat[T] {
	if x.Cols != n.Dims[0] {
		panic(fmt.Sprintf("nn: input has %d columns, net expects %d", x.Cols, n.Dims[0]))
	}
	in := x
	last := len(n.w) - 1
	for l := 0; l < last; l++ {
		z := resize(&n.z[l], x.Rows, n.Dims[l+1])
		a := resize(&n.a[l], x.Rows, n.Dims[l+1])
		AffineActivationForward(n.Activation, a, z, in, n.w[l], n.b[l])
		in = a
	}
	scores := resize(&n.scores, x.Rows, n.Dims[last+1])
	AffineForward(scores, in, n.w[last], n.b[last])
	return scores
}

// Scores returns the class scores of the rows of x (the test-time forward
// pass). The result is a view of the net's scratch, valid until the next call
// of Scores or Loss.
func (n *FullyConnectedNet[T]) Scores(x Mat[T]) Mat[T] { return n.forward(x) }

// Loss runs the training-time forward and backward pass on the minibatch x
// with labels y: it returns the data loss plus 0.5·Reg·Σ‖W‖² and fills Grads
// with the gradient of that loss with respect to every parameter.
func (n *FullyConnectedNet[T]) Loss(x Mat[T], y []int) float64 {
	scores := n.forward(x)
	// dscores overwrites scores in place.
	loss := SoftmaxLoss(scores, scores, y)
	dout := scores
	for l := len(n.w) - 1; l >= 0; l-- {
		in := x
		if l > 0 {
			in = Mat[T]{Rows: x.Rows, Cols: n.Dims[l], Data: n.a[l-1]}
		}
		var dx Mat[T]
		if l > 0 {
			dx = resize(&n.d[l-1], x.Rows, n.Dims[l])
		}
		if l == len(n.w)-1 {
			AffineBackward(dx, n.dw[l], n.db[l], dout, in, n.w[l], n.Reg)
		} else {
			z := Mat[T]{Rows: x.Rows, Cols: n.Dims[l+1], Data: n.z[l]}
			AffineActivationBackward(n.Activation, dx, n.dw[l], n.db[l], dout, in, n.w[l], z, n.Reg)
		}
		dout = dx
	}
	return loss + n.regLoss()
}

// regLoss returns 0.5·Reg·Σ‖W‖² (each ‖W‖² a BLAS dot product).
func (n *FullyConnectedNet[T]) regLoss() float64 {
	if n.Reg == 0 {
		return 0
	}
	var s float64
	for _, w := range n.w {
		s += dot(w.Data, w.Data)
	}
	return 0.5 * n.Reg * s
}
