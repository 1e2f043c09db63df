package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// FullyConnectedNet is the coursework's fully connected net:
//
//	{affine - [batch/layer norm] - activation - [dropout]} x (L-1) - affine - softmax
//
// with L = len(hidden)+1 affine layers. One hidden layer without
// normalisation or dropout is the coursework's TwoLayerNet. Weights are
// D_in×D_out (row-major, (in, out) as in the coursework), biases have D_out
// elements.
//
// All parameters live in one flat slice, Params, in the order W1, b1,
// [gamma1, beta1,] W2, b2, ..., Wn, bn, followed, with batchnorm, by the
// running statistics running_mean1, running_var1, running_mean2, ... . The
// first NumTrainable elements are the trainable parameters; their gradients
// live in Grads with the same layout. The update rules work on that prefix;
// checkpoints and kept models save all of Params, so the running statistics
// travel with the weights. The net owns its scratch buffers, sized on first
// use for the largest batch seen and reused after that: a net is not safe
// for concurrent use, but nets share read-only inputs freely.
type FullyConnectedNet[T Float] struct {
	Dims       []int         // layer sizes: input dimension, hidden sizes..., classes
	Activation Activation    // the nonlinearity after each hidden affine layer
	Norm       Normalization // after each hidden affine layer, before the activation
	Dropout    []float64     // drop probability after each hidden activation (one per hidden layer)
	Reg        float64       // L2 strength: the loss adds 0.5·Reg·Σ‖W‖², weights only

	params, grads []T
	w, dw         []Mat[T] // views of params and grads
	b, db         [][]T
	// per hidden layer, with normalisation: scale and shift (and their
	// gradients), batchnorm's running statistics.
	gamma, beta, dgamma, dbeta [][]T
	runMean, runVar            [][]T
	rng                        *rand.Rand // dropout masks

	// scratch, per hidden layer l: z[l] = pre-activation (normalised in
	// place), a[l] = activation, o[l] = a[l] after dropout, mask[l] its
	// mask, d[l] = gradient with respect to layer l's output.
	z, a, o, mask, d [][]T
	cache            []NormCache[T]
	scores           []T
}

// ParamInfo locates one parameter inside the flat parameter slice.
type ParamInfo struct {
	Name       string // W1, b1, gamma1, beta1, ..., running_mean1, running_var1: the coursework's names
	Offset     int    // first element in Params
	Rows, Cols int    // weights: in×out; vectors: 1×out
}

// NewFullyConnectedNet returns a plain net (no normalisation, no dropout)
// for inputs of dimension inputDim with the given hidden sizes and classes
// outputs. Weights are drawn from N(0, weightScale²) using rng, layer by
// layer, each row-major; biases are zero.
func NewFullyConnectedNet[T Float](inputDim int, hidden []int, classes int, act Activation, weightScale float64, rng *rand.Rand) (*FullyConnectedNet[T], error) {
	return NewNet[T](inputDim, classes, Config{Hidden: hidden, Activation: act.String(), WeightScale: weightScale}, rng)
}

// NewNet returns the net that cfg describes (Hidden, Activation,
// Normalization, Dropout, WeightScale or WeightInit, Reg) for inputs of
// dimension inputDim and classes outputs. Weights are drawn from
// N(0, s²) using rng, layer by layer, each row-major, with s = WeightScale,
// or √(2/fan_in) for WeightInit "he" and √(1/fan_in) for "xavier"; biases
// and betas are zero, gammas one, running statistics zero (the coursework's
// initial values). The net keeps rng for its dropout masks.
func NewNet[T Float](inputDim, classes int, cfg Config, rng *rand.Rand) (*FullyConnectedNet[T], error) {
	net, err := NetFromConfig[T](inputDim, classes, cfg, nil)
	if err != nil {
		return nil, err
	}
	if cfg.WeightInit == "" && !(cfg.WeightScale > 0) {
		return nil, fmt.Errorf("%w: weight_scale %g must be positive", ErrConfig, cfg.WeightScale)
	}
	for _, w := range net.w {
		scale := cfg.WeightScale
		switch cfg.WeightInit {
		case "he":
			scale = math.Sqrt(2 / float64(w.Rows))
		case "xavier":
			scale = math.Sqrt(1 / float64(w.Rows))
		}
		for i := range w.Data {
			w.Data[i] = T(scale * rng.NormFloat64())
		}
	}
	for _, g := range net.gamma {
		for i := range g {
			g[i] = 1
		}
	}
	net.rng = rng
	return net, nil
}

