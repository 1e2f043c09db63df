//go:build openblas && cgo

package nn

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// OpenBLAS backend, built with -tags openblas (Debian: libopenblas-dev). Only
// the two products the nets use are bound; the arguments are checked by the
// layers that call them, as gonum's would be.

func init() {
	backend = fmt.Sprintf("OpenBLAS %s (%s)", C.GoString(C.openblas_get_corename()), C.GoString(C.openblas_get_config()))
	sgemm = openblasSgemm
	dgemm = openblasDgemm
	saxpy = func(n int, alpha float32, x, y []float32) {
		if n > 0 {
			C.cblas_saxpy(C.blasint(n), C.float(alpha), (*C.float)(unsafe.Pointer(&x[0])), 1, (*C.float)(unsafe.Pointer(&y[0])), 1)
		}
	}
	daxpy = func(n int, alpha float64, x, y []float64) {
		if n > 0 {
			C.cblas_daxpy(C.blasint(n), C.double(alpha), (*C.double)(unsafe.Pointer(&x[0])), 1, (*C.double)(unsafe.Pointer(&y[0])), 1)
		}
	}
	sdot = func(n int, x, y []float32) float32 {
		if n == 0 {
			return 0
		}
		return float32(C.cblas_sdot(C.blasint(n), (*C.float)(unsafe.Pointer(&x[0])), 1, (*C.float)(unsafe.Pointer(&y[0])), 1))
	}
	ddot = func(n int, x, y []float64) float64 {
		if n == 0 {
			return 0
		}
		return float64(C.cblas_ddot(C.blasint(n), (*C.double)(unsafe.Pointer(&x[0])), 1, (*C.double)(unsafe.Pointer(&y[0])), 1))
	}
	setThreads = func(n int) { C.openblas_set_num_threads(C.int(n)) }
	// One thread per product: OpenBLAS's results depend on its thread
	// count, and a sweep's must not depend on its number of workers.
	// Sweeps run trials in parallel instead.
	setThreads(1)
}

func trans(t blas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == blas.Trans || t == blas.ConjTrans {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

func openblasSgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(unsafe.SliceData(a))), C.blasint(lda),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(b))), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(unsafe.SliceData(c))), C.blasint(ldc))
}

func openblasDgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_dgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(unsafe.SliceData(a))), C.blasint(lda),
		(*C.double)(unsafe.Pointer(unsafe.SliceData(b))), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(unsafe.SliceData(c))), C.blasint(ldc))
}
