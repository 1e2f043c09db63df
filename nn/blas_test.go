package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// TestBackendMatchesGonum checks the backend in use (OpenBLAS with -tags
// openblas, which make test runs too) against gonum's reference
// implementations: every transpose pair, odd shapes, leading dimensions
// larger than the rows, alpha and beta, and the vector functions.
func TestBackendMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	randn := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = r.NormFloat64()
		}
		return s
	}
	f32 := func(s []float64) []float32 {
		o := make([]float32, len(s))
		for i, v := range s {
			o[i] = float32(v)
		}
		return o
	}
	const pad = 3 // extra columns in every leading dimension
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, sh := range [][3]int{{1, 1, 1}, {7, 5, 3}, {200, 50, 784}, {33, 10, 50}} {
				m, n, k := sh[0], sh[1], sh[2]
				ar, ac := m, k
				if tA == blas.Trans {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB == blas.Trans {
					br, bc = n, k
				}
				a, b, c := randn(ar*(ac+pad)), randn(br*(bc+pad)), randn(m*(n+pad))
				name := fmt.Sprintf("tA=%c/tB=%c/m=%d/n=%d/k=%d", tA, tB, m, n, k)
				want := append([]float64(nil), c...)
				blas64.Implementation().Dgemm(tA, tB, m, n, k, 0.5, a, ac+pad, b, bc+pad, 2, want, n+pad)
				got := append([]float64(nil), c...)
				dgemm(tA, tB, m, n, k, 0.5, a, ac+pad, b, bc+pad, 2, got, n+pad)
				closeAll(t, name+"/dgemm", got, want, 1e-12)

				want32 := f32(c)
				blas32.Implementation().Sgemm(tA, tB, m, n, k, 0.5, f32(a), ac+pad, f32(b), bc+pad, 2, want32, n+pad)
				got32 := f32(c)
				sgemm(tA, tB, m, n, k, 0.5, f32(a), ac+pad, f32(b), bc+pad, 2, got32, n+pad)
				closeAll(t, name+"/sgemm", widen(got32), widen(want32), 1e-4)
			}
		}
	}
	x, y := randn(1001), randn(1001)
	if got, want := ddot(len(x), x, y), blas64.Implementation().Ddot(len(x), x, 1, y, 1); math.Abs(got-want) > 1e-12*math.Abs(want)+1e-12 {
		t.Errorf("ddot = %v, gonum %v", got, want)
	}
	if got, want := sdot(len(x), f32(x), f32(y)), blas32.Implementation().Sdot(len(x), f32(x), 1, f32(y), 1); math.Abs(float64(got-want)) > 1e-4*math.Abs(float64(want))+1e-4 {
		t.Errorf("sdot = %v, gonum %v", got, want)
	}
	got, want := append([]float64(nil), y...), append([]float64(nil), y...)
	daxpy(len(x), -0.25, x, got)
	blas64.Implementation().Daxpy(len(x), -0.25, x, 1, want, 1)
	closeAll(t, "daxpy", got, want, 1e-15)
	got32, want32 := f32(y), f32(y)
	saxpy(len(x), -0.25, f32(x), got32)
	blas32.Implementation().Saxpy(len(x), -0.25, f32(x), 1, want32, 1)
	closeAll(t, "saxpy", widen(got32), widen(want32), 1e-6)
	// Empty products and vectors are no-ops, not faults.
	sgemm(blas.NoTrans, blas.NoTrans, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 1)
	dgemm(blas.NoTrans, blas.NoTrans, 0, 0, 0, 1, nil, 1, nil, 1, 0, nil, 1)
	if sdot(0, nil, nil) != 0 || ddot(0, nil, nil) != 0 {
		t.Error("dot of empty vectors is not 0")
	}
	saxpy(0, 1, nil, nil)
	daxpy(0, 1, nil, nil)
}

func widen(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// closeAll fails t unless every got[i] is within tol (relative, with an
// absolute floor of tol) of want[i], padding included.
func closeAll(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*math.Abs(want[i])+tol {
			t.Fatalf("%s: element %d = %v, gonum %v (backend %s)", name, i, got[i], want[i], BLASBackend())
		}
	}
}