// NetFromParams returns a plain net (no normalisation) with the given flat
// parameters (W1, b1, W2, b2, ... as Params lays them out), copied: how a
// kept model is loaded. With nil params every parameter is zero, to be
// filled in through Params.
func NetFromParams[T Float](inputDim int, hidden []int, classes int, act Activation, params []T) (*FullyConnectedNet[T], error) {
	return NetFromConfig(inputDim, classes, Config{Hidden: hidden, Activation: act.String()}, params)
}

// NetFromConfig returns the net that cfg describes with the given flat
// parameters (all of Params, running statistics included), copied; with nil
// params every parameter is zero, to be filled in through Params. A net
// with dropout needs SetRand before Loss.
func NetFromConfig[T Float](inputDim, classes int, cfg Config, params []T) (*FullyConnectedNet[T], error) {
	act, err := ParseActivation(cfg.Activation)
	if err != nil {
		return nil, err
	}
	norm, err := ParseNormalization(cfg.Normalization)
	if err != nil {
		return nil, err
	}
	drop, err := dropouts(cfg.Dropout, len(cfg.Hidden))
	if err != nil {
		return nil, err
	}
	switch cfg.WeightInit {
	case "", "he", "xavier":
	default:
		return nil, fmt.Errorf("%w: weight initialisation %q (want he or xavier, or a number)", ErrConfig, cfg.WeightInit)
	}
	net, err := newNet[T](inputDim, cfg.Hidden, classes, act, norm)
	if err != nil {
		return nil, err
	}
	net.Dropout = drop
	net.Reg = cfg.Reg
	if params != nil && len(params) != len(net.params) {
		return nil, fmt.Errorf("%w: %d parameters for a net of %d", ErrConfig, len(params), len(net.params))
	}
	copy(net.params, params)
	return net, nil
}

// dropouts expands a Config's Dropout to one probability per hidden layer.
func dropouts(p []float64, hidden int) ([]float64, error) {
	out := make([]float64, hidden)
	switch len(p) {
	case 0:
		return out, nil
	case 1:
		for i := range out {
			out[i] = p[0]
		}
	case hidden:
		copy(out, p)
	default:
		return nil, fmt.Errorf("%w: %d dropout values for %d hidden layers (give one, or one per layer)", ErrConfig, len(p), hidden)
	}
	for _, v := range out {
		if !(v >= 0 && v < 1) {
			return nil, fmt.Errorf("%w: dropout %g must be in [0, 1)", ErrConfig, v)
		}
	}
	return out, nil
}

