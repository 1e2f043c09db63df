package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Split is one part of a data set: N images of D features each.
//
// X holds image i in X[i*D:(i+1)*D] (row-major, float32, mean image already
// subtracted) and Y[i] is its class in [0, len(Dataset.Classes)).
type Split struct {
	X    []float32
	Y    []int
	N, D int
}

// Row returns image i as a slice aliasing s.X. It panics if i is out of
// range (a programmer error).
func (s Split) Row(i int) []float32 { return s.X[i*s.D : (i+1)*s.D : (i+1)*s.D] }

// Dataset is a loaded, split and preprocessed data set.
//
// A Dataset returned by Load is shared by every caller in the process: it is
// read-only, and all its slices must be treated as immutable.
type Dataset struct {
	// Name identifies the data: "cifar10", "fashion-mnist", "mnist",
	// "fashion-mnist-subset" (the embedded default) or "synthetic".
	Name string
	// Path is the directory the files were read from, or the archive for
	// CIFAR-10 read from a tarball ("" for embedded and synthetic data).
	Path string
	// Shape is the shape of one image, e.g. [3 32 32] (channels, height,
	// width) or [1 28 28]; its product is D. Feature c*H*W + h*W + w of a row
	// is channel c of pixel (h, w), as in the CIFAR-10 files. Synthetic data
	// has Shape [D].
	Shape []int
	// Classes names the classes: Y values index it.
	Classes []string
	// Train, Val and Test are the splits: train = the first Train images of
	// the training files, val = the next Val, test = the first Test of the
	// test file.
	Train, Val, Test Split
	// Mean is the mean image of the training split (raw pixel scale, 0-255),
	// already subtracted from every split. Add it back to display an image.
	Mean []float32
	// Std is the per-feature standard deviation of the training split (raw
	// pixel scale; the population std, numpy's np.std with ddof=0), for
	// standardised input. It is not applied here: a trial that standardises
	// divides the centred rows by it as it reads them. A feature that is
	// constant over the training split has Std 0, and is divided by 1
	// instead (StdOrOne).
	Std []float32
}

// StdOrOne returns the divisors of standardised input: a copy of std with
// every 0 (a feature constant over the training split) replaced by 1, so
// that such a feature stays centred at 0 instead of becoming NaN.
func StdOrOne(std []float32) []float32 {
	div := make([]float32, len(std))
	for j, s := range std {
		div[j] = s
		if s == 0 {
			div[j] = 1
		}
	}
	return div
}

// Sources, the values of Options.Source.
const (
	SourceCIFAR10      = "cifar10"
	SourceFashionMNIST = "fashion-mnist"
	SourceMNIST        = "mnist"
	SourceEmbedded     = "embedded"
	SourceSynthetic    = "synthetic"
)

// DefaultFashionMNISTPath is where Debian's dataset-fashion-mnist package
// installs Fashion-MNIST: the default Path of SourceFashionMNIST.
const DefaultFashionMNISTPath = "/usr/share/datasets/fashion-mnist"

// Options says which data to load and how to split it. Options is
// comparable: Load caches one Dataset per distinct (normalised) value.
type Options struct {
	// Source is one of cifar10, fashion-mnist, mnist, embedded, synthetic.
	Source string
	// Path is the data directory. cifar10: the batches folder itself, a
	// parent holding cifar-10-batches-bin or cifar-10-batches-py, or a tar
	// archive of them as downloaded (cifar-10-python.tar.gz,
	// cifar-10-binary.tar.gz; gzip-compressed or plain, any name).
	// fashion-mnist and mnist: the folder of the four IDX files (gzip or
	// raw); fashion-mnist defaults to DefaultFashionMNISTPath. Must be empty
	// for embedded and synthetic.
	Path string
	// Train, Val and Test are the split sizes; 0 means the source's default:
	// cifar10 49000/1000/1000, fashion-mnist and mnist 59000/1000/1000,
	// embedded 9000/1000/2000, synthetic 4000/500/500.
	Train, Val, Test int
	// Seed seeds the synthetic generator (synthetic only).
	Seed uint64
	// Classes and Dim are the number of classes and features of synthetic
	// data; 0 means 10 and 100 (synthetic only).
	Classes, Dim int
}

// defaults holds a source's default split sizes.
type defaults struct{ train, val, test int }

var sourceDefaults = map[string]defaults{
	SourceCIFAR10:      {49000, 1000, 1000},
	SourceFashionMNIST: {59000, 1000, 1000},
	SourceMNIST:        {59000, 1000, 1000},
	SourceEmbedded:     {9000, 1000, 2000},
	SourceSynthetic:    {4000, 500, 500},
}

