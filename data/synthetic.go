package data

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
)

// Synthetic data: Classes classes in Dim dimensions, each class a mixture of
// two Gaussian clusters at mu_c + nu_c and mu_c - nu_c (around a grey level
// of 128, like pixels), with isotropic noise. The clusters are well apart
// (the nearest true centre classifies about 95% right), but the class means
// mu_c carry only part of the information, so a linear classifier gets about
// 50-60% while a net with a hidden layer can approach the clusters' limit:
// separable, not trivially. Distances do not depend on Dim.
const (
	synthBase  = 128 // grey level the clusters sit around
	synthMu    = 100 // norm scale of the class means mu_c
	synthNu    = 170 // norm scale of the cluster offsets nu_c
	synthNoise = 50  // per-feature noise standard deviation
)

// synthVersion is the version of the generator, part of synthetic data's
// Fingerprint: change it with anything that changes the data a seed
// gives.
const synthVersion = 1

// Independent random streams of one seed, so that the test images do not
// change with the number of training images, and the first n training
// images do not change with the number drawn after them.
const (
	streamCenters = iota + 0x5eed
	streamTrain
	streamTest
)

// synthCenters returns the 2*Classes cluster centres: centre k belongs to
// class k % Classes.
func synthCenters(o Options) [][]float64 {
	rng := rand.New(rand.NewPCG(o.Seed, streamCenters))
	c, d := o.Classes, o.Dim
	mu := gauss(rng, c*d, synthMu/math.Sqrt(float64(d)))
	nu := gauss(rng, c*d, synthNu/math.Sqrt(float64(d)))
	centers := make([][]float64, 2*c)
	for k := range c {
		plus, minus := make([]float64, d), make([]float64, d)
		for j := range d {
			m, n := mu[k*d+j], nu[k*d+j]
			plus[j], minus[j] = synthBase+m+n, synthBase+m-n
		}
		centers[k], centers[c+k] = plus, minus
	}
	return centers
}

func gauss(rng *rand.Rand, n int, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * std
	}
	return v
}

// synthetic generates the data set of o (Source synthetic).
func synthetic(ctx context.Context, o Options) (*Dataset, error) {
	centers := synthCenters(o)
	c, d := o.Classes, o.Dim
	classes := make([]string, c)
	for k := range classes {
		classes[k] = strconv.Itoa(k)
	}
	ds := &Dataset{Name: SourceSynthetic, Shape: []int{d}, Classes: classes}
	draw := func(rng *rand.Rand, s *Split) error {
		for i := range s.N {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			y := rng.IntN(c)
			ctr := centers[y+c*rng.IntN(2)]
			s.Y[i] = y
			for j, x := range ctr {
				s.X[i*d+j] = float32(x + rng.NormFloat64()*synthNoise)
			}
		}
		return nil
	}
	ds.Train, ds.Val, ds.Test = newSplit(o.Train, d), newSplit(o.Val, d), newSplit(o.Test, d)
	train := rand.New(rand.NewPCG(o.Seed, streamTrain))
	for _, s := range []*Split{&ds.Train, &ds.Val} {
		if err := draw(train, s); err != nil {
			return nil, err
		}
	}
	if err := draw(rand.New(rand.NewPCG(o.Seed, streamTest)), &ds.Test); err != nil {
		return nil, err
	}
	ds.Mean, ds.Std = meanStd(ds.Train)
	subtractMean(ds.Mean, ds.Train.X, ds.Val.X, ds.Test.X)
	return ds, nil
}

// meanStd returns the per-feature mean and population standard deviation
// of s's rows, accumulated in float64 in row order: two passes, the second
// over the deviations from the first's mean.
func meanStd(s Split) (mean, std []float32) {
	n := float64(s.N)
	m := make([]float64, s.D)
	for i := range s.N {
		for j, x := range s.Row(i) {
			m[j] += float64(x)
		}
	}
	for j := range m {
		m[j] /= n
	}
	v := make([]float64, s.D)
	for i := range s.N {
		for j, x := range s.Row(i) {
			dx := float64(x) - m[j]
			v[j] += dx * dx
		}
	}
	mean, std = make([]float32, s.D), make([]float32, s.D)
	for j := range m {
		mean[j], std[j] = float32(m[j]), float32(math.Sqrt(v[j]/n))
	}
	return mean, std
}