// newNet returns a net with all parameters zero.
func newNet[T Float](inputDim int, hidden []int, classes int, act Activation, norm Normalization) (*FullyConnectedNet[T], error) {
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
	if act != ReLU && act != Swish && act != Tanh {
		return nil, fmt.Errorf("%w: unknown activation %v", ErrConfig, act)
	}
	if norm != NoNorm && norm != BatchNorm && norm != LayerNorm {
		return nil, fmt.Errorf("%w: unknown normalization %v", ErrConfig, norm)
	}
	nh := len(hidden)
	net := &FullyConnectedNet[T]{Dims: dims, Activation: act, Norm: norm, Dropout: make([]float64, nh)}
	n := 0
	for l := 0; l+1 < len(dims); l++ {
		n += dims[l]*dims[l+1] + dims[l+1]
		if norm != NoNorm && l < nh {
			n += 2 * dims[l+1]
		}
	}
	trainable := n
	if norm == BatchNorm {
		for _, h := range hidden {
			n += 2 * h
		}
	}
	net.params = make([]T, n)
	net.grads = make([]T, trainable)
	off := 0
	take := func(k int) (p, g []T) {
		p = net.params[off : off+k]
		if off < trainable {
			g = net.grads[off : off+k]
		}
		off += k
		return p, g
	}
	for l := 0; l+1 < len(dims); l++ {
		in, out := dims[l], dims[l+1]
		w, dw := take(in * out)
		net.w = append(net.w, Mat[T]{Rows: in, Cols: out, Data: w})
		net.dw = append(net.dw, Mat[T]{Rows: in, Cols: out, Data: dw})
		b, db := take(out)
		net.b, net.db = append(net.b, b), append(net.db, db)
		if norm != NoNorm && l < nh {
			g, dg := take(out)
			be, dbe := take(out)
			net.gamma, net.dgamma = append(net.gamma, g), append(net.dgamma, dg)
			net.beta, net.dbeta = append(net.beta, be), append(net.dbeta, dbe)
		}
	}
	if norm == BatchNorm {
		for _, h := range hidden {
			m, _ := take(h)
			v, _ := take(h)
			net.runMean, net.runVar = append(net.runMean, m), append(net.runVar, v)
		}
	}
	net.z, net.a, net.o, net.mask, net.d = make([][]T, nh), make([][]T, nh), make([][]T, nh), make([][]T, nh), make([][]T, nh)
	net.cache = make([]NormCache[T], nh)
	return net, nil
}

// SetRand sets the random source of the net's dropout masks.
func (n *FullyConnectedNet[T]) SetRand(rng *rand.Rand) { n.rng = rng }

// Layers returns the number of affine layers.
func (n *FullyConnectedNet[T]) Layers() int { return len(n.w) }

// Params returns the flat parameter slice (W1, b1, ..., then any running
// statistics); it aliases the net's parameters.
func (n *FullyConnectedNet[T]) Params() []T { return n.params }

// NumTrainable returns the number of trainable parameters: the prefix of
// Params that Grads matches.
func (n *FullyConnectedNet[T]) NumTrainable() int { return len(n.grads) }

// Grads returns the flat gradient slice filled by Loss, laid out as the
// first NumTrainable elements of Params.
func (n *FullyConnectedNet[T]) Grads() []T { return n.grads }

// W returns the weights of affine layer l (0-based), a view into Params.
func (n *FullyConnectedNet[T]) W(l int) Mat[T] { return n.w[l] }

// B returns the biases of affine layer l (0-based), a view into Params.
func (n *FullyConnectedNet[T]) B(l int) []T { return n.b[l] }

// DW returns the gradient of W(l), a view into Grads.
func (n *FullyConnectedNet[T]) DW(l int) Mat[T] { return n.dw[l] }

// DB returns the gradient of B(l), a view into Grads.
func (n *FullyConnectedNet[T]) DB(l int) []T { return n.db[l] }

// Gamma and Beta return the scale and shift of hidden layer l's
// normalisation (nil without); RunningMean and RunningVar its batchnorm
// statistics (nil without). All are views into Params.
func (n *FullyConnectedNet[T]) Gamma(l int) []T       { return at(n.gamma, l) }
func (n *FullyConnectedNet[T]) Beta(l int) []T        { return at(n.beta, l) }
func (n *FullyConnectedNet[T]) RunningMean(l int) []T { return at(n.runMean, l) }
func (n *FullyConnectedNet[T]) RunningVar(l int) []T  { return at(n.runVar, l) }

func at[T Float](s [][]T, l int) []T {
	if l < len(s) {
		return s[l]
	}
	return nil
}

