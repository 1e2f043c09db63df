package data

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// The fuzz targets of the three parsers of outside bytes. Their seed corpora
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
