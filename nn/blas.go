package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// The matrix products of every net go through sgemm and dgemm: gonum's
// pure-Go implementations by default; builds with the openblas tag
// (blas_openblas.go) replace them with OpenBLAS's through cgo.
var (
	backend = "gonum (pure Go)"

	sgemm = func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		blas32.Implementation().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	dgemm = func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
		blas64.Implementation().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	saxpy = func(n int, alpha float32, x, y []float32) { blas32.Implementation().Saxpy(n, alpha, x, 1, y, 1) }
	daxpy = func(n int, alpha float64, x, y []float64) { blas64.Implementation().Daxpy(n, alpha, x, 1, y, 1) }
	sdot  = func(n int, x, y []float32) float32 { return blas32.Implementation().Sdot(n, x, 1, y, 1) }
	ddot  = func(n int, x, y []float64) float64 { return blas64.Implementation().Ddot(n, x, 1, y, 1) }

	setThreads = func(int) {}
)

// BLASBackend reports the BLAS implementation that nets use for matrix products.
func BLASBackend() string { return backend }

// SetBLASThreads sets how many threads one matrix product may use, for the
// whole process (default 1). With OpenBLAS, results then depend on the
// thread count: sweep leaves it at 1, so that a sweep's results do not
// depend on its number of workers, and runs trials in parallel instead. The
// pure-Go backend runs on goroutines and ignores it.
func SetBLASThreads(n int) { setThreads(max(n, 1)) }

// gemm computes c = alpha·op(a)·op(b) + beta·c on row-major matrices with
// the sgemm or dgemm of the backend, according to T.
func gemm[T Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// axpy computes y += alpha·x over len(x) elements.
func axpy[T Float](alpha T, x, y []T) {
	switch x := any(x).(type) {
	case []float32:
		saxpy(len(x), float32(alpha), x, any(y).([]float32))
	case []float64:
		daxpy(len(x), float64(alpha), x, any(y).([]float64))
	}
}

// dot returns Σ x_i·y_i over len(x) elements, in float64.
func dot[T Float](x, y []T) float64 {
	switch x := any(x).(type) {
	case []float32:
		return float64(sdot(len(x), x, any(y).([]float32)))
	case []float64:
		return ddot(len(x), x, any(y).([]float64))
	}
	return 0
}
