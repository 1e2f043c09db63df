package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxImages reads an uncompressed IDX file the plain way: items of the
// header's size after the header.
func idxImages(t *testing.T, name string) [][]byte {
	b := readFile(t, name)
	nd := int(b[3])
	n := int(binary.BigEndian.Uint32(b[4:]))
	body := b[4+4*nd:]
	size := len(body) / n
	var items [][]byte
	for i := range n {
		items = append(items, body[i*size:(i+1)*size])
	}
	return items
}

func bytesToInts(items [][]byte) []int {
	var ys []int
	for _, it := range items {
		ys = append(ys, int(it[0]))
	}
	return ys
}

func TestIDXGzipAndRawLoadIdentically(t *testing.T) {
	train := idxImages(t, filepath.Join(mnistRawFixure, trainImagesFile))
	test := idxImages(t, filepath.Join(mnistRawFixure, testImagesFile))
	trainY := bytesToInts(idxImages(t, filepath.Join(mnistRawFixure, trainLabelsFile)))
	testY := bytesToInts(idxImages(t, filepath.Join(mnistRawFixure, testLabelsFile)))
	if len(train) != 12 || len(test) != 4 {
		t.Fatalf("fixture has %d+%d images, want 12+4: regenerate with testdata/gen.py", len(train), len(test))
	}
	// The dotted names of some mirrors: train-images.idx3-ubyte.
	dotted := t.TempDir()
	for _, n := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		b := readFile(t, filepath.Join(mnistGzFixture, n+".gz"))
		if err := os.WriteFile(filepath.Join(dotted, strings.Replace(n, "-idx", ".idx", 1)+".gz"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sz := range []struct{ train, val, test int }{{10, 2, 4}, {3, 1, 1}, {12, 0, 4}} {
		want := wantSplits([]int{1, 28, 28}, train, test, trainY, testY, sz.train, sz.val, sz.test)
		for _, c := range []struct{ name, source, path string }{
			{"gz", SourceMNIST, mnistGzFixture},
			{"raw", SourceFashionMNIST, mnistRawFixure},
			{"dotted", SourceMNIST, dotted},
		} {
			t.Run(fmt.Sprintf("%s/train=%d/val=%d/test=%d", c.name, sz.train, sz.val, sz.test), func(t *testing.T) {
				ds := loadExpect(t, Options{Source: c.source, Path: c.path, Train: sz.train, Val: sz.val, Test: sz.test}, want)
				if ds != nil && (ds.Name != c.source || len(ds.Classes) != 10) {
					t.Errorf("Name %q, Classes %v", ds.Name, ds.Classes)
				}
			})
		}
	}
}

func TestIDXBadInput(t *testing.T) {
	type mutate func(t *testing.T, dir string)
	edit := func(file string, f func([]byte) []byte) mutate {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, file)
			if err := os.WriteFile(p, f(readFile(t, p)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(file string) mutate {
		return func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, file)); err != nil {
				t.Fatal(err)
			}
		}
	}
	setByte := func(off int, v byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return b }
	}
	// regzip rewrites a raw fixture file as gzip after f.
	regzip := func(file string, f func([]byte) []byte) mutate {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, file)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(f(readFile(t, p)))
			zw.Close()
			os.Remove(p)
			if err := os.WriteFile(p+".gz", buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	img := int64(28 * 28)
	tests := []struct {
		name    string
		fixture string
		mutate  mutate
		o       Options
		wantErr error
		want    []string
	}{
		{"missing dir", mnistRawFixure, func(t *testing.T, dir string) { os.RemoveAll(dir) }, Options{}, ErrNotFound, []string{"directory"}},
		{"missing file", mnistGzFixture, remove(testLabelsFile + ".gz"), Options{}, ErrNotFound, []string{testLabelsFile}},
		{"wrong magic", mnistRawFixure, edit(trainImagesFile, setByte(3, 1)), Options{}, ErrBadData, []string{trainImagesFile, "offset 0", "magic number 0x00000801, want 0x00000803"}},
		{"wrong type", mnistRawFixure, edit(testLabelsFile, setByte(2, 0x0d)), Options{}, ErrBadData, []string{testLabelsFile, "magic number 0x00000d01"}},
		{"labels given as images", mnistRawFixure, func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, trainLabelsFile), filepath.Join(dir, trainImagesFile))
		}, Options{}, ErrBadData, []string{trainImagesFile, "magic number 0x00000801"}},
		{"zero dimension", mnistRawFixure, edit(trainImagesFile, setByte(11, 0)), Options{}, ErrBadData, []string{trainImagesFile, "offset 8", "dimension 1 is 0"}},
		{"huge dimension", mnistRawFixure, edit(trainImagesFile, setByte(12, 0x7f)), Options{}, ErrBadData, []string{trainImagesFile, "offset 12", "dimension 2"}},
		{"train and test sizes differ", mnistRawFixure, edit(testImagesFile, func(b []byte) []byte { b[11] = 27; return b[:16+4*27*28] }), Options{}, ErrBadData, []string{testImagesFile, "are 27x28"}},
		{"truncated raw", mnistRawFixure, edit(trainImagesFile, func(b []byte) []byte { return b[:len(b)-10] }), Options{}, ErrBadData, []string{trainImagesFile, "truncated", "offset 9414"}},
		{"oversized raw", mnistRawFixure, edit(testImagesFile, func(b []byte) []byte { return append(b, 1, 2) }), Options{}, ErrBadData, []string{testImagesFile, "oversized", "offset 3152"}},
		{"header only", mnistRawFixure, edit(trainLabelsFile, func(b []byte) []byte { return b[:6] }), Options{}, ErrBadData, []string{trainLabelsFile, "offset 4", "truncated"}},
		{"truncated gzip", mnistGzFixture, edit(trainImagesFile+".gz", func(b []byte) []byte { return b[:len(b)/2] }), Options{}, ErrBadData, []string{trainImagesFile + ".gz"}},
		{"corrupt gzip", mnistGzFixture, edit(trainImagesFile+".gz", func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b }), Options{}, ErrBadData, []string{trainImagesFile + ".gz"}},
		{"gzip checksum", mnistGzFixture, edit(testLabelsFile+".gz", func(b []byte) []byte { b[len(b)-5] ^= 1; return b }), Options{}, ErrBadData, []string{testLabelsFile + ".gz", "corrupt gzip"}},
		{"oversized gzip", mnistRawFixure, regzip(testImagesFile, func(b []byte) []byte { return append(b, make([]byte, 784)...) }), Options{}, ErrBadData, []string{testImagesFile + ".gz", "gzip trailer: 3936 bytes uncompressed", "declares 4 items of 784 bytes"}},
		{"truncated gzip content", mnistRawFixure, regzip(trainImagesFile, func(b []byte) []byte { return b[:16+5*img] }), Options{}, ErrBadData, []string{trainImagesFile + ".gz", "gzip trailer: 3936 bytes uncompressed", "declares 12 items"}},
		{"label out of range", mnistRawFixure, edit(trainLabelsFile, setByte(8+3, 10)), Options{}, ErrBadData, []string{trainLabelsFile, "offset 11", "label 10 of image 3"}},
		{"test label out of range", mnistGzFixture, regzipGz(testLabelsFile, setByte(8+2, 200)), Options{}, ErrBadData, []string{testLabelsFile, "offset 10", "label 200 of image 2"}},
		{"fewer labels", mnistRawFixure, edit(trainLabelsFile, func(b []byte) []byte { b[7] = 11; return b[:len(b)-1] }), Options{}, ErrBadData, []string{trainLabelsFile, "11 labels for the 12 images"}},
		{"too many train", mnistRawFixure, nil, Options{Train: 12, Val: 1}, ErrBadOptions, []string{"train 12 + val 2", trainImagesFile, "holds 12"}},
		{"too many test", mnistGzFixture, nil, Options{Test: 5}, ErrBadOptions, []string{"test 5", testImagesFile, "holds 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, tt.fixture)
			if tt.mutate != nil {
				tt.mutate(t, dir)
			}
			o := Options{Source: SourceMNIST, Path: dir, Train: max(tt.o.Train, 8), Val: max(tt.o.Val, 2), Test: max(tt.o.Test, 3)}
			checkLoadErr(t, o, tt.wantErr, tt.want)
		})
	}
}

