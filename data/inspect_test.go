package data

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
)

// inspectFixture is a data set of the fixtures, with the numbers of
// training-side and test-side images its files hold.
type inspectFixture struct {
	name        string
	o           Options // Source and Path
	train, test int
}

func inspectFixtures(t *testing.T) []inspectFixture {
	fs := []inspectFixture{
		{"mnist-gz", Options{Source: SourceMNIST, Path: mnistGzFixture}, 12, 4},
		{"mnist-raw as fashion-mnist", Options{Source: SourceFashionMNIST, Path: mnistRawFixure}, 12, 4},
		{"cifar10 parent", Options{Source: SourceCIFAR10, Path: cifarFixture}, 18, 6},
		{"cifar10 bin", Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, "cifar-10-batches-bin")}, 18, 6},
		{"cifar10 py", Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, "cifar-10-batches-py")}, 18, 6},
		{"embedded", Options{Source: SourceEmbedded}, EmbeddedTrain, EmbeddedTest},
	}
	for _, tb := range cifarTarballs {
		fs = append(fs, inspectFixture{tb.file, Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, tb.file)}, 18, 6})
	}
	return fs
}

// TestInspectAgreesWithLoad checks, for every fixture and split sizes that
// fit, just fit and do not fit, and with each file missing in turn, that
// Inspect succeeds exactly when Load does, fails with the same error, and
// describes what Load returns.
func TestInspectAgreesWithLoad(t *testing.T) {
	for _, f := range inspectFixtures(t) {
		for _, sz := range []struct {
			name             string
			train, val, test int
		}{
			{"small", 3, 1, 1},
			{"all", f.train - 1, 1, f.test},
			{"train+val too many", f.train, 1, 1},
			{"test too many", 1, 1, f.test + 1},
			{"defaults", 0, 0, 0},
		} {
			t.Run(f.name+"/"+sz.name, func(t *testing.T) {
				o := f.o
				o.Train, o.Val, o.Test = sz.train, sz.val, sz.test
				compareInspectLoad(t, o, f)
			})
		}
		if f.o.Path == "" {
			continue
		}
		// Each file missing in turn (for an archive, each batch member).
		info, err := Inspect(t.Context(), Options{Source: f.o.Source, Path: f.o.Path, Train: 1, Val: 1, Test: 1})
		if err != nil {
			t.Fatal(err)
		}
		if info.Files[0] == info.Path { // an archive
			continue // missing members: TestCIFAR10TarballBadInput
		}
		for i := range info.Files {
			t.Run(fmt.Sprintf("%s/without %s", f.name, filepath.Base(info.Files[i])), func(t *testing.T) {
				dir := copyDir(t, filepath.Dir(info.Files[0]))
				if err := os.Remove(filepath.Join(dir, filepath.Base(info.Files[i]))); err != nil {
					t.Fatal(err)
				}
				compareInspectLoad(t, Options{Source: f.o.Source, Path: dir, Train: 1, Val: 1, Test: 1}, f)
			})
		}
	}
	t.Run("synthetic", func(t *testing.T) {
		compareInspectLoad(t, Options{Source: SourceSynthetic, Seed: 3, Train: 50, Val: 5, Test: 7, Dim: 6, Classes: 3}, inspectFixture{train: 55, test: 7})
	})
	t.Run("fashion-mnist", func(t *testing.T) {
		dir := fashionMNISTDir(t)
		compareInspectLoad(t, Options{Source: SourceFashionMNIST, Path: dir, Train: 100, Val: 10, Test: 10}, inspectFixture{train: 60000, test: 10000})
		compareInspectLoad(t, Options{Source: SourceFashionMNIST, Path: dir, Test: 10001}, inspectFixture{train: 60000, test: 10000})
	})
}

// compareInspectLoad checks Inspect(o) against Load(o) (bypassing the
// cache), for a data set of f.train and f.test images.
func compareInspectLoad(t *testing.T, o Options, f inspectFixture) {
	t.Helper()
	info, ierr := Inspect(t.Context(), o)
	var ds *Dataset
	n, lerr := o.Normalize()
	if lerr == nil {
		ds, lerr = load(t.Context(), n)
	}
	if (ierr == nil) != (lerr == nil) || (ierr != nil && ierr.Error() != lerr.Error()) {
		t.Fatalf("Inspect: %v\nLoad:    %v", ierr, lerr)
	}
	if lerr != nil {
		if !errors.Is(lerr, ErrBadOptions) && !errors.Is(lerr, ErrNotFound) {
			t.Errorf("err = %v, want ErrBadOptions or ErrNotFound", lerr)
		}
		return
	}
	if info.Options != n || info.Source != o.Source || info.Name != ds.Name || info.Path != ds.Path ||
		!slices.Equal(info.Shape, ds.Shape) || info.Classes != len(ds.Classes) ||
		info.TrainImages != f.train || info.TestImages != f.test {
		t.Errorf("Info %+v\nDataset Name %q Path %q Shape %v, %d classes; want %d training and %d test images",
			info, ds.Name, ds.Path, ds.Shape, len(ds.Classes), f.train, f.test)
	}
	for _, file := range info.Files {
		if o.Source != SourceEmbedded {
			if _, err := os.Stat(file); err != nil {
				t.Errorf("Files: %v", err)
			}
		}
	}
}

