package nn

import "math"

// Gradient checking, as the coursework does it: centred differences and the
// relative error it reports. These are for tests, in float64.

// NumericalGradient returns the centred-difference gradient of the scalar
// function f at x: (f(x + h·e_i) − f(x − h·e_i)) / 2h for each i. f must read
// x, which is perturbed in place and restored.
func NumericalGradient(f func() float64, x []float64, h float64) []float64 {
	grad := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + h
		pos := f()
		x[i] = old - h
		neg := f()
		x[i] = old
		grad[i] = (pos - neg) / (2 * h)
	}
	return grad
}

// NumericalGradientArray returns the centred-difference gradient of
// Σ_j f(x)_j · df_j with respect to x, where f returns an array (a layer's
// output) and df is the upstream gradient: the coursework's
// eval_numerical_gradient_array. f must read x, which is perturbed in place
// and restored; the slice f returns is read before f is called again.
func NumericalGradientArray(f func() []float64, x, df []float64, h float64) []float64 {
	grad := make([]float64, len(x))
	var pos []float64
	for i := range x {
		old := x[i]
		x[i] = old + h
		pos = append(pos[:0], f()...)
		x[i] = old - h
		neg := f()
		x[i] = old
		// Σ (pos − neg)·df, differences first as the coursework does, so
		// outputs that x_i does not touch contribute exactly zero.
		var s float64
		for j, v := range neg {
			s += (pos[j] - v) * df[j]
		}
		grad[i] = s / (2 * h)
	}
	return grad
}

// RelError is the coursework's rel_error: max_i |x_i − y_i| / max(1e-8, |x_i| + |y_i|).
// It panics if the lengths differ.
func RelError(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("nn: RelError: lengths differ")
	}
	var m float64
	for i := range x {
		m = max(m, math.Abs(x[i]-y[i])/max(1e-8, math.Abs(x[i])+math.Abs(y[i])))
	}
	return m
}
