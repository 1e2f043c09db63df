package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// wantSplits computes the expected Dataset directly from the images in file
// order: train = the first nTrain of train, val = the next nVal, test = the
// first nTest of test, pixels minus the mean of the train images; Std the
// train images' population standard deviation, two-pass in float64.
func wantSplits(shape []int, train, test [][]byte, trainY, testY []int, nTrain, nVal, nTest int) *Dataset {
	d := len(train[0])
	mean, std := make([]float32, d), make([]float32, d)
	for j := range d {
		s := 0.0
		for _, im := range train[:nTrain] {
			s += float64(im[j])
		}
		m := s / float64(nTrain)
		v := 0.0
		for _, im := range train[:nTrain] {
			v += (float64(im[j]) - m) * (float64(im[j]) - m)
		}
		mean[j], std[j] = float32(m), float32(math.Sqrt(v/float64(nTrain)))
	}
	split := func(ims [][]byte, ys []int) Split {
		s := Split{N: len(ims), D: d, Y: slices.Clone(ys)}
		for _, im := range ims {
			for j, p := range im {
				s.X = append(s.X, float32(p)-mean[j])
			}
		}
		return s
	}
	return &Dataset{Shape: shape, Mean: mean, Std: std,
		Train: split(train[:nTrain], trainY[:nTrain]),
		Val:   split(train[nTrain:nTrain+nVal], trainY[nTrain:nTrain+nVal]),
		Test:  split(test[:nTest], testY[:nTest]),
	}
}

// stdTol is how far (relative) a loaded Std may be from wantSplits': both
// round to float32 a float64 variance, one from exact integer sums, the
// other two-pass, which differ in their last bits.
const stdTol = 1e-6

// sameData reports whether got holds exactly want's arrays, except that
// Std may be within stdTol of want's (relative; 0: bitwise, for claims of
// determinism).
func sameData(t *testing.T, got, want *Dataset, stdTol float64) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) {
		t.Errorf("Shape = %v, want %v", got.Shape, want.Shape)
	}
	if !slices.Equal(got.Mean, want.Mean) {
		t.Errorf("Mean differs")
	}
	if len(got.Std) != len(want.Std) {
		t.Errorf("len(Std) = %d, want %d", len(got.Std), len(want.Std))
	}
	for j := range min(len(got.Std), len(want.Std)) {
		if g, w := got.Std[j], want.Std[j]; !scalar.EqualWithinAbsOrRel(float64(g), float64(w), 0, stdTol) {
			t.Errorf("Std[%d] = %g, want %g (relative tolerance %g)", j, g, w, stdTol)
			break
		}
	}
	for _, s := range []struct {
		name      string
		got, want Split
	}{{"train", got.Train, want.Train}, {"val", got.Val, want.Val}, {"test", got.Test, want.Test}} {
		if s.got.N != s.want.N || s.got.D != s.want.D || len(s.got.X) != s.got.N*s.got.D || len(s.got.Y) != s.got.N {
			t.Errorf("%s: N=%d D=%d len(X)=%d len(Y)=%d, want N=%d D=%d", s.name, s.got.N, s.got.D, len(s.got.X), len(s.got.Y), s.want.N, s.want.D)
			continue
		}
		if !slices.Equal(s.got.Y, s.want.Y) {
			t.Errorf("%s: Y = %v, want %v", s.name, s.got.Y, s.want.Y)
		}
		if !slices.Equal(s.got.X, s.want.X) {
			t.Errorf("%s: X differs", s.name)
		}
	}
}

// cifarFixtureImages reads the binary fixture the plain way.
func cifarFixtureImages(t *testing.T) (train, test [][]byte, trainY, testY []int) {
	dir := filepath.Join(cifarFixture, "cifar-10-batches-bin")
	for i := 1; i <= cifarBatches+1; i++ {
		b := readFile(t, filepath.Join(dir, cifarFile(i%(cifarBatches+1), true)))
		for r := 0; r < len(b); r += cifarRecord {
			if i <= cifarBatches {
				train, trainY = append(train, b[r+1:r+cifarRecord]), append(trainY, int(b[r]))
			} else {
				test, testY = append(test, b[r+1:r+cifarRecord]), append(testY, int(b[r]))
			}
		}
	}
	return train, test, trainY, testY
}

