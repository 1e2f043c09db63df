package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// CIFAR-10 comes as cifar-10-batches-bin (data_batch_1.bin .. data_batch_5.bin,
// test_batch.bin: records of 1 label byte then 3072 pixel bytes) or as
// cifar-10-batches-py (data_batch_1 .. data_batch_5, test_batch: Python 2
// pickles, see pickle.go). Pixels are 1024 red, 1024 green, 1024 blue bytes,
// each channel 32x32 row-major, in both.

const (
	cifarPixels   = 3 * 32 * 32
	cifarRecord   = 1 + cifarPixels // a record of the binary format
	cifarBatchMax = 10000           // images in one batch file
	cifarBatches  = 5               // training batch files
)

var cifarClasses = []string{"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck"}

// cifarBatch is one parsed batch file: image i has class labels[i] and
// pixels px[i*stride+off : i*stride+off+3072].
type cifarBatch struct {
	name   string
	n      int
	labels []byte
	px     []byte
	stride int
	off    int
}

func (c *cifarBatch) pixels(i int) []byte {
	p := i*c.stride + c.off
	return c.px[p : p+cifarPixels]
}

// parseCIFARBinary reads one batch of cifar-10-batches-bin from its bytes b.
// The batch's pixels alias b.
func parseCIFARBinary(b []byte, name string) (cifarBatch, error) {
	n, err := cifarBinaryCount(int64(len(b)), name)
	if err != nil {
		return cifarBatch{}, err
	}
	labels := make([]byte, n)
	for i := range n {
		y := b[i*cifarRecord]
		if int(y) >= len(cifarClasses) {
			return cifarBatch{}, badData(name, int64(i*cifarRecord), "label %d of record %d out of range [0,%d)", y, i, len(cifarClasses))
		}
		labels[i] = y
	}
	return cifarBatch{name: name, n: n, labels: labels, px: b, stride: cifarRecord, off: 1}, nil
}

// cifarBinaryCount returns the number of records in a batch file of
// cifar-10-batches-bin of size bytes, or why it cannot be one.
func cifarBinaryCount(size int64, name string) (int, error) {
	n, rest := size/cifarRecord, size%cifarRecord
	switch {
	case size == 0:
		return 0, badData(name, 0, "empty file")
	case n > cifarBatchMax:
		return 0, badData(name, cifarBatchMax*cifarRecord, "oversized: %d bytes, more than %d records of %d bytes", size, cifarBatchMax, cifarRecord)
	case rest != 0:
		return 0, badData(name, n*cifarRecord, "truncated or oversized: %d bytes is %d records of %d bytes and %d bytes more", size, n, cifarRecord, rest)
	}
	return int(n), nil
}

// cifarMaxSize is the largest a batch file can be: 10000 records, or
// 10000 images plus the pickle's labels, file names and opcodes (about
// 0.5 MB in the real files).
func cifarMaxSize(binary bool) int64 {
	if binary {
		return cifarBatchMax * cifarRecord
	}
	return cifarBatchMax*cifarPixels + 4<<20
}

// checkCIFARSize checks, before it is read, that a batch file of size
// bytes is not larger than a batch can be, and for the binary format
// returns its number of records (-1 for the python format: only its
// pickle can tell).
func checkCIFARSize(name string, size int64, binary bool) (int, error) {
	if limit := cifarMaxSize(binary); size > limit {
		return 0, badData(name, limit, "oversized: %d bytes, more than a CIFAR-10 batch of %d images can be (%d)", size, cifarBatchMax, limit)
	}
	if binary {
		return cifarBinaryCount(size, name)
	}
	return -1, nil
}

// readBatchFile reads the batch file name, checking its size first.
func readBatchFile(name string, binary bool) ([]byte, error) {
	f, err := openBatchFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	if _, err := checkCIFARSize(name, fi.Size(), binary); err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("data: read %q: %w", name, err)
	}
	return b, nil
}