// TestInspectHeaderFaults checks that Inspect finds, as Load does, the
// faults that headers, names and sizes show.
func TestInspectHeaderFaults(t *testing.T) {
	type setup func(t *testing.T) string
	edit := func(fixture, file string, f func([]byte) []byte) setup {
		return func(t *testing.T) string {
			d := copyDir(t, fixture)
			p := filepath.Join(d, file)
			if err := os.WriteFile(p, f(readFile(t, p)), 0o644); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	setByte := func(off int, v byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return b }
	}
	binDir := filepath.Join(cifarFixture, "cifar-10-batches-bin")
	pyDir := filepath.Join(cifarFixture, "cifar-10-batches-py")
	tarOf := func(entries func(t *testing.T) []tarEntry) setup {
		return func(t *testing.T) string { return writeTemp(t, "c.tar.gz", makeTar(t, entries(t), true)) }
	}
	pyGz := filepath.Join(cifarFixture, cifarPythonTarball)
	tests := []struct {
		name    string
		source  string
		path    setup
		wantErr error
	}{
		{"wrong magic", SourceMNIST, edit(mnistRawFixure, trainImagesFile, setByte(3, 1)), ErrBadData},
		{"zero dimension", SourceMNIST, edit(mnistRawFixure, trainImagesFile, setByte(11, 0)), ErrBadData},
		{"truncated raw", SourceMNIST, edit(mnistRawFixure, testImagesFile, func(b []byte) []byte { return b[:len(b)-1] }), ErrBadData},
		{"gzip trailer size", SourceMNIST, edit(mnistGzFixture, testLabelsFile+".gz", func(b []byte) []byte { b[len(b)-4]++; return b }), ErrBadData},
		{"fewer labels", SourceMNIST, edit(mnistRawFixure, trainLabelsFile, func(b []byte) []byte { b[7] = 11; return b[:len(b)-1] }), ErrBadData},
		{"header only", SourceMNIST, edit(mnistRawFixure, trainLabelsFile, func(b []byte) []byte { return b[:6] }), ErrBadData},
		{"cifar binary truncated", SourceCIFAR10, edit(binDir, "data_batch_2.bin", func(b []byte) []byte { return b[:len(b)-100] }), ErrBadData},
		{"cifar binary empty", SourceCIFAR10, edit(binDir, "test_batch.bin", func([]byte) []byte { return nil }), ErrBadData},
		{"cifar python protocol 0", SourceCIFAR10, edit(pyDir, "data_batch_1", func([]byte) []byte { return []byte("(dp0\n.") }), ErrBadData},
		{"cifar python oversized", SourceCIFAR10, edit(pyDir, "test_batch", func(b []byte) []byte { return append(b, make([]byte, 35<<20)...) }), ErrBadData},
		{"cifar python wrong shape", SourceCIFAR10, edit(pyDir, "data_batch_1", func(b []byte) []byte {
			return bytes.Replace(b, []byte("K\x01K\x04M\x00\x0c"), []byte("K\x01K\x05M\x00\x0c"), 1)
		}), ErrBadData},
		{"archive truncated", SourceCIFAR10, func(t *testing.T) string {
			b := readFile(t, pyGz)
			return writeTemp(t, "c.tar.gz", b[:len(b)/2])
		}, ErrBadData},
		{"archive member missing", SourceCIFAR10, tarOf(func(t *testing.T) []tarEntry {
			return folderEntries(t, "cifar-10-batches-bin", "x", "data_batch_1.bin", "data_batch_2.bin")
		}), ErrNotFound},
		{"archive binary member size", SourceCIFAR10, tarOf(func(t *testing.T) []tarEntry {
			es := folderEntries(t, "cifar-10-batches-bin", "x")
			es[0].data = es[0].data[:100]
			return es
		}), ErrBadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Source: tt.source, Path: tt.path(t), Train: 3, Val: 1, Test: 1}
			_, ierr := Inspect(t.Context(), o)
			_, lerr := Load(t.Context(), o)
			if !errors.Is(ierr, tt.wantErr) || !errors.Is(lerr, tt.wantErr) {
				t.Fatalf("Inspect: %v\nLoad:    %v\nwant %v", ierr, lerr, tt.wantErr)
			}
		})
	}
}