// TestIDXStreamChecks checks the end-of-data checks of each, which catch
// what checkSize cannot see ahead: files that cannot tell their size, and
// gzip trailers that lie.
func TestIDXStreamChecks(t *testing.T) {
	raw := readFile(t, filepath.Join(mnistRawFixure, testImagesFile)) // 4 images
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name string
		file []byte
		want string // "" = no error
	}{
		{"raw", raw, ""},
		{"gzip", gz(raw), ""},
		{"raw truncated", raw[:len(raw)-1], "offset 3151: truncated"},
		{"raw oversized", append(slices.Clone(raw), 0), "offset 3152: oversized"},
		{"gzip truncated content", gz(raw[:16+784]), "uncompressed offset 800: truncated"},
		{"gzip oversized content", gz(append(slices.Clone(raw), 0)), "uncompressed offset 3152: oversized"},
		{"gzip truncated stream", gz(raw)[:100], "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := openIDX(bytes.NewReader(tt.file), "f", 3)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			err = x.each(t.Context(), 2, func(first int, items []byte) error {
				got = append(got, items...)
				return nil
			})
			if tt.want == "" {
				if err != nil || !bytes.Equal(got, raw[16:16+2*784]) {
					t.Fatalf("err = %v, %d bytes of the first two images", err, len(got))
				}
				return
			}
			if !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadData with %q", err, tt.want)
			}
		})
	}
}