// Layout describes where each parameter lives in Params, in order.
func (n *FullyConnectedNet[T]) Layout() []ParamInfo {
	var out []ParamInfo
	off := 0
	add := func(name string, l, rows, cols int) {
		out = append(out, ParamInfo{Name: fmt.Sprintf("%s%d", name, l+1), Offset: off, Rows: rows, Cols: cols})
		off += rows * cols
	}
	for l, w := range n.w {
		add("W", l, w.Rows, w.Cols)
		add("b", l, 1, w.Cols)
		if l < len(n.gamma) {
			add("gamma", l, 1, w.Cols)
			add("beta", l, 1, w.Cols)
		}
	}
	for l := range n.runMean {
		add("running_mean", l, 1, len(n.runMean[l]))
		add("running_var", l, 1, len(n.runVar[l]))
	}
	return out
}

// forward runs the net on x (N×D) and returns the scores (N×C), a view of
// the net's scratch valid until the next call. Training mode normalises
// with the minibatch's statistics (updating batchnorm's running ones) and
// applies dropout; test mode uses the running statistics and no dropout.
// It keeps what backward needs.
func (n *FullyConnectedNet[T]) forward(x Mat[T], train bool) Mat[T] {
	if x.Cols != n.Dims[0] {
		panic(fmt.Sprintf("nn: input has %d columns, net expects %d", x.Cols, n.Dims[0]))
	}
	z := n.firstOut(x.Rows)
	AffineForward(z, x, n.w[0], n.b[0])
	return n.forwardFrom(z, train)
}

// firstOut returns the scratch that the first affine layer's output
// x·W1 + b1 of a rows-row minibatch lives in: hidden layer 1's
// pre-activation, or the scores of a net without hidden layers. It is
// rows×Dims[1].
func (n *FullyConnectedNet[T]) firstOut(rows int) Mat[T] {
	if len(n.w) > 1 {
		return resize(&n.z[0], rows, n.Dims[1])
	}
	return resize(&n.scores, rows, n.Dims[1])
}

// forwardFrom runs the net from the first affine layer's output z1 (the
// view firstOut returned, filled in) to the scores, as forward does.
func (n *FullyConnectedNet[T]) forwardFrom(z1 Mat[T], train bool) Mat[T] {
	last := len(n.w) - 1
	if last == 0 {
		return z1
	}
	rows := z1.Rows
	var in Mat[T]
	for l := 0; l < last; l++ {
		cols := n.Dims[l+1]
		z := z1
		if l > 0 {
			z = resize(&n.z[l], rows, cols)
			AffineForward(z, in, n.w[l], n.b[l])
		}
		switch {
		case n.Norm == LayerNorm:
			LayerNormForward(z, z, n.gamma[l], n.beta[l], NormEpsilon, &n.cache[l])
		case n.Norm == BatchNorm && train:
			BatchNormForward(z, z, n.gamma[l], n.beta[l], n.runMean[l], n.runVar[l], BatchNormMomentum, NormEpsilon, &n.cache[l])
		case n.Norm == BatchNorm:
			BatchNormInference(z, z, n.gamma[l], n.beta[l], n.runMean[l], n.runVar[l], NormEpsilon, &n.cache[l])
		}
		a := resize(&n.a[l], rows, cols)
		activationForward(n.Activation, a, z)
		in = a
		if p := n.Dropout[l]; train && p > 0 {
			if n.rng == nil {
				panic("nn: a net with dropout needs a random source (SetRand)")
			}
			o := resize(&n.o[l], rows, cols)
			DropoutForward(o, resize(&n.mask[l], rows, cols), a, p, n.rng)
			in = o
		}
	}
	scores := resize(&n.scores, rows, n.Dims[last+1])
	AffineForward(scores, in, n.w[last], n.b[last])
	return scores
}

