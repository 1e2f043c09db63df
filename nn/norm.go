package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Normalisation and dropout layers, as in the coursework's second assignment.
// Like the other layer functions they are stateless: the caller owns every
// buffer, including the cache (xhat, istd) that the backward pass reads.
// Statistics are accumulated in float64 whatever T is.

// Normalization is the layer a net puts after each hidden affine layer,
// before its activation.
type Normalization int

const (
	NoNorm    Normalization = iota // none
	BatchNorm                      // per feature over the minibatch; running statistics at test time
	LayerNorm                      // per sample over the features
)

// BatchNorm's constants, the coursework's defaults.
const (
	BatchNormMomentum = 0.9  // running = m·running + (1−m)·batch
	NormEpsilon       = 1e-5 // added to the variance
)

// String returns the spec name of n.
func (n Normalization) String() string {
	switch n {
	case NoNorm:
		return "none"
	case BatchNorm:
		return "batchnorm"
	case LayerNorm:
		return "layernorm"
	}
	return fmt.Sprintf("Normalization(%d)", int(n))
}

// ParseNormalization returns the normalisation named s ("" is none).
func ParseNormalization(s string) (Normalization, error) {
	switch s {
	case "none", "":
		return NoNorm, nil
	case "batchnorm":
		return BatchNorm, nil
	case "layernorm":
		return LayerNorm, nil
	}
	return 0, fmt.Errorf("%w: normalization %q (want none, batchnorm or layernorm)", ErrConfig, s)
}

// NormCache is what a normalisation layer's training-time forward pass
// keeps for its backward pass: the normalised input and the inverse standard
// deviations (per feature for batchnorm, per sample for layernorm). The
// caller owns one per layer and reuses it; its buffers grow on first use and
// are reused after that, so the layers do not allocate.
type NormCache[T Float] struct {
	Xhat Mat[T]
	IStd []T

	xhat []T       // Xhat's storage
	acc  []float64 // float64 accumulators: two per feature or sample
}

// prepare sizes the cache for an n×d input with k statistics.
func (c *NormCache[T]) prepare(n, d, k int) (a, b []float64) {
	c.Xhat = resize(&c.xhat, n, d)
	if cap(c.IStd) < k {
		c.IStd = make([]T, k)
	}
	c.IStd = c.IStd[:k]
	if cap(c.acc) < 2*k {
		c.acc = make([]float64, 2*k)
	}
	c.acc = c.acc[:2*k]
	clear(c.acc)
	return c.acc[:k], c.acc[k:]
}

func checkNorm(op string, d int, vecs ...int) {
	for _, n := range vecs {
		if n != d {
			// A copy goes to Sprintf: vecs itself does not escape, so the
			// callers' argument lists stay on the stack.
			panic(fmt.Sprintf("nn: %s: %d features, parameter vectors of %v", op, d, slices.Clone(vecs)))
		}
	}
}

// BatchNormForward is training-time batch normalisation of x (N×D), feature
// by feature: xhat = (x − μ)/√(σ² + eps) with the minibatch's mean μ and
// biased variance σ², out = gamma·xhat + beta. The cache keeps xhat and
// 1/√(σ² + eps) for BatchNormBackward. The running statistics move towards
// the minibatch's: running = momentum·running + (1−momentum)·batch. out may
// be x.
func BatchNormForward[T Float](out, x Mat[T], gamma, beta, runMean, runVar []T, momentum, eps float64, c *NormCache[T]) {
	mustSameShape("BatchNormForward", out, x)
	d := x.Cols
	checkNorm("BatchNormForward", d, len(gamma), len(beta), len(runMean), len(runVar))
	mean, vr := c.prepare(x.Rows, d, d)
	n := float64(x.Rows)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= n
	}
	// The variance about the mean, a second pass: no cancellation.
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			e := float64(v) - mean[j]
			vr[j] += e * e
		}
	}
	for j := range vr {
		vr[j] /= n
		c.IStd[j] = T(1 / math.Sqrt(vr[j]+eps))
		runMean[j] = T(momentum*float64(runMean[j]) + (1-momentum)*mean[j])
		runVar[j] = T(momentum*float64(runVar[j]) + (1-momentum)*vr[j])
	}
	for i := 0; i < x.Rows; i++ {
		xr, hr, or := x.Row(i), c.Xhat.Row(i), out.Row(i)
		for j, v := range xr {
			h := T(float64(v)-mean[j]) * c.IStd[j]
			hr[j] = h
			or[j] = gamma[j]*h + beta[j]
		}
	}
}

