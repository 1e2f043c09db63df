package data

import (
	"math"
	"slices"
	"testing"
)

func TestSyntheticDeterministic(t *testing.T) {
	o := Options{Source: SourceSynthetic, Seed: 7, Train: 300, Val: 50, Test: 40, Dim: 20, Classes: 4}
	a, err := load(t.Context(), mustNormalize(t, o))
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(t.Context(), mustNormalize(t, o))
	if err != nil {
		t.Fatal(err)
	}
	sameData(t, a, b, 0) // exact: same seed, same bits
	if a.Name != "synthetic" || !slices.Equal(a.Shape, []int{20}) || len(a.Classes) != 4 || a.Train.D != 20 {
		t.Errorf("Name %q Shape %v Classes %v", a.Name, a.Shape, a.Classes)
	}

	o2 := o
	o2.Seed = 8
	c, err := load(t.Context(), mustNormalize(t, o2))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Train.X, c.Train.X) {
		t.Error("seeds 7 and 8 give the same data")
	}

	// More training images: the first ones and the test set do not change.
	o3 := o
	o3.Train = 400
	d, err := load(t.Context(), mustNormalize(t, o3))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Train.Y, d.Train.Y[:300]) || !slices.Equal(a.Test.Y, d.Test.Y) {
		t.Error("labels changed with the number of training images")
	}
	const rawTol = 1e-3 // raw values are ~128 +- 200: mean added back in float32
	for i := range 300 {
		for j := range 20 { // compare raw values: the means differ
			if math.Abs(float64(a.Train.Row(i)[j]+a.Mean[j]-d.Train.Row(i)[j]-d.Mean[j])) > rawTol {
				t.Fatalf("training image %d changed with the number of training images", i)
			}
		}
	}
}

// TestSyntheticSeparableNotTrivially checks the generator's promise on the
// validation split: the true cluster centres classify well, the class means
// (a linear rule) much worse, and the training mean is subtracted.
func TestSyntheticSeparableNotTrivially(t *testing.T) {
	for _, dim := range []int{100, 784} {
		o := mustNormalize(t, Options{Source: SourceSynthetic, Seed: 1, Dim: dim, Train: 3000, Val: 1000})
		ds, err := load(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		centers := synthCenters(o)
		nearest := func(x []float32, mean []float32, cs [][]float64) int {
			best, bi := math.Inf(1), 0
			for k, c := range cs {
				s := 0.0
				for j, v := range x {
					dv := float64(v+mean[j]) - c[j]
					s += dv * dv
				}
				if s < best {
					best, bi = s, k
				}
			}
			return bi
		}
		// class means of the training split
		cm := make([][]float64, o.Classes)
		cnt := make([]int, o.Classes)
		for k := range cm {
			cm[k] = make([]float64, dim)
		}
		for i := range ds.Train.N {
			y := ds.Train.Y[i]
			cnt[y]++
			for j, v := range ds.Train.Row(i) {
				cm[y][j] += float64(v + ds.Mean[j])
			}
		}
		for k := range cm {
			for j := range cm[k] {
				cm[k][j] /= float64(cnt[k])
			}
		}
		oracle, linear := 0, 0
		for i := range ds.Val.N {
			x := ds.Val.Row(i)
			if nearest(x, ds.Mean, centers)%o.Classes == ds.Val.Y[i] {
				oracle++
			}
			if nearest(x, ds.Mean, cm) == ds.Val.Y[i] {
				linear++
			}
		}
		accO, accL := float64(oracle)/float64(ds.Val.N), float64(linear)/float64(ds.Val.N)
		t.Logf("dim %d: nearest true centre %.3f, nearest class mean %.3f", dim, accO, accL)
		if accO < 0.85 || accO > 0.995 || accL > accO-0.2 {
			t.Errorf("dim %d: nearest true centre %.3f (want 0.85..0.995), nearest class mean %.3f (want 0.2 below)", dim, accO, accL)
		}
		// The training split is centred.
		for j := range dim {
			s := 0.0
			for i := range ds.Train.N {
				s += float64(ds.Train.Row(i)[j])
			}
			if m := s / float64(ds.Train.N); math.Abs(m) > 1e-3 {
				t.Fatalf("feature %d of the training split has mean %g after centring", j, m)
			}
		}
	}
}
