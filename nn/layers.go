package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
)

// The layer functions are stateless: the caller owns every matrix, inputs are
// read and outputs written in place, so a net can size its buffers once and
// reuse them for every minibatch. Shapes are checked; a mismatch is a
// programmer error and panics.

// AffineForward sets out = x·w + b, where x is N×D (an input of shape
// (N, d1, ..., dk) viewed as N×D with FromShape), w is D×M, b has M elements
// and out is N×M.
func AffineForward[T Float](out, x, w Mat[T], b []T) {
	if x.Cols != w.Rows || out.Rows != x.Rows || out.Cols != w.Cols || len(b) != w.Cols {
		panic(fmt.Sprintf("nn: AffineForward: x %dx%d, w %dx%d, b %d, out %dx%d",
			x.Rows, x.Cols, w.Rows, w.Cols, len(b), out.Rows, out.Cols))
	}
	for i := 0; i < out.Rows; i++ {
		copy(out.Row(i), b)
	}
	gemm(blas.NoTrans, blas.NoTrans, x.Rows, w.Cols, x.Cols, 1, x.Data, x.Cols, w.Data, w.Cols, 1, out.Data, out.Cols)
}

// AffineBackward computes the gradients of an affine layer from the upstream
// gradient dout (N×M), the layer's input x (N×D) and weights w (D×M):
// dw = xᵀ·dout + reg·w, db = the column sums of dout and, unless dx.Data is
// nil, dx = dout·wᵀ. The first layer of a net passes a nil dx: nothing uses
// the gradient with respect to the data. reg adds the gradient of the L2
// penalty 0.5·reg·‖w‖²; pass 0 for none.
func AffineBackward[T Float](dx, dw Mat[T], db []T, dout, x, w Mat[T], reg float64) {
	if x.Cols != w.Rows || dout.Rows != x.Rows || dout.Cols != w.Cols || len(db) != w.Cols {
		panic(fmt.Sprintf("nn: AffineBackward: dout %dx%d, x %dx%d, w %dx%d, db %d",
			dout.Rows, dout.Cols, x.Rows, x.Cols, w.Rows, w.Cols, len(db)))
	}
	mustSameShape("AffineBackward dw", dw, w)
	gemm(blas.Trans, blas.NoTrans, x.Cols, dout.Cols, x.Rows, 1, x.Data, x.Cols, dout.Data, dout.Cols, 0, dw.Data, dw.Cols)
	if reg != 0 {
		axpy(T(reg), w.Data, dw.Data)
	}
	colSums(db, dout)
	if dx.Data != nil {
		mustSameShape("AffineBackward dx", dx, x)
		gemm(blas.NoTrans, blas.Trans, dout.Rows, w.Rows, dout.Cols, 1, dout.Data, dout.Cols, w.Data, w.Cols, 0, dx.Data, dx.Cols)
	}
}

// colSums sets s[j] = Σ_i m(i, j).
func colSums[T Float](s []T, m Mat[T]) {
	clear(s)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			s[j] += v
		}
	}
}

// Activation is the nonlinearity between the affine layers of a net.
type Activation int

const (
	ReLU  Activation = iota // max(0, x)
	Swish                   // x·σ(x)
	Tanh                    // tanh(x)
)

// String returns the spec name of a: "relu", "swish" or "tanh".
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "relu"
	case Swish:
		return "swish"
	case Tanh:
		return "tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation returns the activation named s ("relu", "swish" or "tanh").
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "relu", "":
		return ReLU, nil
	case "swish":
		return Swish, nil
	case "tanh":
		return Tanh, nil
	}
	return 0, fmt.Errorf("%w: activation %q (want relu, swish or tanh)", ErrConfig, s)
}

// ReluForward sets out = max(0, x) elementwise. out may be x.
func ReluForward[T Float](out, x Mat[T]) {
	mustSameShape("ReluForward", out, x)
	if xs, ok := any(x.Data).([]float32); ok {
		o := any(out.Data).([]float32)[:len(xs)]
		for i, v := range xs {
			b := math.Float32bits(v)
			o[i] = math.Float32frombits(b & positiveMask(b)) // branch-free: see ReluBackward
		}
		return
	}
	for i, v := range x.Data {
		out.Data[i] = max(v, 0)
	}
}

// positiveMask returns all ones when the float32 with bits b is > 0 (b, as
// an int32, is positive), else zero: also for -0, the int32 minimum, whose
// negation as an int64 is positive.
func positiveMask(b uint32) uint32 { return uint32(-int64(int32(b)) >> 63) }

// ReluBackward sets dx = dout where x > 0 and 0 elsewhere; x is the layer's
// input. dx may be dout. The mask is computed without branches: the signs of
// a layer's inputs are random, and mispredicted branches cost more than the
// arithmetic.
func ReluBackward[T Float](dx, dout, x Mat[T]) {
	mustSameShape("ReluBackward", dx, dout)
	mustSameShape("ReluBackward", dout, x)
	switch xs := any(x.Data).(type) {
	case []float32:
		d, g := any(dx.Data).([]float32)[:len(xs)], any(dout.Data).([]float32)[:len(xs)]
		for i, v := range xs {
			d[i] = math.Float32frombits(math.Float32bits(g[i]) & positiveMask(math.Float32bits(v)))
		}
	case []float64:
		d, g := any(dx.Data).([]float64)[:len(xs)], any(dout.Data).([]float64)[:len(xs)]
		for i, v := range xs {
			var r uint64
			if v > 0 {
				r = math.Float64bits(g[i])
			}
			d[i] = math.Float64frombits(r)
		}
	}
}

