package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/stat"
)

// TestBuilderOrderIndependent feeds the same images to a builder in file
// order by one reader, and in shuffled chunks by concurrent readers (as
// CIFAR-10's batches and the IDX chunks arrive): the mean and standard
// deviation images are bitwise the same, and match a direct float64
// computation. Constant features (0, 255, 42) have Std exactly 0.
func TestBuilderOrderIndependent(t *testing.T) {
	const d, nTrain, nVal, nTest = 7, 53, 4, 3
	constant := map[int]byte{1: 0, 3: 255, 6: 42}
	rng := rand.New(rand.NewPCG(3, 4))
	image := func() []byte {
		im := make([]byte, d)
		for j := range im {
			im[j] = byte(rng.IntN(256))
			if c, ok := constant[j]; ok {
				im[j] = c
			}
		}
		return im
	}
	var train, test [][]byte
	var trainY, testY []int
	for range nTrain + nVal {
		train, trainY = append(train, image()), append(trainY, rng.IntN(10))
	}
	for range nTest {
		test, testY = append(test, image()), append(testY, rng.IntN(10))
	}
	shape := []int{d}
	want := wantSplits(shape, train, test, trainY, testY, nTrain, nVal, nTest)

	build := func(chunks [][2]int) *Dataset {
		b := newBuilder(&Dataset{Shape: shape}, nTrain, nVal, nTest)
		var wg sync.WaitGroup
		for _, c := range chunks {
			wg.Go(func() {
				m := b.moments()
				var px []byte
				for i := c[0]; i < c[1]; i++ {
					b.trainLabel(i, trainY[i])
					px = append(px, train[i]...)
				}
				b.trainImages(c[0], px, m)
				b.addMoments(m)
			})
		}
		for i, im := range test {
			b.testLabel(i, testY[i])
			b.testImages(i, im)
		}
		wg.Wait()
		return b.finish()
	}
	inOrder := build([][2]int{{0, nTrain + nVal}})
	sameData(t, inOrder, want, stdTol)
	for _, j := range []int{1, 3, 6} {
		if inOrder.Std[j] != 0 {
			t.Errorf("constant feature %d: Std %g, want 0", j, inOrder.Std[j])
		}
	}
	for try := range 20 {
		// Cut [0, nTrain+nVal) at random points into chunks, shuffled.
		var chunks [][2]int
		for lo := 0; lo < nTrain+nVal; {
			hi := min(nTrain+nVal, lo+1+rng.IntN(9))
			chunks = append(chunks, [2]int{lo, hi})
			lo = hi
		}
		rng.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
		t.Run(fmt.Sprintf("shuffle=%d", try), func(t *testing.T) {
			sameData(t, build(chunks), inOrder, 0)
		})
	}
}

// TestExactStd checks exactStd where computing E[x²] − E[x]² in float64
// would cancel to nothing: n−1 pixels of 255 and one of 0, whose variance
// 65025(n−1)/n² is tiny against E[x²] ≈ 65025, up to counts whose n·Σx²
// overflows 64 bits.
func TestExactStd(t *testing.T) {
	const relTol = 1e-15
	for _, n := range []uint64{1, 2, 1000, 59000, 1 << 30, 1 << 40} {
		s, q := 255*(n-1), 65025*(n-1)
		want := 255 * math.Sqrt(float64(n-1)) / float64(n)
		if got := exactStd(n, s, q); !scalar.EqualWithinAbsOrRel(got, want, 0, relTol) {
			t.Errorf("n=%d: std %g, want %g", n, got, want)
		}
	}
	if got := exactStd(59000, 59000*42, 59000*42*42); got != 0 {
		t.Errorf("constant 42: std %g, want 0", got)
	}
}

// TestSyntheticStd checks synthetic data's Std against gonum's population
// standard deviation of the raw training values (mean added back; the
// float32 rounding of centred values is far below stdTolSynth), and that a
// constant feature has Std 0.
func TestSyntheticStd(t *testing.T) {
	o := mustNormalize(t, Options{Source: SourceSynthetic, Seed: 5, Train: 500, Val: 10, Test: 10, Dim: 30, Classes: 3})
	ds, err := load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	const stdTolSynth = 1e-5 // relative
	col := make([]float64, ds.Train.N)
	for j := range ds.Train.D {
		for i := range ds.Train.N {
			col[i] = float64(ds.Train.Row(i)[j]) + float64(ds.Mean[j])
		}
		_, want := stat.PopMeanStdDev(col, nil)
		if !scalar.EqualWithinRel(float64(ds.Std[j]), want, stdTolSynth) {
			t.Errorf("feature %d: Std %g, gonum %g", j, ds.Std[j], want)
		}
	}

	s := newSplit(4, 2)
	copy(s.X, []float32{128.3, 1, 128.3, 2, 128.3, 3, 128.3, 4})
	mean, std := meanStd(s)
	if mean[0] != 128.3 || std[0] != 0 || mean[1] != 2.5 || std[1] != float32(math.Sqrt(1.25)) {
		t.Errorf("meanStd: mean %v, std %v; want [128.3 2.5], [0 %g]", mean, std, math.Sqrt(1.25))
	}
}

func TestStdOrOne(t *testing.T) {
	std := []float32{0, 2.5, 0, 1e-3}
	got := StdOrOne(std)
	if want := []float32{1, 2.5, 1, 1e-3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("StdOrOne(%v) = %v, want %v", std, got, want)
	}
	if std[0] != 0 {
		t.Error("StdOrOne changed its argument")
	}
}
