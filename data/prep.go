package data

import (
	"math"
	"math/bits"
	"runtime"
	"sync"
)

// builder assembles a Dataset from raw uint8 images as a reader produces
// them. Images of the training files are numbered from 0 in file order:
// image i < nTrain goes to Train, the next nVal to Val, the rest are read
// (to check the files) and dropped. Images of the test file go to Test
// while i < nTest.
//
// The builder converts pixels straight into the final float32 rows (one
// copy of the data in memory) and sums the training rows, and their
// squares, per feature in exact integer arithmetic, so the mean and
// standard deviation images do not depend on the order in which readers
// deliver images.
type builder struct {
	ds  *Dataset
	d   int
	mu  sync.Mutex // guards tot
	tot moments    // over all Train rows
}

// moments holds per-feature sums of pixels and of their squares over
// training rows: exact, as a pixel is at most 255 (a square 65025), for up
// to 2^48 rows.
type moments struct {
	sum, sumSq []uint64
}

func newMoments(d int) moments {
	return moments{sum: make([]uint64, d), sumSq: make([]uint64, d)}
}

func newBuilder(ds *Dataset, nTrain, nVal, nTest int) *builder {
	d := 1
	for _, s := range ds.Shape {
		d *= s
	}
	ds.Train, ds.Val, ds.Test = newSplit(nTrain, d), newSplit(nVal, d), newSplit(nTest, d)
	return &builder{ds: ds, d: d, tot: newMoments(d)}
}

// moments returns a reader's scratch for per-feature sums of training rows:
// pass it to trainImages, then to addMoments when done.
func (b *builder) moments() moments { return newMoments(b.d) }

// newSplit allocates a split of n rows of d features.
func newSplit(n, d int) Split {
	return Split{X: make([]float32, n*d), Y: make([]int, n), N: n, D: d}
}

// trainImages stores the training-side images first, first+1, ... whose
// pixels are src (whole images, d bytes each), adding the training rows to
// m, the caller's scratch (b.moments). Safe for concurrent use on disjoint
// image ranges, each caller with its own m.
func (b *builder) trainImages(first int, src []byte, m moments) {
	d := b.d
	nt := b.ds.Train.N
	for k := 0; k*d < len(src); k++ {
		i := first + k
		px := src[k*d : (k+1)*d]
		switch {
		case i < nt:
			dst, sum, sq := b.ds.Train.X[i*d:(i+1)*d], m.sum[:len(px)], m.sumSq[:len(px)]
			for j, p := range px {
				dst[j] = float32(p)
				v := uint64(p)
				sum[j] += v
				sq[j] += v * v
			}
		case i < nt+b.ds.Val.N:
			i -= nt
			toFloat(b.ds.Val.X[i*d:(i+1)*d], px)
		}
	}
}

// testImages stores test-side images, like trainImages.
func (b *builder) testImages(first int, src []byte) {
	d := b.d
	for k := 0; k*d < len(src) && first+k < b.ds.Test.N; k++ {
		i := first + k
		toFloat(b.ds.Test.X[i*d:(i+1)*d], src[k*d:(k+1)*d])
	}
}

// trainLabel stores the class of training-side image i.
func (b *builder) trainLabel(i, y int) {
	if nt := b.ds.Train.N; i < nt {
		b.ds.Train.Y[i] = y
	} else if i < nt+b.ds.Val.N {
		b.ds.Val.Y[i-nt] = y
	}
}

// testLabel stores the class of test-side image i.
func (b *builder) testLabel(i, y int) {
	if i < b.ds.Test.N {
		b.ds.Test.Y[i] = y
	}
}

// addMoments adds a reader's per-feature sums of training rows.
func (b *builder) addMoments(m moments) {
	b.mu.Lock()
	for j := range m.sum {
		b.tot.sum[j] += m.sum[j]
		b.tot.sumSq[j] += m.sumSq[j]
	}
	b.mu.Unlock()
}

// finish computes the mean and standard deviation images of the training
// rows from the exact sums, and subtracts the mean from every split, in
// parallel over rows.
func (b *builder) finish() *Dataset {
	ds := b.ds
	n := uint64(ds.Train.N)
	ds.Mean, ds.Std = make([]float32, b.d), make([]float32, b.d)
	for j, s := range b.tot.sum {
		ds.Mean[j] = float32(float64(s) / float64(n))
		ds.Std[j] = float32(exactStd(n, s, b.tot.sumSq[j]))
	}
	subtractMean(ds.Mean, ds.Train.X, ds.Val.X, ds.Test.X)
	return ds
}

// exactStd is the population standard deviation of n integers whose sum is
// s and sum of squares q: √(E[x²] − E[x]²), computed as √((n·q − s²)/n²)
// with the numerator an exact 128-bit integer (never negative, by
// Cauchy-Schwarz), so that it loses nothing to cancellation: the variance
// is correctly rounded while n·q − s² < 2^53 and n < 2^26, and exactly 0
// for a constant feature.
func exactStd(n, s, q uint64) float64 {
	hi, lo := bits.Mul64(n, q)
	shi, slo := bits.Mul64(s, s)
	lo, borrow := bits.Sub64(lo, slo, 0)
	hi, _ = bits.Sub64(hi, shi, borrow)
	num, nf := float64(hi)*0x1p64+float64(lo), float64(n)
	return math.Sqrt(num / (nf * nf))
}

// subtractMean subtracts mean from every row of each xs, in parallel.
func subtractMean(mean []float32, xs ...[]float32) {
	d := len(mean)
	const chunk = 1024 // rows per task
	var wg sync.WaitGroup
	tasks := make(chan []float32)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for x := range tasks {
				for r := 0; r+d <= len(x); r += d {
					row := x[r : r+d]
					for j, m := range mean[:len(row)] {
						row[j] -= m
					}
				}
			}
		})
	}
	for _, x := range xs {
		for len(x) > 0 {
			n := min(len(x), chunk*d)
			tasks <- x[:n]
			x = x[n:]
		}
	}
	close(tasks)
	wg.Wait()
}

// toFloat converts pixels to float32.
func toFloat(dst []float32, src []byte) {
	dst = dst[:len(src)]
	for j, p := range src {
		dst[j] = float32(p)
	}
}