// regzipGz edits the uncompressed content of a gzip fixture file.
func regzipGz(file string, f func([]byte) []byte) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, file+".gz")
		zr, err := gzip.NewReader(bytes.NewReader(readFile(t, p)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(f(b))
		zw.Close()
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// gunzip returns the uncompressed content of a gzip file in fsys or on disk.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEmbeddedSubset checks the embedded default: its checksums (those of
// fashion-mnist-subset/README.md), its split, and, where Debian's package is
// installed, that it is exactly the documented prefix of the real files.
func TestEmbeddedSubset(t *testing.T) {
	sums := map[string]string{ // uncompressed SHA-256, as in the README
		trainImagesFile: "ed2e37ed5a3a57d212141a69fe0a0de5a7126ffba14ac3f7e76f5f52cc04b1f0",
		trainLabelsFile: "a69f2dad024ca220a8c4d85f621fdf929042d40c444abde2868903e9220ad517",
		testImagesFile:  "862035b0a96959b614c9574f4c2b0ae9584ca234813e8d6d7adb7838b12ca46b",
		testLabelsFile:  "aa3f574d30afaf0d4d9da084a6f8541771e20693d6a97fae6e9a4953fca8f078",
	}
	readme := string(readFile(t, "fashion-mnist-subset/README.md"))
	content := map[string][]byte{}
	for name, want := range sums {
		gz, err := embeddedFS.ReadFile(embeddedDir + "/" + name + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		content[name] = gunzip(t, gz)
		h := sha256.Sum256(content[name])
		if got := hex.EncodeToString(h[:]); got != want || !strings.Contains(readme, want) {
			t.Errorf("%s: SHA-256 %s, want %s (also in README.md: %v)", name, got, want, strings.Contains(readme, want))
		}
	}

	ds, err := Load(t.Context(), Options{Source: SourceEmbedded})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 9000 || ds.Val.N != 1000 || ds.Test.N != 2000 || !slices.Equal(ds.Shape, []int{1, 28, 28}) || ds.Classes[9] != "Ankle boot" || ds.Name != "fashion-mnist-subset" {
		t.Errorf("embedded: %d/%d/%d images of shape %v, classes %v, name %q", ds.Train.N, ds.Val.N, ds.Test.N, ds.Shape, ds.Classes, ds.Name)
	}
	if got := ds.Train.Y[:10]; !slices.Equal(got, []int{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}) {
		t.Errorf("first training labels %v", got)
	}
	if got := ds.Test.Y[:10]; !slices.Equal(got, []int{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}) {
		t.Errorf("first test labels %v", got)
	}

	t.Run("prefix of the Debian package", func(t *testing.T) {
		dir := fashionMNISTDir(t)
		for name, n := range map[string]int{trainImagesFile: EmbeddedTrain, trainLabelsFile: EmbeddedTrain, testImagesFile: EmbeddedTest, testLabelsFile: EmbeddedTest} {
			full := gunzip(t, readFile(t, filepath.Join(dir, name+".gz")))
			sub := content[name]
			hdr := 8
			if strings.Contains(name, "images") {
				hdr = 16
			}
			if int(binary.BigEndian.Uint32(sub[4:])) != n || !bytes.Equal(sub[:4], full[:4]) || !bytes.Equal(sub[8:hdr], full[8:hdr]) || !bytes.Equal(sub[hdr:], full[hdr:hdr+len(sub)-hdr]) {
				t.Errorf("%s is not the first %d items of the package's file", name, n)
			}
		}
	})
}

// golden is testdata/fashion-mnist-golden.json, computed with numpy by
// testdata/gen.py from Debian's dataset-fashion-mnist.
type golden struct {
	TrainCount       int       `json:"train_count"`
	TestCount        int       `json:"test_count"`
	TrainLabelsFirst []int     `json:"train_labels_first"`
	ValLabelsFirst   []int     `json:"val_labels_first"`
	TestLabelsFirst  []int     `json:"test_labels_first"`
	Mean59000        []float64 `json:"mean_59000"`
	Std59000         []float64 `json:"std_59000"`
	Test0PixelSum    int       `json:"test0_pixel_sum"`
}

// TestFashionMNISTRealFiles loads the Debian package's files with the
// default options and checks them against values numpy computed.
func TestFashionMNISTRealFiles(t *testing.T) {
	fashionMNISTDir(t)
	var g golden
	if err := json.Unmarshal(readFile(t, "testdata/fashion-mnist-golden.json"), &g); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(t.Context(), Options{Source: SourceFashionMNIST})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N+ds.Val.N != 60000 || g.TrainCount != 60000 || ds.Train.N != 59000 || ds.Test.N != 1000 || g.TestCount != 10000 {
		t.Errorf("counts: train %d val %d test %d; numpy: %d training, %d test images", ds.Train.N, ds.Val.N, ds.Test.N, g.TrainCount, g.TestCount)
	}
	if ds.Path != DefaultFashionMNISTPath || !slices.Equal(ds.Shape, []int{1, 28, 28}) || ds.Train.D != 784 {
		t.Errorf("Path %q, Shape %v, D %d", ds.Path, ds.Shape, ds.Train.D)
	}
	for _, c := range []struct {
		name      string
		got, want []int
	}{{"train", ds.Train.Y[:20], g.TrainLabelsFirst}, {"val", ds.Val.Y[:20], g.ValLabelsFirst}, {"test", ds.Test.Y[:20], g.TestLabelsFirst}} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s labels %v, numpy %v", c.name, c.got, c.want)
		}
	}
	// The mean is exact integer sums over 59000 rows divided once, rounded to
	// float32: it agrees with numpy's float64 mean to float32 precision.
	const meanTol = 1e-6 // relative
	maxErr := 0.0
	for j, m := range g.Mean59000 {
		maxErr = max(maxErr, math.Abs(float64(ds.Mean[j])-m)/max(1, m))
	}
	if len(g.Mean59000) != 784 || maxErr > meanTol {
		t.Errorf("mean image: %d values, max relative error %g > %g", len(g.Mean59000), maxErr, meanTol)
	}
	// The standard deviation, from exact integer sums, agrees with numpy's
	// float64 np.std to float32 precision.
	const stdTol = 1e-6 // relative
	maxErr = 0
	for j, sd := range g.Std59000 {
		maxErr = max(maxErr, math.Abs(float64(ds.Std[j])-sd)/max(1, sd))
	}
	if len(g.Std59000) != 784 || maxErr > stdTol {
		t.Errorf("std image: %d values, max relative error %g > %g", len(g.Std59000), maxErr, stdTol)
	}
	// Test image 0, mean added back, sums to numpy's pixel sum.
	s := 0.0
	for j, x := range ds.Test.Row(0) {
		s += float64(x) + float64(ds.Mean[j])
	}
	if math.Abs(s-float64(g.Test0PixelSum)) > 1e-2 {
		t.Errorf("test image 0 sums to %g, numpy %d", s, g.Test0PixelSum)
	}
}