func TestCIFAR10FormatsLoadIdentically(t *testing.T) {
	train, test, trainY, testY := cifarFixtureImages(t)
	if len(train) != 18 || len(test) != 6 {
		t.Fatalf("fixture has %d+%d images, want 18+6: regenerate with testdata/gen.py", len(train), len(test))
	}
	for _, sz := range []struct{ train, val, test int }{{15, 3, 6}, {5, 2, 1}, {18, 0, 6}} {
		want := wantSplits([]int{3, 32, 32}, train, test, trainY, testY, sz.train, sz.val, sz.test)
		for _, c := range []struct{ name, path, wantDir string }{
			{"bin", "cifar-10-batches-bin", "cifar-10-batches-bin"},
			{"py", "cifar-10-batches-py", "cifar-10-batches-py"},
			{"parent", "", "cifar-10-batches-bin"},
		} {
			t.Run(fmt.Sprintf("%s/train=%d/val=%d/test=%d", c.name, sz.train, sz.val, sz.test), func(t *testing.T) {
				ds := loadExpect(t, Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, c.path), Train: sz.train, Val: sz.val, Test: sz.test}, want)
				if ds != nil && (ds.Name != "cifar10" || len(ds.Classes) != 10 || ds.Classes[0] != "airplane" || filepath.Base(ds.Path) != c.wantDir) {
					t.Errorf("Name %q, Classes %v, Path %q", ds.Name, ds.Classes, ds.Path)
				}
			})
		}
	}
}

// loadExpect loads o, bypassing the cache, and checks that it holds want's
// arrays. With o.Val == 0 (the default, 1000: more than the fixtures hold)
// it checks for ErrBadOptions instead and returns nil.
func loadExpect(t *testing.T, o Options, want *Dataset) *Dataset {
	t.Helper()
	if o.Val == 0 {
		if _, err := Load(t.Context(), o); !errors.Is(err, ErrBadOptions) {
			t.Fatalf("default val: err = %v, want ErrBadOptions", err)
		}
		return nil
	}
	ds, err := load(t.Context(), mustNormalize(t, o))
	if err != nil {
		t.Fatal(err)
	}
	sameData(t, ds, want, stdTol)
	return ds
}

func mustNormalize(t *testing.T, o Options) Options {
	t.Helper()
	o, err := o.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestCIFAR10PickleFixtureForm checks that the python-format fixtures are in
// the exact form of Python 2's cPickle protocol 2: the opcodes, byte-string
// keys as SHORT_BINSTRING and the raw pixels in one BINSTRING.
func TestCIFAR10PickleFixtureForm(t *testing.T) {
	want := map[byte]bool{}
	for _, op := range []byte{opProto, opEmptyDict, opBinput, opMark, opShortBinstring, opGlobal,
		opBinint1, opBinint2, opTuple1, opTuple3, opReduce, opTuple2, opNone, opBinint, opTuple, opBuild,
		opNewfalse, opBinstring, opEmptyList, opAppends, opSetitems, opStop} {
		want[op] = true
	}
	for i := 0; i <= cifarBatches; i++ {
		name := cifarFile(i, false)
		t.Run(name, func(t *testing.T) {
			b := readFile(t, filepath.Join(cifarFixture, "cifar-10-batches-py", name))
			bin := readFile(t, filepath.Join(cifarFixture, "cifar-10-batches-bin", name+".bin"))
			n := len(bin) / cifarRecord
			const head = "\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05("
			if !bytes.HasPrefix(b, []byte(head)) {
				t.Errorf("does not start like a cPickle protocol-2 CIFAR batch: %q", b[:min(len(b), len(head))])
			}
			var px []byte
			for r := 0; r < len(bin); r += cifarRecord {
				px = append(px, bin[r+1:r+cifarRecord]...)
			}
			var raw bytes.Buffer
			raw.WriteByte(opBinstring)
			binary.Write(&raw, binary.LittleEndian, int32(len(px)))
			raw.Write(px)
			if !bytes.Contains(b, raw.Bytes()) {
				t.Errorf("no BINSTRING holding the %d pixel bytes of the binary fixture", len(px))
			}
			for _, key := range []string{"data", "labels", "batch_label", "filenames"} {
				if !bytes.Contains(b, append([]byte{opShortBinstring, byte(len(key))}, key...)) {
					t.Errorf("key %q is not a SHORT_BINSTRING", key)
				}
			}
			seen := opcodesRun(t, b, name)
			for op := range 256 {
				if seen[op] != want[byte(op)] {
					t.Errorf("opcode %s: seen %v, want %v", opName(byte(op)), seen[op], want[byte(op)])
				}
			}
			c, err := parseCIFARPickle(b, name)
			if err != nil {
				t.Fatal(err)
			}
			if c.n != n || !bytes.Equal(c.px, px) {
				t.Errorf("parsed %d images, want %d, pixels equal: %v", c.n, n, bytes.Equal(c.px, px))
			}
		})
	}
}

// opcodesRun runs the pickle b as unpickle does and returns the opcodes
// it executed.
func opcodesRun(t *testing.T, b []byte, name string) (seen [256]bool) {
	t.Helper()
	u := newUnpickler(b, int64(len(b)), name)
	for {
		op, err := u.next()
		if err != nil {
			t.Fatal(err)
		}
		seen[op] = true
		if err := u.step(op); err != nil {
			t.Fatal(err)
		}
		if op == opStop {
			return seen
		}
	}
}

// TestCIFAR10FullSizeBatch checks a batch of the real size in both formats:
// 10000 images, shape pickled with BININT2, LONG_BINPUT memo indices,
// labels in ten APPENDS.
func TestCIFAR10FullSizeBatch(t *testing.T) {
	for _, n := range []int{1, 2, 1001, cifarBatchMax} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			bin, px, labels := cifarRecords(n, n)
			cb, err := parseCIFARBinary(bin, "bin")
			if err != nil {
				t.Fatal(err)
			}
			cp, err := parseCIFARPickle(py2Batch(px, labels), "py")
			if err != nil {
				t.Fatal(err)
			}
			if cb.n != n || cp.n != n || !bytes.Equal(cb.labels, labels) || !bytes.Equal(cp.labels, labels) {
				t.Fatalf("n = %d, %d; labels equal %v, %v", cb.n, cp.n, bytes.Equal(cb.labels, labels), bytes.Equal(cp.labels, labels))
			}
			for i := range n {
				if !bytes.Equal(cb.pixels(i), cp.pixels(i)) || !bytes.Equal(cp.pixels(i), px[i*cifarPixels:(i+1)*cifarPixels]) {
					t.Fatalf("image %d differs", i)
				}
			}
		})
	}
}

