package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// backend names the BLAS implementation in use. Builds that install another
// implementation (blas32.Use / blas64.Use) set it too.
var backend = "gonum (pure Go)"

// BLASBackend reports the BLAS implementation that nets use for matrix products.
func BLASBackend() string { return backend }

// gemm computes c = alpha·op(a)·op(b) + beta·c on row-major matrices, through
// gonum's blas32 or blas64 implementation according to T.
func gemm[T Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// matMul sets out = x·w (out: N×M, x: N×D, w: D×M).
func matMul[T Float](out, x, w Mat[T]) {
	gemm(blas.NoTrans, blas.NoTrans, x.Rows, w.Cols, x.Cols, 1, x.Data, x.Cols, w.Data, w.Cols, 0, out.Data, out.Cols)
}
