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
	n, rest := len(b)/cifarRecord, len(b)%cifarRecord
	switch {
	case len(b) == 0:
		return cifarBatch{}, badData(name, 0, "empty file")
	case n > cifarBatchMax:
		return cifarBatch{}, badData(name, cifarBatchMax*cifarRecord, "oversized: %d bytes, more than %d records of %d bytes", len(b), cifarBatchMax, cifarRecord)
	case rest != 0:
		return cifarBatch{}, badData(name, int64(n*cifarRecord), "truncated or oversized: %d bytes is %d records of %d bytes and %d bytes more", len(b), n, cifarRecord, rest)
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

// readAtMost reads the file name, which must hold at most limit bytes: a
// larger file is an ErrBadData error, found before it is read.
func readAtMost(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	if fi.Size() > limit {
		return nil, badData(name, limit, "oversized: %d bytes, more than a CIFAR-10 batch of %d images can be (%d)", fi.Size(), cifarBatchMax, limit)
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("data: read %q: %w", name, err)
	}
	return b, nil
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
		{filepath.Join(path, "cifar-10-batches-bin"), true},
		{filepath.Join(path, "cifar-10-batches-py"), false},
	} {
		if fi, err := os.Stat(filepath.Join(c.dir, cifarFile(1, c.binary))); err == nil && !fi.IsDir() {
			return c.dir, c.binary, nil
		}
	}
	return "", false, fmt.Errorf("data: cifar10: %q holds neither data_batch_1.bin nor data_batch_1, nor a cifar-10-batches-bin or cifar-10-batches-py folder: %w", path, ErrNotFound)
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

// loadCIFAR10 loads CIFAR-10 from o.Path in either format.
func loadCIFAR10(ctx context.Context, o Options) (*Dataset, error) {
	dir, binary, err := findCIFARDir(o.Path)
	if err != nil {
		return nil, err
	}
	// The largest file a batch can be: 10000 records, or 10000 images plus
	// the pickle's labels, file names and opcodes (about 0.5 MB in the real
	// files).
	parse, maxSize := parseCIFARPickle, int64(cifarBatchMax*cifarPixels+4<<20)
	if binary {
		parse, maxSize = parseCIFARBinary, cifarBatchMax*cifarRecord
	}
	// Every file must be there, needed or not: a partial folder is an error.
	names := make([]string, cifarBatches+1) // training batches, then the test batch
	for i := range names {
		names[i] = filepath.Join(dir, cifarFile((i+1)%(cifarBatches+1), binary))
		if _, err := os.Stat(names[i]); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: cifar10: batch file %q: %w", names[i], ErrNotFound)
			}
			return nil, fmt.Errorf("data: cifar10: %w", err)
		}
	}

	// Read and check the six files, two at a time (each is 30 MB).
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
			b, err := readAtMost(name, maxSize)
			if err != nil {
				errs[i] = err
				return
			}
			batches[i], errs[i] = parse(b, name)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := firstErr(errs); err != nil {
		return nil, err
	}
	train, test := batches[:cifarBatches], batches[cifarBatches]
	total := 0
	for _, b := range train {
		total += b.n
	}
	if o.Train+o.Val > total {
		return nil, badOptions("cifar10: train %d + val %d images requested, but the %d training batches in %q hold %d", o.Train, o.Val, cifarBatches, dir, total)
	}
	if o.Test > test.n {
		return nil, badOptions("cifar10: test %d images requested, but %q holds %d", o.Test, test.name, test.n)
	}

	ds := &Dataset{Name: SourceCIFAR10, Path: dir, Shape: []int{3, 32, 32}, Classes: cifarClasses}
	b := newBuilder(ds, o.Train, o.Val, o.Test)
	next := 0 // index of the first image of the next batch
	for _, c := range train {
		first := next
		wg.Go(func() {
			sums := make([]uint64, cifarPixels)
			for i := range c.n {
				b.trainLabel(first+i, int(c.labels[i]))
				b.trainImages(first+i, c.pixels(i), sums)
			}
			b.addSums(sums)
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