// BatchNormInference is test-time batch normalisation: the running
// statistics take the minibatch's place, out = gamma·(x − running_mean)/
// √(running_var + eps) + beta. It uses only the cache's scratch. out may be
// x.
func BatchNormInference[T Float](out, x Mat[T], gamma, beta, runMean, runVar []T, eps float64, c *NormCache[T]) {
	mustSameShape("BatchNormInference", out, x)
	d := x.Cols
	checkNorm("BatchNormInference", d, len(gamma), len(beta), len(runMean), len(runVar))
	if cap(c.acc) < 2*d {
		c.acc = make([]float64, 2*d)
	}
	s, t := c.acc[:d], c.acc[d:2*d] // out = x·s + t
	for j := range s {
		s[j] = float64(gamma[j]) / math.Sqrt(float64(runVar[j])+eps)
		t[j] = float64(beta[j]) - float64(runMean[j])*s[j]
	}
	for i := 0; i < x.Rows; i++ {
		xr, or := x.Row(i), out.Row(i)
		for j, v := range xr {
			or[j] = T(float64(v)*s[j] + t[j])
		}
	}
}

// BatchNormBackward is the backward pass of BatchNormForward: from the
// upstream gradient dout, gamma and the forward pass's cache it sets
// dgamma = Σ dout·xhat, dbeta = Σ dout (sums over the minibatch) and
// dx = gamma·istd/N · (N·dout − dbeta − xhat·dgamma), the simplified form
// of the coursework's batchnorm_backward_alt. dx may be dout.
func BatchNormBackward[T Float](dx Mat[T], dgamma, dbeta []T, dout Mat[T], gamma []T, c *NormCache[T]) {
	mustSameShape("BatchNormBackward", dx, dout)
	mustSameShape("BatchNormBackward cache", c.Xhat, dout)
	d := dout.Cols
	checkNorm("BatchNormBackward", d, len(dgamma), len(dbeta), len(gamma), len(c.IStd))
	sg, sb := c.acc[:d], c.acc[d:2*d]
	clear(sg)
	clear(sb)
	for i := 0; i < dout.Rows; i++ {
		hr := c.Xhat.Row(i)
		for j, g := range dout.Row(i) {
			sb[j] += float64(g)
			sg[j] += float64(g) * float64(hr[j])
		}
	}
	n := float64(dout.Rows)
	for j := range sg {
		dgamma[j], dbeta[j] = T(sg[j]), T(sb[j])
		k := float64(gamma[j]) * float64(c.IStd[j]) / n
		sb[j], sg[j] = k*sb[j], k*sg[j] // the mean terms, scaled
	}
	for i := 0; i < dout.Rows; i++ {
		hr, gr, dr := c.Xhat.Row(i), dout.Row(i), dx.Row(i)
		for j, g := range gr {
			k := float64(gamma[j]) * float64(c.IStd[j])
			dr[j] = T(k*float64(g) - sb[j] - float64(hr[j])*sg[j])
		}
	}
}

