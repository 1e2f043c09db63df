package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Class names, in label order.
var (
	fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
)

// The four files of an MNIST-style data set, by their canonical names.
const (
	trainImagesFile = "train-images-idx3-ubyte"
	trainLabelsFile = "train-labels-idx1-ubyte"
	testImagesFile  = "t10k-images-idx3-ubyte"
	testLabelsFile  = "t10k-labels-idx1-ubyte"
)

// idxWant says what a fashion-mnist or mnist path must be, in errors.
const idxWant = "a directory holding " + trainImagesFile + ", " + trainLabelsFile + ", " + testImagesFile + " and " + testLabelsFile + " (each raw or .gz)"

// idxDir checks that the path of o (fashion-mnist or mnist) is a
// directory, and returns its file system.
func idxDir(o Options) (fs.FS, error) {
	fi, err := os.Stat(o.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("data: %s: no such directory %q: %w", o.Source, o.Path, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("data: %s: %w", o.Source, err)
	case !fi.IsDir():
		want := idxWant
		if k, err := sniffPath(o.Path); err == nil && k.idx {
			want += fmt.Sprintf(", such as this file's, %q", filepath.Dir(o.Path))
		}
		return nil, wrongKind(o.Source, o.Path, describe(o.Path, fi), want)
	}
	return os.DirFS(o.Path), nil
}

// idxClasses returns the class names of an IDX source.
func idxClasses(source string) []string {
	if source == SourceMNIST {
		return digitClasses
	}
	return fashionClasses
}

// loadIDXDir loads MNIST or Fashion-MNIST from the directory o.Path.
func loadIDXDir(ctx context.Context, o Options) (*Dataset, error) {
	fsys, err := idxDir(o)
	if err != nil {
		return nil, err
	}
	return loadIDX(ctx, fsys, o.Path, o, o.Source, idxClasses(o.Source))
}

// idxSet is one opened MNIST-style file set.
type idxSet struct {
	trainX, trainY, testX, testY *idxReader
	files                        []fs.File // to close
}

// openIDXSet opens the four IDX files in fsys and checks their headers:
// each on its own (openIDX, checkSize), and against each other and o
// (check). dir prefixes file names in errors. Close the set when done,
// also after an error.
func openIDXSet(fsys fs.FS, dir string, o Options) (*idxSet, error) {
	set := &idxSet{}
	specs := []struct {
		base string
		ndim int
		dst  **idxReader
	}{
		{trainImagesFile, 3, &set.trainX}, {trainLabelsFile, 1, &set.trainY},
		{testImagesFile, 3, &set.testX}, {testLabelsFile, 1, &set.testY},
	}
	for _, s := range specs {
		f, fname, err := openIDXFile(fsys, dir, s.base)
		if err != nil {
			return set, err
		}
		set.files = append(set.files, f)
		if *s.dst, err = openIDX(f, fname, s.ndim); err != nil {
			return set, err
		}
		if err := (*s.dst).checkSize(f); err != nil {
			return set, err
		}
	}
	return set, set.check(o)
}

// close closes the set's files.
func (s *idxSet) close() {
	for _, f := range s.files {
		f.Close()
	}
}

// loadIDX loads an MNIST-style data set from the four IDX files in fsys.
// dir prefixes file names in errors and names the Dataset's Path.
func loadIDX(ctx context.Context, fsys fs.FS, dir string, o Options, name string, classes []string) (*Dataset, error) {
	set, err := openIDXSet(fsys, dir, o)
	defer set.close()
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Name: name, Path: dir, Shape: []int{1, set.trainX.dims[1], set.trainX.dims[2]}, Classes: classes}
	b := newBuilder(ds, o.Train, o.Val, o.Test)
	nc := len(classes)

	// The four files are independent: read them concurrently. The training
	// images dominate (gunzip of 47 MB for Fashion-MNIST).
	errs := make([]error, 4)
	var wg sync.WaitGroup
	wg.Go(func() {
		m := b.moments()
		errs[0] = set.trainX.each(ctx, o.Train+o.Val, func(first int, px []byte) error {
			b.trainImages(first, px, m)
			return nil
		})
		b.addMoments(m)
	})
	wg.Go(func() {
		errs[1] = set.trainY.each(ctx, o.Train+o.Val, labelFunc(set.trainY, nc, b.trainLabel))
	})
	wg.Go(func() {
		errs[2] = set.testX.each(ctx, o.Test, func(first int, px []byte) error {
			b.testImages(first, px)
			return nil
		})
	})
	wg.Go(func() {
		errs[3] = set.testY.each(ctx, o.Test, labelFunc(set.testY, nc, b.testLabel))
	})
	wg.Wait()
	if err := firstErr(errs); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the cause, rather than what it broke
		}
		return nil, err
	}
	return b.finish(), nil
}