func TestCIFAR10BadInput(t *testing.T) {
	binDir := filepath.Join(cifarFixture, "cifar-10-batches-bin")
	pyDir := filepath.Join(cifarFixture, "cifar-10-batches-py")
	// edit returns a setup that copies dir and changes file with f.
	edit := func(dir, file string, f func([]byte) []byte) func(*testing.T) string {
		return func(t *testing.T) string {
			d := copyDir(t, dir)
			p := filepath.Join(d, file)
			if f == nil {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				return d
			}
			if err := os.WriteFile(p, f(readFile(t, p)), 0o644); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				panic(fmt.Sprintf("fixture lacks %q", old))
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	setByte := func(off int, v byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return b }
	}
	tests := []struct {
		name    string
		setup   func(*testing.T) string
		o       Options
		wantErr error
		want    []string // substrings of the message
	}{
		{"missing dir", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, Options{}, ErrNotFound, []string{"nope"}},
		{"empty dir", func(t *testing.T) string { return t.TempDir() }, Options{}, ErrNotFound, []string{"holds neither"}},
		{"missing batch", edit(binDir, "data_batch_3.bin", nil), Options{}, ErrNotFound, []string{"data_batch_3.bin"}},
		{"missing test batch py", edit(pyDir, "test_batch", nil), Options{}, ErrNotFound, []string{"test_batch"}},
		{"truncated", edit(binDir, "data_batch_2.bin", func(b []byte) []byte { return b[:len(b)-100] }), Options{}, ErrBadData, []string{"data_batch_2.bin", "offset 6146", "truncated"}},
		{"oversized", edit(binDir, "data_batch_2.bin", func(b []byte) []byte { return append(b, 0) }), Options{}, ErrBadData, []string{"data_batch_2.bin", "offset 9219"}},
		{"empty file", edit(binDir, "test_batch.bin", func([]byte) []byte { return nil }), Options{}, ErrBadData, []string{"test_batch.bin", "empty"}},
		{"more than 10000 records", edit(binDir, "data_batch_5.bin", func([]byte) []byte {
			b, _, _ := cifarRecords(cifarBatchMax+1, 1)
			return b
		}), Options{}, ErrBadData, []string{"data_batch_5.bin", "oversized: 30733073 bytes", "offset 30730000"}},
		{"py oversized", edit(pyDir, "test_batch", func(b []byte) []byte { return append(b, make([]byte, 35<<20)...) }), Options{}, ErrBadData, []string{"test_batch", "oversized", "more than a CIFAR-10 batch"}},
		{"label out of range", edit(binDir, "data_batch_1.bin", setByte(cifarRecord, 10)), Options{}, ErrBadData, []string{"data_batch_1.bin", "offset 3073", "label 10 of record 1"}},
		{"too many train", edit(binDir, "data_batch_1.bin", func(b []byte) []byte { return b }), Options{Train: 16, Val: 3}, ErrBadOptions, []string{"train 16 + val 3", "hold 18"}},
		{"too many test", edit(pyDir, "test_batch", func(b []byte) []byte { return b }), Options{Test: 7}, ErrBadOptions, []string{"test_batch", "holds 6"}},
		{"py truncated", edit(pyDir, "data_batch_1", func(b []byte) []byte { return b[:len(b)/2] }), Options{}, ErrBadData, []string{"data_batch_1", "offset 139", "truncated"}},
		{"py no STOP", edit(pyDir, "data_batch_1", func(b []byte) []byte { return b[:len(b)-1] }), Options{}, ErrBadData, []string{"data_batch_1", "without a STOP"}},
		{"py trailing bytes", edit(pyDir, "data_batch_2", func(b []byte) []byte { return append(b, '.') }), Options{}, ErrBadData, []string{"data_batch_2", "oversized", "after the STOP"}},
		{"py not a dict", edit(pyDir, "data_batch_4", func([]byte) []byte { return []byte("\x80\x02]q\x01.") }), Options{}, ErrBadData, []string{"data_batch_4", "holds list, want a dict"}},
		{"py protocol 3", edit(pyDir, "data_batch_1", setByte(1, 3)), Options{}, ErrBadData, []string{"offset 0", "protocol 3"}},
		{"py protocol 0", edit(pyDir, "data_batch_1", func([]byte) []byte { return []byte("(dp0\n.") }), Options{}, ErrBadData, []string{"offset 0", "PROTO 2"}},
		{"py missing labels", edit(pyDir, "data_batch_3", replace("U\x06labels", "U\x06lebals")), Options{}, ErrBadData, []string{"data_batch_3", `key "labels": missing`}},
		{"py bad label opcode", edit(pyDir, "data_batch_3", replace("U\x06labelsq\x08]q\t(K", "U\x06labelsq\x08]q\t(J")), Options{}, ErrBadData, []string{"data_batch_3", "offset 15525", "0x08: not an opcode"}},
		{"py label 10", edit(pyDir, "test_batch", func(b []byte) []byte {
			i := bytes.Index(b, []byte("U\x06labelsq\x08]q\t(K")) + len("U\x06labelsq\x08]q\t(K")
			b[i] = 10
			return b
		}), Options{}, ErrBadData, []string{"test_batch", `key "labels": item 0 is 10`}},
		{"py other global", edit(pyDir, "data_batch_1", replace("numpy\ndtype\n", "posix\nsystem\n")), Options{}, ErrBadData, []string{`global "posix.system"`}},
		{"py float dtype", edit(pyDir, "data_batch_1", replace("U\x02u1", "U\x02f8")), Options{}, ErrBadData, []string{"dtype('f8')"}},
		{"py wrong shape", edit(pyDir, "data_batch_1", replace("K\x01K\x04M\x00\x0c", "K\x01K\x05M\x00\x0c")), Options{}, ErrBadData, []string{"holds 12288 bytes of data, want 15360"}},
		{"py wrong row size", edit(pyDir, "data_batch_1", replace("K\x01K\x04M\x00\x0c", "K\x01K\x08M\x00\x06")), Options{}, ErrBadData, []string{`key "data": shape [8 1536]`}},
		{"py fortran", edit(pyDir, "data_batch_1", replace("tb\x89T", "tb\x88T")), Options{}, ErrBadData, []string{"is_fortran is True"}},
		{"py bad memo", edit(pyDir, "data_batch_1", replace("U\x04dataq\x02", "U\x04datah\x09")), Options{}, ErrBadData, []string{"memo 9 not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Source, o.Path = SourceCIFAR10, tt.setup(t)
			o.Train, o.Val, o.Test = max(o.Train, 10), max(o.Val, 2), max(o.Test, 3)
			checkLoadErr(t, o, tt.wantErr, tt.want)
		})
	}
}

func TestFindCIFARDir(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, files ...string) string {
		p := filepath.Join(root, dir)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(p, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	mk("both/cifar-10-batches-bin", "data_batch_1.bin")
	mk("both/cifar-10-batches-py", "data_batch_1")
	mk("py-only/cifar-10-batches-py", "data_batch_1")
	mk("bin-only/cifar-10-batches-bin", "data_batch_1.bin")
	tests := []struct {
		path, wantDir string
		wantBinary    bool
	}{
		{"both", "both/cifar-10-batches-bin", true},
		{"py-only", "py-only/cifar-10-batches-py", false},
		{"bin-only", "bin-only/cifar-10-batches-bin", true},
		{"py-only/cifar-10-batches-py", "py-only/cifar-10-batches-py", false},
		{"both/cifar-10-batches-bin", "both/cifar-10-batches-bin", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dir, binary, err := findCIFARDir(filepath.Join(root, tt.path))
			if err != nil || dir != filepath.Join(root, tt.wantDir) || binary != tt.wantBinary {
				t.Errorf("findCIFARDir = %q, %v, %v; want %q, %v", dir, binary, err, tt.wantDir, tt.wantBinary)
			}
		})
	}
	if _, _, err := findCIFARDir(mk("empty")); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty dir: err = %v, want ErrNotFound", err)
	}
}