// LayerNormForward is layer normalisation of x (N×D), sample by sample:
// xhat = (x − μ)/√(σ² + eps) with each row's mean and biased variance over
// its D features, out = gamma·xhat + beta (per feature). It is the same at
// training and test time. The cache keeps xhat and the rows' 1/√(σ² + eps).
// out may be x.
func LayerNormForward[T Float](out, x Mat[T], gamma, beta []T, eps float64, c *NormCache[T]) {
	mustSameShape("LayerNormForward", out, x)
	d := x.Cols
	checkNorm("LayerNormForward", d, len(gamma), len(beta))
	c.prepare(x.Rows, d, x.Rows)
	for i := 0; i < x.Rows; i++ {
		xr, hr, or := x.Row(i), c.Xhat.Row(i), out.Row(i)
		var m float64
		for _, v := range xr {
			m += float64(v)
		}
		m /= float64(d)
		var vr float64
		for _, v := range xr {
			e := float64(v) - m
			vr += e * e
		}
		is := 1 / math.Sqrt(vr/float64(d)+eps)
		c.IStd[i] = T(is)
		for j, v := range xr {
			h := T((float64(v) - m) * is)
			hr[j] = h
			or[j] = gamma[j]*h + beta[j]
		}
	}
}

// LayerNormBackward is the backward pass of LayerNormForward: dgamma =
// Σ dout·xhat, dbeta = Σ dout (over the minibatch) and, per row, with
// g = dout·gamma, dx = istd/D · (D·g − Σg − xhat·Σ(g·xhat)). dx may be dout.
func LayerNormBackward[T Float](dx Mat[T], dgamma, dbeta []T, dout Mat[T], gamma []T, c *NormCache[T]) {
	mustSameShape("LayerNormBackward", dx, dout)
	mustSameShape("LayerNormBackward cache", c.Xhat, dout)
	d := dout.Cols
	checkNorm("LayerNormBackward", d, len(dgamma), len(dbeta), len(gamma))
	if len(c.IStd) != dout.Rows {
		panic(fmt.Sprintf("nn: LayerNormBackward: %d rows, cache of %d", dout.Rows, len(c.IStd)))
	}
	clear(dgamma)
	clear(dbeta)
	fd := float64(d)
	for i := 0; i < dout.Rows; i++ {
		hr, gr, dr := c.Xhat.Row(i), dout.Row(i), dx.Row(i)
		var sg, sgh float64
		for j, g := range gr {
			dgamma[j] += g * hr[j]
			dbeta[j] += g
			gg := float64(g) * float64(gamma[j])
			sg += gg
			sgh += gg * float64(hr[j])
		}
		is := float64(c.IStd[i])
		for j, g := range gr {
			gg := float64(g) * float64(gamma[j])
			dr[j] = T(is / fd * (fd*gg - sg - float64(hr[j])*sgh))
		}
	}
}

// DropoutForward is inverted dropout at training time: each element of x is
// dropped (set to 0) with probability p and the others are scaled by
// 1/(1−p), so the expected output is x and test time needs no change. The
// mask (0 or the scale, per element) is drawn from rng and kept for
// DropoutBackward. Each draw of rng decides four elements, 16 bits each: p
// is used to a precision of 2⁻¹⁶, and the scale is that of the rounded p, so
// the mean is preserved exactly. out may be x.
func DropoutForward[T Float](out, mask, x Mat[T], p float64, rng *rand.Rand) {
	mustSameShape("DropoutForward", out, x)
	mustSameShape("DropoutForward mask", mask, x)
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: DropoutForward: p = %g outside [0, 1)", p))
	}
	drop := uint64(math.Round(p * 65536)) // dropped when the 16 bits are below
	scale := T(65536 / float64(65536-drop))
	m := mask.Data
	var u uint64
	for i := range m {
		if i%4 == 0 {
			u = rng.Uint64()
		}
		if u&0xffff < drop {
			m[i] = 0
		} else {
			m[i] = scale
		}
		u >>= 16
	}
	for i, v := range x.Data {
		out.Data[i] = v * m[i]
	}
}

// DropoutBackward sets dx = dout·mask. dx may be dout.
func DropoutBackward[T Float](dx, dout, mask Mat[T]) {
	mustSameShape("DropoutBackward", dx, dout)
	mustSameShape("DropoutBackward mask", mask, dout)
	for i, g := range dout.Data {
		dx.Data[i] = g * mask.Data[i]
	}
}