// TestPeekCIFARPickle checks the count of a python batch from its head:
// right or "cannot tell" for any head length, never wrong; errors as
// parseCIFARPickle's.
func TestPeekCIFARPickle(t *testing.T) {
	for _, n := range []int{1, 2, 1001, cifarBatchMax} {
		_, px, labels := cifarRecords(n, n)
		b := py2Batch(px, labels)
		for _, head := range []int{0, 64, 200, 300, inspectHead, len(b)} {
			t.Run(fmt.Sprintf("n=%d/head=%d", n, head), func(t *testing.T) {
				got, ok, err := peekCIFARPickle(b[:min(head, len(b))], int64(len(b)), "p")
				if err != nil || (ok && got != n) || (!ok && head >= inspectHead) {
					t.Fatalf("peekCIFARPickle = %d, %v, %v; want %d", got, ok, err, n)
				}
			})
		}
	}
	_, px, labels := cifarRecords(1001, 0)
	good := py2Batch(px, labels)
	tests := []struct {
		name string
		b    []byte
		size int64 // 0: len(b)
	}{
		{"protocol 3", func() []byte { b := slices.Clone(good); b[1] = 3; return b }(), 0},
		{"other global", bytes.Replace(good, []byte("numpy\ndtype\n"), []byte("posix\nsystem\n"), 1), 0},
		{"float dtype", bytes.Replace(good, []byte("U\x02u1"), []byte("U\x02f8"), 1), 0},
		{"file shorter than its pixels", good[:inspectHead+10], 0},
		{"row size 1536", bytes.Replace(good, []byte("M\xe9\x03M\x00\x0c"), []byte("M\xd2\x07M\x00\x06"), 1), 0},
		{"labels broken after the pixels", bytes.Replace(good, []byte("U\x06labels"), []byte("U\x06lebals"), 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(tt.b, good) {
				t.Fatal("edit did not apply")
			}
			_, perr := parseCIFARPickle(tt.b, "p")
			n, ok, err := peekCIFARPickle(tt.b[:inspectHead], int64(len(tt.b)), "p")
			switch {
			case err != nil:
				if perr == nil || err.Error() != perr.Error() {
					t.Errorf("peek: %v\nparse: %v", err, perr)
				}
			case ok:
				// Only what lies after the pixels may escape the head.
				if n != 1001 || perr == nil && tt.name != "labels broken after the pixels" {
					t.Errorf("peek = %d, ok; parse: %v", n, perr)
				}
			}
			t.Logf("peek: %d %v %v; parse: %v", n, ok, err, perr)
		})
	}
}

// TestInspectReadsHeadsOnly checks that Inspect counts large python
// batches, in a folder and in an archive, from their heads: it does not
// see a fault after the pixels, which Load does.
func TestInspectReadsHeadsOnly(t *testing.T) {
	dir := t.TempDir()
	var entries []tarEntry
	for i := range cifarBatches + 1 {
		_, px, labels := cifarRecords(1000, i)
		b := py2Batch(px, labels)
		if i == 3 {
			b = bytes.Replace(b, []byte("U\x06labels"), []byte("U\x06lebals"), 1)
		}
		name := cifarFile(i, false)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{name: "cifar-10-batches-py/" + name, data: b})
	}
	archive := writeTemp(t, "c.tar.gz", makeTar(t, entries, true))
	for _, p := range []string{dir, archive} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			o := Options{Source: SourceCIFAR10, Path: p, Train: 4000, Val: 1000, Test: 1000}
			info, err := Inspect(t.Context(), o)
			if err != nil || info.TrainImages != 5000 || info.TestImages != 1000 {
				t.Fatalf("Inspect: %d, %d images, %v", info.TrainImages, info.TestImages, err)
			}
			if _, err := Load(t.Context(), o); !errors.Is(err, ErrBadData) {
				t.Fatalf("Load: err = %v, want ErrBadData", err)
			}
		})
	}
}

// TestInspectFashionMNIST checks Inspect on the full Fashion-MNIST of
// Debian's package: counts from the headers, reading a few kB of the
// files' 31 MB.
func TestInspectFashionMNIST(t *testing.T) {
	dir := fashionMNISTDir(t)
	info, err := Inspect(t.Context(), Options{Source: SourceFashionMNIST})
	if err != nil {
		t.Fatal(err)
	}
	if info.TrainImages != 60000 || info.TestImages != 10000 || !slices.Equal(info.Shape, []int{1, 28, 28}) || info.Classes != 10 ||
		info.Path != dir || len(info.Files) != 4 || info.Files[0] != filepath.Join(dir, trainImagesFile+".gz") {
		t.Errorf("Info %+v", info)
	}
	var n atomic.Int64
	var got Info
	if err := inspectIDX(countingFS{os.DirFS(dir), &n}, dir, mustNormalize(t, Options{Source: SourceFashionMNIST}), &got); err != nil {
		t.Fatal(err)
	}
	const maxRead = 1 << 20
	if n.Load() > maxRead {
		t.Errorf("Inspect read %d bytes, want at most %d", n.Load(), maxRead)
	}
	t.Logf("read %d bytes", n.Load())
}

func BenchmarkInspect(b *testing.B) {
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"source=fashion-mnist", Options{Source: SourceFashionMNIST, Path: fashionMNISTDir(b)}},
		{"source=embedded", Options{Source: SourceEmbedded}},
		{"source=cifar10/format=py.tar.gz", Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, cifarPythonTarball), Train: 1, Val: 1, Test: 1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Inspect(b.Context(), c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
