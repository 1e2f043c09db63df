package data

import (
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
// copy of the data in memory) and sums the training rows per feature in
// exact integer arithmetic, so the mean image does not depend on the order
// in which readers deliver images.
type builder struct {
	ds   *Dataset
	d    int
	mu   sync.Mutex // guards sums
	sums []uint64   // per-feature sums over Train rows
}

func newBuilder(ds *Dataset, nTrain, nVal, nTest int) *builder {
	d := 1
	for _, s := range ds.Shape {
		d *= s
	}
	ds.Train, ds.Val, ds.Test = newSplit(nTrain, d), newSplit(nVal, d), newSplit(nTest, d)
	return &builder{ds: ds, d: d, sums: make([]uint64, d)}
}

// newSplit allocates a split of n rows of d features.
func newSplit(n, d int) Split {
	return Split{X: make([]float32, n*d), Y: make([]int, n), N: n, D: d}
}

// trainImages stores the training-side images first, first+1, ... whose
// pixels are src (whole images, d bytes each). sums is the caller's scratch
// for per-feature sums; pass it to addSums when done. Safe for concurrent
// use on disjoint image ranges.
func (b *builder) trainImages(first int, src []byte, sums []uint64) {
	d := b.d
	nt := b.ds.Train.N
	for k := 0; k*d < len(src); k++ {
		i := first + k
		px := src[k*d : (k+1)*d]
		switch {
		case i < nt:
			dst, sums := b.ds.Train.X[i*d:(i+1)*d], sums[:len(px)]
			for j, p := range px {
				dst[j] = float32(p)
				sums[j] += uint64(p)
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

// addSums adds a reader's per-feature sums of training rows.
func (b *builder) addSums(s []uint64) {
	b.mu.Lock()
	for j, v := range s {
		b.sums[j] += v
	}
	b.mu.Unlock()
}

// finish computes the mean image of the training rows and subtracts it from
// every split, in parallel over rows.
func (b *builder) finish() *Dataset {
	ds := b.ds
	ds.Mean = make([]float32, b.d)
	for j, s := range b.sums {
		ds.Mean[j] = float32(float64(s) / float64(ds.Train.N))
	}
	subtractMean(ds.Mean, ds.Train.X, ds.Val.X, ds.Test.X)
	return ds
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
