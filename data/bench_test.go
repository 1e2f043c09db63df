package data

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad measures a full load, bypassing the per-process cache:
// files read, checked, converted to float32, split, mean subtracted.
//
// The Fashion-MNIST case is the one compared with the numpy yardstick
// (../shared/bench/ref_numpy.py fmnist, its load_s); testdata/loadspeed.sh
// runs both in one go.
func BenchmarkLoad(b *testing.B) {
	b.Run("source=fashion-mnist", func(b *testing.B) {
		benchLoad(b, Options{Source: SourceFashionMNIST, Path: fashionMNISTDir(b)})
	})
	b.Run("source=embedded", func(b *testing.B) {
		benchLoad(b, Options{Source: SourceEmbedded})
	})
	b.Run("source=synthetic/dim=3072", func(b *testing.B) {
		benchLoad(b, Options{Source: SourceSynthetic, Dim: 3072, Train: 4900, Val: 100, Test: 100})
	})
	// Full-size CIFAR-10 (50000 + 10000 images) in both formats, written to
	// a temporary directory from a fixed pattern.
	dir := b.TempDir()
	for _, binary := range []bool{true, false} {
		format := map[bool]string{true: "bin", false: "py"}[binary]
		b.Run("source=cifar10/format="+format, func(b *testing.B) {
			path := filepath.Join(dir, format)
			if err := os.MkdirAll(path, 0o755); err != nil {
				b.Fatal(err)
			}
			for i := range cifarBatches + 1 {
				bin, px, labels := cifarRecords(cifarBatchMax, i)
				content := bin
				if !binary {
					content = py2Batch(px, labels)
				}
				if err := os.WriteFile(filepath.Join(path, cifarFile(i, binary)), content, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			benchLoad(b, Options{Source: SourceCIFAR10, Path: path})
		})
	}
	// The same batches as archives, as downloaded (gzip) and plain.
	for _, c := range []struct {
		format string
		binary bool
		gz     bool
	}{{"py.tar.gz", false, true}, {"bin.tar.gz", true, true}, {"py.tar", false, false}} {
		b.Run("source=cifar10/format="+c.format, func(b *testing.B) {
			var es []tarEntry
			for i := range cifarBatches + 1 {
				bin, px, labels := cifarRecords(cifarBatchMax, i)
				if !c.binary {
					bin = py2Batch(px, labels)
				}
				es = append(es, tarEntry{name: "cifar-10-batches/" + cifarFile(i, c.binary), data: bin})
			}
			path := filepath.Join(dir, c.format)
			if err := os.WriteFile(path, makeTar(b, es, c.gz), 0o644); err != nil {
				b.Fatal(err)
			}
			es = nil
			benchLoad(b, Options{Source: SourceCIFAR10, Path: path})
		})
	}
}

func benchLoad(b *testing.B, o Options) {
	o, err := o.Normalize()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load(b.Context(), o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCIFARPickle(b *testing.B) {
	for _, n := range []int{1000, cifarBatchMax} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			_, px, labels := cifarRecords(n, 0)
			p := py2Batch(px, labels)
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseCIFARPickle(p, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
