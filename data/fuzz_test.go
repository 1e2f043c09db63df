package data

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// The fuzz targets of the parsers of outside bytes. Their seed corpora
// (the committed fixtures, plus a few edge cases) run in plain go test; run
// one with e.g.  go test ./data -run '^$' -fuzz FuzzIDX -fuzztime 1m

func FuzzIDX(f *testing.F) {
	for _, dir := range []string{mnistRawFixure, mnistGzFixture} {
		for _, n := range []string{trainLabelsFile, testImagesFile} {
			name := filepath.Join(dir, n)
			if dir == mnistGzFixture {
				name += ".gz"
			}
			b := readFile(f, name)
			ndim := byte(1)
			if n == testImagesFile {
				ndim = 3
			}
			f.Add(b, ndim)
			f.Add(b[:len(b)/2], ndim)
		}
	}
	f.Add([]byte("\x00\x00\x08\x03\xff\xff\xff\xff\x00\x00\x00\x1c\x00\x00\x00\x1c"), byte(3))
	f.Add([]byte("\x00\x00\x08\x01\x00\x00\x00\x00"), byte(1))
	f.Fuzz(func(t *testing.T, b []byte, ndim byte) {
		ndim = 1 + ndim%3
		x, err := openIDX(bytes.NewReader(b), "fuzz", int(ndim))
		if err != nil {
			return
		}
		seen := 0
		err = x.each(context.Background(), min(x.count(), 64), func(first int, items []byte) error {
			if first != seen || len(items)%x.itemSize != 0 {
				t.Fatalf("chunk at %d of %d bytes after %d items", first, len(items), seen)
			}
			seen += len(items) / x.itemSize
			return nil
		})
		if err == nil && !x.gz && int64(len(b)) != x.itemOffset(x.count()) {
			t.Fatalf("accepted %d bytes for %d items of %d bytes", len(b), x.count(), x.itemSize)
		}
	})
}

func FuzzCIFARBinary(f *testing.F) {
	f.Add(readFile(f, filepath.Join(cifarFixture, "cifar-10-batches-bin", "data_batch_4.bin")))
	f.Add([]byte{})
	f.Add(make([]byte, cifarRecord+1))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCIFARBinary(b, "fuzz")
		if err != nil {
			return
		}
		if c.n*cifarRecord != len(b) || len(c.labels) != c.n {
			t.Fatalf("accepted %d bytes as %d records", len(b), c.n)
		}
		for i := range c.n {
			if c.labels[i] >= 10 || len(c.pixels(i)) != cifarPixels {
				t.Fatalf("record %d: label %d", i, c.labels[i])
			}
		}
	})
}

func FuzzCIFARPickle(f *testing.F) {
	f.Add(readFile(f, filepath.Join(cifarFixture, "cifar-10-batches-py", "data_batch_4")))
	_, px, labels := cifarRecords(2, 0)
	f.Add(py2Batch(px, labels))
	f.Add([]byte("\x80\x02}q\x01."))
	f.Add([]byte("\x80\x02(\x80\x02t."))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCIFARPickle(b, "fuzz")
		// The count from a head (as Inspect reads): an error only where
		// the whole file gives the same, a count only where it is right
		// or the fault lies past the pixels.
		for _, head := range []int{len(b) / 2, 200} {
			n, ok, perr := peekCIFARPickle(b[:min(head, len(b))], int64(len(b)), "fuzz")
			if perr != nil && (err == nil || perr.Error() != err.Error()) {
				t.Fatalf("head %d: peek: %v; parse: %v", head, perr, err)
			}
			if ok && err == nil && n != c.n {
				t.Fatalf("head %d: peek counts %d images, parse %d", head, n, c.n)
			}
		}
		if err != nil {
			return
		}
		if c.n < 1 || len(c.px) != c.n*cifarPixels || len(c.labels) != c.n {
			t.Fatalf("accepted %d images with %d pixel bytes and %d labels", c.n, len(c.px), len(c.labels))
		}
		for _, y := range c.labels {
			if y >= 10 {
				t.Fatalf("label %d", y)
			}
		}
	})
}

// FuzzCIFARTar reads archives as Load and Inspect do: no panic, an error of
// this package for every bad input, a Dataset that keeps the invariants,
// and Inspect succeeding, with the same counts, wherever Load does.
func FuzzCIFARTar(f *testing.F) {
	// Small archives, of one image per batch, in both formats; the
	// committed ones (90 kB) make the fuzzer spend its time minimizing.
	for _, binary := range []bool{true, false} {
		var es []tarEntry
		for i := range cifarBatches + 1 {
			bin, px, labels := cifarRecords(1, i)
			if !binary {
				bin = py2Batch(px, labels)
			}
			es = append(es, tarEntry{name: "b/" + cifarFile(i, binary), data: bin})
		}
		f.Add(makeTar(f, es, false), false)
		gz := makeTar(f, es, true)
		f.Add(gz, true)
		f.Add(gz[:len(gz)/2], true)
	}
	f.Add([]byte{}, false)
	f.Add(make([]byte, 1024), false)
	f.Fuzz(func(t *testing.T, b []byte, gz bool) {
		ctx := context.Background()
		o := Options{Source: SourceCIFAR10, Train: 1, Val: 1, Test: 1}
		batches, lerr := readCIFARTar(ctx, bytes.NewReader(b), "fuzz", gz)
		var ds *Dataset
		if lerr == nil {
			ds, lerr = buildCIFAR(o, "fuzz", batches)
		}
		counts := make([]int, cifarBatches+1)
		_, ierr := countCIFARTar(ctx, bytes.NewReader(b), "fuzz", gz, counts)
		for _, err := range []error{lerr, ierr} {
			if err != nil && !isDataErr(err) {
				t.Fatalf("error of no class: %v", err)
			}
		}
		if lerr != nil {
			return
		}
		if ierr != nil {
			t.Fatalf("Load succeeds, Inspect: %v", ierr)
		}
		for i, c := range batches {
			if counts[i] != c.n {
				t.Fatalf("batch %d: Inspect counts %d images, Load %d", i, counts[i], c.n)
			}
		}
		for _, s := range []Split{ds.Train, ds.Val, ds.Test} {
			if s.N != 1 || len(s.X) != s.N*s.D || s.D != cifarPixels || len(s.Y) != 1 || s.Y[0] < 0 || s.Y[0] >= 10 {
				t.Fatalf("split N=%d D=%d len(X)=%d Y=%v", s.N, s.D, len(s.X), s.Y)
			}
		}
	})
}