// input returns the input of affine layer l > 0 in the last training-time
// forward pass of a rows-row minibatch.
func (n *FullyConnectedNet[T]) input(l, rows int) Mat[T] {
	buf := n.a[l-1]
	if n.Dropout[l-1] > 0 {
		buf = n.o[l-1]
	}
	return Mat[T]{Rows: rows, Cols: n.Dims[l], Data: buf}
}

// Scores returns the class scores of the rows of x (the test-time forward
// pass). The result is a view of the net's scratch, valid until the next call
// of Scores or Loss.
func (n *FullyConnectedNet[T]) Scores(x Mat[T]) Mat[T] { return n.forward(x, false) }

// Loss runs the training-time forward and backward pass on the minibatch x
// with labels y: it returns the data loss plus 0.5·Reg·Σ‖W‖² and fills Grads
// with the gradient of that loss with respect to every trainable parameter.
// With batchnorm it also moves the running statistics; with dropout it
// draws new masks.
func (n *FullyConnectedNet[T]) Loss(x Mat[T], y []int) float64 {
	if x.Cols != n.Dims[0] {
		panic(fmt.Sprintf("nn: input has %d columns, net expects %d", x.Cols, n.Dims[0]))
	}
	z1 := n.firstOut(x.Rows)
	AffineForward(z1, x, n.w[0], n.b[0])
	loss, dz1 := n.lossFrom(z1, y)
	AffineBackward(Mat[T]{}, n.dw[0], n.db[0], dz1, x, n.w[0], n.Reg)
	return loss + n.regLoss(n.w[0].Data)
}

// lossFrom is Loss from the first affine layer's output z1 (the view
// firstOut returned, filled in) up, and back down to the gradient with
// respect to z1, which it returns (a view of the net's scratch, valid until
// the next call) with the data loss (without the L2 term: regLoss). It
// fills every gradient
// but the first layer's dW1 and db1: those are xᵀ·dz1 + Reg·W1 and the
// column sums of dz1, which the caller computes (Loss with AffineBackward,
// TrainGroup with one product for the whole group).
func (n *FullyConnectedNet[T]) lossFrom(z1 Mat[T], y []int) (float64, Mat[T]) {
	scores := n.forwardFrom(z1, true)
	// dscores overwrites scores in place.
	loss := SoftmaxLoss(scores, scores, y)
	dout := scores
	rows := z1.Rows
	last := len(n.w) - 1
	for l := last; ; l-- {
		if l < last {
			cols := n.Dims[l+1]
			if n.Dropout[l] > 0 {
				DropoutBackward(dout, dout, Mat[T]{Rows: rows, Cols: cols, Data: n.mask[l]})
			}
			z := Mat[T]{Rows: rows, Cols: cols, Data: n.z[l]}
			activationBackward(n.Activation, dout, dout, z, Mat[T]{Rows: rows, Cols: cols, Data: n.a[l]})
			switch n.Norm {
			case BatchNorm:
				BatchNormBackward(dout, n.dgamma[l], n.dbeta[l], dout, n.gamma[l], &n.cache[l])
			case LayerNorm:
				LayerNormBackward(dout, n.dgamma[l], n.dbeta[l], dout, n.gamma[l], &n.cache[l])
			}
		}
		if l == 0 {
			break
		}
		dx := resize(&n.d[l-1], rows, n.Dims[l])
		AffineBackward(dx, n.dw[l], n.db[l], dout, n.input(l, rows), n.w[l], n.Reg)
		dout = dx
	}
	return loss, dout
}

// regLoss returns 0.5·Reg·Σ‖W‖² (each ‖W‖² a BLAS dot product), with the
// first layer's weights w1: n.w[0].Data, or wherever a fused group holds
// them (in another order: the sum is the same but for rounding).
func (n *FullyConnectedNet[T]) regLoss(w1 []T) float64 {
	if n.Reg == 0 {
		return 0
	}
	s := dot(w1, w1)
	for _, w := range n.w[1:] {
		s += dot(w.Data, w.Data)
	}
	return 0.5 * n.Reg * s
}