// sigmoid is the logistic function, computed without overflow for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// SwishForward sets out = x·σ(x) elementwise. out may not be x: the backward
// pass needs the input.
func SwishForward[T Float](out, x Mat[T]) {
	mustSameShape("SwishForward", out, x)
	for i, v := range x.Data {
		f := float64(v)
		out.Data[i] = T(f * sigmoid(f))
	}
}

// SwishBackward sets dx = dout·σ(x)·(1 + x·(1 − σ(x))); x is the layer's
// input. dx may be dout.
func SwishBackward[T Float](dx, dout, x Mat[T]) {
	mustSameShape("SwishBackward", dx, dout)
	mustSameShape("SwishBackward", dout, x)
	for i, v := range x.Data {
		f := float64(v)
		s := sigmoid(f)
		dx.Data[i] = T(float64(dout.Data[i]) * s * (1 + f*(1-s)))
	}
}

// TanhForward sets out = tanh(x) elementwise. out may be x.
func TanhForward[T Float](out, x Mat[T]) {
	mustSameShape("TanhForward", out, x)
	for i, v := range x.Data {
		out.Data[i] = T(math.Tanh(float64(v)))
	}
}

// TanhBackward sets dx = dout·(1 − out²), where out is the forward pass's
// output. dx may be dout.
func TanhBackward[T Float](dx, dout, out Mat[T]) {
	mustSameShape("TanhBackward", dx, dout)
	mustSameShape("TanhBackward", dout, out)
	for i, y := range out.Data {
		dx.Data[i] = dout.Data[i] * (1 - y*y)
	}
}

// activationForward applies act: out = act(z).
func activationForward[T Float](act Activation, out, z Mat[T]) {
	switch act {
	case Swish:
		SwishForward(out, z)
	case Tanh:
		TanhForward(out, z)
	default:
		ReluForward(out, z)
	}
}

// activationBackward sets dz = dout·act'(z), from the forward pass's input z
// and output a; dz may be dout.
func activationBackward[T Float](act Activation, dz, dout, z, a Mat[T]) {
	switch act {
	case Swish:
		SwishBackward(dz, dout, z)
	case Tanh:
		TanhBackward(dz, dout, a)
	default:
		ReluBackward(dz, dout, z)
	}
}

// AffineActivationForward is the affine-activation pair: z = x·w + b,
// out = act(z). z and out are the caller's; both are kept for the backward
// pass.
func AffineActivationForward[T Float](act Activation, out, z, x, w Mat[T], b []T) {
	AffineForward(z, x, w, b)
	activationForward(act, out, z)
}

// AffineActivationBackward is the backward pass of AffineActivationForward:
// from the upstream gradient dout and the forward pass's x, w, z and out it
// sets dw, db and (unless dx.Data is nil) dx. dout is overwritten with the
// gradient with respect to z.
func AffineActivationBackward[T Float](act Activation, dx, dw Mat[T], db []T, dout, x, w, z, out Mat[T], reg float64) {
	activationBackward(act, dout, dout, z, out)
	AffineBackward(dx, dw, db, dout, x, w, reg)
}

// SoftmaxLoss returns the mean softmax cross-entropy loss of scores (N×C)
// against the labels y (N values in [0, C)), and, unless dscores.Data is nil,
// sets dscores = (p − 1[y]) / N, p the softmax probabilities. The row maximum
// is subtracted before exponentiation, so large scores do not overflow. The
// loss is accumulated in float64. dscores may be scores. A label out of range
// panics: labels are checked when data is loaded.
func SoftmaxLoss[T Float](dscores, scores Mat[T], y []int) float64 {
	if len(y) != scores.Rows {
		panic(fmt.Sprintf("nn: SoftmaxLoss: %d labels for %d rows", len(y), scores.Rows))
	}
	grad := dscores.Data != nil
	if grad {
		mustSameShape("SoftmaxLoss", dscores, scores)
	}
	n := float64(scores.Rows)
	var loss float64
	for i := 0; i < scores.Rows; i++ {
		row := scores.Row(i)
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		shifted := float64(row[y[i]] - m)
		if !grad {
			var sum float64
			for _, v := range row {
				sum += math.Exp(float64(v - m))
			}
			loss -= shifted - math.Log(sum)
			continue
		}
		// Exponentiate once, into dscores, then normalise there.
		d := dscores.Row(i)
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			sum += e
			d[j] = T(e)
		}
		loss -= shifted - math.Log(sum)
		scale := 1 / (sum * n)
		for j, e := range d {
			d[j] = T(float64(e) * scale)
		}
		d[y[i]] -= T(1 / n)
	}
	return loss / n
}