// statBatchFile checks that the batch file name is there, a regular file.
func statBatchFile(name string) (fs.FileInfo, error) {
	fi, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("data: cifar10: batch file %q: %w", name, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("data: cifar10: %w", err)
	case !fi.Mode().IsRegular():
		return nil, wrongKind(SourceCIFAR10, name, describe(name, fi), "a CIFAR-10 batch file")
	}
	return fi, nil
}

// openBatchFile opens the batch file name, which must be a regular file.
func openBatchFile(name string) (*os.File, error) {
	if _, err := statBatchFile(name); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	return f, nil
}

// cifarWant says what a cifar10 path must be, in errors.
const cifarWant = "a directory holding cifar-10-batches-py or cifar-10-batches-bin (or the batches themselves), or cifar-10-python.tar.gz / cifar-10-binary.tar.gz"

// The names of the distributed archives, and of their top-level folders.
const (
	cifarPythonTarball = "cifar-10-python.tar.gz"
	cifarBinaryTarball = "cifar-10-binary.tar.gz"
	cifarPythonDir     = "cifar-10-batches-py"
	cifarBinaryDir     = "cifar-10-batches-bin"
)

// cifarLocation is where CIFAR-10 is read from: a folder of batch files
// or a tar archive.
type cifarLocation struct {
	path   string // the batches folder, or the archive
	tar    bool
	gz     bool // the archive is gzip-compressed
	binary bool // the folder's format
}

// locateCIFAR finds the CIFAR-10 batches that the cifar10 path p names:
// a folder (see findCIFARDir) or a tar archive, gzip-compressed or not,
// whatever its name.
func locateCIFAR(p string) (cifarLocation, error) {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cifarLocation{}, fmt.Errorf("data: cifar10: %q: no such directory or archive: %w", p, ErrNotFound)
	case err != nil:
		return cifarLocation{}, fmt.Errorf("data: cifar10: %w", err)
	case fi.IsDir():
		dir, binary, err := findCIFARDir(p)
		return cifarLocation{path: dir, binary: binary}, err
	case !fi.Mode().IsRegular():
		return cifarLocation{}, wrongKind(SourceCIFAR10, p, describe(p, fi), cifarWant)
	}
	k, err := sniffPath(p)
	if err != nil {
		return cifarLocation{}, fmt.Errorf("data: cifar10: %w", err)
	}
	if !k.tar {
		return cifarLocation{}, wrongKind(SourceCIFAR10, p, k.desc, cifarWant)
	}
	return cifarLocation{path: p, tar: true, gz: k.gz}, nil
}

// findCIFARDir finds the batches folder at or below path: path itself if it
// holds data_batch_1.bin or data_batch_1, else its cifar-10-batches-bin or
// cifar-10-batches-py subfolder (bin first: it needs no parsing).
func findCIFARDir(path string) (dir string, binary bool, err error) {
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return "", false, fmt.Errorf("data: cifar10: directory %q: %w", path, ErrNotFound)
	}
	for _, c := range []struct {
		dir    string
		binary bool
	}{
		{path, true}, {path, false},
		{filepath.Join(path, cifarBinaryDir), true},
		{filepath.Join(path, cifarPythonDir), false},
	} {
		if fi, err := os.Stat(filepath.Join(c.dir, cifarFile(1, c.binary))); err == nil && !fi.IsDir() {
			return c.dir, c.binary, nil
		}
	}
	hint := ""
	for _, t := range []string{cifarPythonTarball, cifarBinaryTarball} {
		if fi, err := os.Stat(filepath.Join(path, t)); err == nil && fi.Mode().IsRegular() {
			hint = fmt.Sprintf(" (it holds %s: give that as the path)", t)
			break
		}
	}
	return "", false, fmt.Errorf("data: cifar10: %q: a directory that holds neither data_batch_1.bin nor data_batch_1, nor a %s or %s folder%s: %w", path, cifarBinaryDir, cifarPythonDir, hint, ErrNotFound)
}