// check checks that the four headers agree with each other and hold the
// images o asks for.
func (s *idxSet) check(o Options) error {
	for _, p := range [][2]*idxReader{{s.trainX, s.trainY}, {s.testX, s.testY}} {
		if p[0].count() != p[1].count() {
			return p[1].bad(4, "%d labels for the %d images of %q", p[1].count(), p[0].count(), p[0].name)
		}
	}
	if a, b := s.trainX.dims[1:], s.testX.dims[1:]; a[0] != b[0] || a[1] != b[1] {
		return s.testX.bad(8, "images are %dx%d, but those of %q are %dx%d", b[0], b[1], s.trainX.name, a[0], a[1])
	}
	if o.Train+o.Val > s.trainX.count() {
		return badOptions("%s: train %d + val %d images requested, but %q holds %d", o.Source, o.Train, o.Val, s.trainX.name, s.trainX.count())
	}
	if o.Test > s.testX.count() {
		return badOptions("%s: test %d images requested, but %q holds %d", o.Source, o.Test, s.testX.name, s.testX.count())
	}
	return nil
}

// labelFunc returns an each callback that checks labels against nc classes
// and stores them with set.
func labelFunc(x *idxReader, nc int, set func(i, y int)) func(int, []byte) error {
	return func(first int, ys []byte) error {
		for k, y := range ys {
			if int(y) >= nc {
				return x.bad(x.itemOffset(first+k), "label %d of image %d out of range [0,%d)", y, first+k, nc)
			}
			set(first+k, int(y))
		}
		return nil
	}
}

// firstErr returns the first non-nil error of errs.
func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// openIDXFile opens base in fsys, as findIDXFile finds it, and returns
// the file and its name for errors.
func openIDXFile(fsys fs.FS, dir, base string) (fs.File, string, error) {
	n, err := findIDXFile(fsys, dir, base)
	if err != nil {
		return nil, "", err
	}
	f, err := fsys.Open(n)
	if err != nil {
		return nil, "", fmt.Errorf("data: open %q: %w", joinName(dir, n), err)
	}
	return f, joinName(dir, n), nil
}

// findIDXFile finds base in fsys, trying in order base.gz, base, and the
// dotted spelling of some mirrors (train-images.idx3-ubyte[.gz]), and
// returns the name found. The first that exists must be a regular file.
func findIDXFile(fsys fs.FS, dir, base string) (string, error) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	for _, n := range []string{base + ".gz", base, dotted + ".gz", dotted} {
		fi, err := fs.Stat(fsys, n)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("data: stat %q: %w", joinName(dir, n), err)
		case !fi.Mode().IsRegular():
			found := "not a regular file"
			if fi.IsDir() {
				found = "a directory"
			}
			return "", badData(joinName(dir, n), -1, "%s; want an IDX file", found)
		}
		return n, nil
	}
	return "", fmt.Errorf("data: %q (or %s.gz): %w", joinName(dir, base), base, ErrNotFound)
}

// joinName names file n of dir in messages: a file path, or for the
// embedded data a name like "embedded:fashion-mnist-subset/...".
func joinName(dir, n string) string {
	if strings.HasPrefix(dir, "embedded:") {
		return path.Join(dir, n)
	}
	return filepath.Join(dir, n)
}