// maxSynthetic bounds the float32 values of synthetic data (4 GB).
const maxSynthetic = 1 << 30

// Normalize checks o and fills in the source's defaults: split sizes, the
// default path, and synthetic's classes and dimension. Relative paths are
// made absolute and a leading "~/" is the home directory, so that equal
// data map to equal Options. Load calls it; it is exported so that a spec
// validator can report bad options before anything runs.
func (o Options) Normalize() (Options, error) {
	d, ok := sourceDefaults[o.Source]
	if !ok {
		return o, badOptions("unknown source %q (want cifar10, fashion-mnist, mnist, embedded or synthetic)", o.Source)
	}
	if o.Train < 0 || o.Val < 0 || o.Test < 0 {
		return o, badOptions("%s: negative split size (train %d, val %d, test %d)", o.Source, o.Train, o.Val, o.Test)
	}
	if o.Train == 0 {
		o.Train = d.train
	}
	if o.Val == 0 {
		o.Val = d.val
	}
	if o.Test == 0 {
		o.Test = d.test
	}
	if o.Source == SourceSynthetic {
		if o.Classes < 0 || o.Dim < 0 || o.Classes == 1 {
			return o, badOptions("synthetic: classes %d, dim %d: want classes >= 2 and dim >= 1", o.Classes, o.Dim)
		}
		if o.Classes == 0 {
			o.Classes = 10
		}
		if o.Dim == 0 {
			o.Dim = 100
		}
		if n := int64(o.Train) + int64(o.Val) + int64(o.Test); n*int64(o.Dim) > maxSynthetic {
			return o, badOptions("synthetic: %d images of %d features: more than %d values", n, o.Dim, maxSynthetic)
		}
	} else if o.Seed != 0 || o.Classes != 0 || o.Dim != 0 {
		return o, badOptions("%s: seed, classes and dim apply to synthetic data only", o.Source)
	}
	switch o.Source {
	case SourceEmbedded, SourceSynthetic:
		if o.Path != "" {
			return o, badOptions("%s: takes no path (have %q)", o.Source, o.Path)
		}
		return o, nil
	case SourceFashionMNIST:
		if o.Path == "" {
			o.Path = DefaultFashionMNISTPath
		}
	case SourceCIFAR10, SourceMNIST:
		if o.Path == "" {
			return o, badOptions("%s: a path is required", o.Source)
		}
	}
	p := o.Path
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return o, badOptions("%s: path %q: %v", o.Source, o.Path, err)
		}
		p = filepath.Join(home, rest)
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return o, badOptions("%s: path %q: %v", o.Source, o.Path, err)
	}
	o.Path = p
	return o, nil
}

// cache holds the data sets loaded by this process, one per normalised
// Options. Entries are never evicted: a sweep loads its data once and
// shares it for the life of the process.
var cache = struct {
	sync.Mutex
	m map[Options]*entry
}{m: map[Options]*entry{}}

type entry struct {
	done chan struct{} // closed when ds and err are set
	ds   *Dataset
	err  error
}

// Load returns the data set that o describes, loading it on the first call
// and returning the same *Dataset to every later call with equal
// (normalised) Options. It is safe for concurrent use: concurrent first
// calls load once, the others wait. The result is shared and read-only.
//
// A failed load is not cached, so a later call tries again. If ctx is done
// while Load waits or reads, Load returns ctx's error.
func Load(ctx context.Context, o Options) (*Dataset, error) {
	o, err := o.Normalize()
	if err != nil {
		return nil, err
	}
	for {
		cache.Lock()
		e, ok := cache.m[o]
		if !ok {
			e = &entry{done: make(chan struct{})}
			cache.m[o] = e
			cache.Unlock()
			e.ds, e.err = load(ctx, o)
			if e.err != nil {
				cache.Lock()
				delete(cache.m, o)
				cache.Unlock()
			}
			close(e.done)
			return e.ds, e.err
		}
		cache.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.ds, nil
		}
		if isCanceled(e.err) && ctx.Err() == nil {
			continue // the loader's context ended, not ours: load again
		}
		return nil, e.err
	}
}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// load reads the data set of the normalised options o, bypassing the cache.
func load(ctx context.Context, o Options) (*Dataset, error) {
	switch o.Source {
	case SourceCIFAR10:
		return loadCIFAR10(ctx, o)
	case SourceFashionMNIST, SourceMNIST:
		return loadIDXDir(ctx, o)
	case SourceEmbedded:
		return loadEmbedded(ctx, o)
	case SourceSynthetic:
		return synthetic(ctx, o)
	}
	return nil, badOptions("unknown source %q", o.Source)
}