// cifarFile names training batch i (1..5), or the test batch for i = 0.
func cifarFile(i int, binary bool) string {
	n := "test_batch"
	if i > 0 {
		n = fmt.Sprintf("data_batch_%d", i)
	}
	if binary {
		n += ".bin"
	}
	return n
}

// cifarDirFiles names the six batch files of the folder dir, training
// batches first, then the test batch.
func cifarDirFiles(dir string, binary bool) []string {
	names := make([]string, cifarBatches+1)
	for i := range names {
		names[i] = filepath.Join(dir, cifarFile((i+1)%(cifarBatches+1), binary))
	}
	return names
}

// loadCIFAR10 loads CIFAR-10 from o.Path in either format, from a folder
// or a tar archive.
func loadCIFAR10(ctx context.Context, o Options) (*Dataset, error) {
	loc, err := locateCIFAR(o.Path)
	if err != nil {
		return nil, err
	}
	var batches []cifarBatch
	if loc.tar {
		batches, err = readCIFARTarFile(ctx, loc)
	} else {
		batches, err = readCIFARDir(ctx, loc)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return buildCIFAR(o, loc.path, batches)
}

// readCIFARDir reads and checks the six batch files of the folder loc,
// GOMAXPROCS at a time (each is 30 MB). Every file must be there, needed
// or not: a partial folder is an error.
func readCIFARDir(ctx context.Context, loc cifarLocation) ([]cifarBatch, error) {
	parse := parseCIFARPickle
	if loc.binary {
		parse = parseCIFARBinary
	}
	names := cifarDirFiles(loc.path, loc.binary)
	for _, name := range names {
		if _, err := statBatchFile(name); err != nil {
			return nil, err
		}
	}
	batches := make([]cifarBatch, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if errs[i] = ctx.Err(); errs[i] != nil {
				return
			}
			b, err := readBatchFile(name, loc.binary)
			if err != nil {
				errs[i] = err
				return
			}
			batches[i], errs[i] = parse(b, name)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return batches, firstErr(errs)
}

// checkCIFARSplit checks that the training batches, of trainN images in
// all, and the test batch testName, of testN images, hold the images o
// asks for. where names the folder or archive.
func checkCIFARSplit(o Options, where string, trainN int, testName string, testN int) error {
	if o.Train+o.Val > trainN {
		return badOptions("cifar10: train %d + val %d images requested, but the %d training batches in %q hold %d", o.Train, o.Val, cifarBatches, where, trainN)
	}
	if o.Test > testN {
		return badOptions("cifar10: test %d images requested, but %q holds %d", o.Test, testName, testN)
	}
	return nil
}

// buildCIFAR makes the Dataset of o from the parsed batches (training
// batches 1..5, then the test batch) read from path.
func buildCIFAR(o Options, path string, batches []cifarBatch) (*Dataset, error) {
	train, test := batches[:cifarBatches], batches[cifarBatches]
	total := 0
	for _, b := range train {
		total += b.n
	}
	if err := checkCIFARSplit(o, path, total, test.name, test.n); err != nil {
		return nil, err
	}

	ds := &Dataset{Name: SourceCIFAR10, Path: path, Shape: []int{3, 32, 32}, Classes: cifarClasses}
	b := newBuilder(ds, o.Train, o.Val, o.Test)
	var wg sync.WaitGroup
	next := 0 // index of the first image of the next batch
	for _, c := range train {
		first := next
		wg.Go(func() {
			m := b.moments()
			for i := range c.n {
				b.trainLabel(first+i, int(c.labels[i]))
				b.trainImages(first+i, c.pixels(i), m)
			}
			b.addMoments(m)
		})
		next += c.n
	}
	wg.Go(func() {
		for i := range min(test.n, o.Test) {
			b.testLabel(i, int(test.labels[i]))
			b.testImages(i, test.pixels(i))
		}
	})
	wg.Wait()
	return b.finish(), nil
}
