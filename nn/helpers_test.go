package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// linspace is numpy's linspace(a, b, n).
func linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	step := (b - a) / float64(n-1)
	for i := range out {
		out[i] = a + float64(i)*step
	}
	out[n-1] = b
	return out
}

// randn returns n standard normal values from a seeded source.
func randn(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

func scaled(s float64, x []float64) []float64 {
	for i := range x {
		x[i] *= s
	}
	return x
}

// transpose returns the transpose of the r×c row-major matrix m.
func transpose(m []float64, r, c int) []float64 {
	out := make([]float64, len(m))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = m[i*c+j]
		}
	}
	return out
}

// Named tolerances of the tests.
const (
	layerGradTol = 1e-7 // rel_error of a layer's analytic vs numerical gradient
	netGradTol   = 1e-5 // rel_error for whole nets (the coursework's bound)
	gradStep     = 1e-5 // centred-difference step
)

func assertRelError(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if e := RelError(got, want); !(e < tol) {
		t.Errorf("%s: rel_error %.3g, want < %.0e", name, e, tol)
	}
}

// blobs returns a synthetic classification problem: n samples of dimension d
// around c class centres, separable but noisy.
func blobs(seed uint64, n, d, c int, noise float64) Data {
	r := rand.New(rand.NewPCG(seed, 2))
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = r.NormFloat64()
	}
	x := NewMat[float32](n, d)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		y[i] = r.IntN(c)
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = float32(centres[y[i]*d+j] + noise*r.NormFloat64())
		}
	}
	return Data{X: x, Y: y}
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
