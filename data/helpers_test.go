package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const (
	cifarFixture   = "testdata/cifar10"
	mnistGzFixture = "testdata/mnist-gz"
	mnistRawFixure = "testdata/mnist-raw"
)

// fashionMNISTDir returns the Debian package's Fashion-MNIST directory, or
// skips the test where it is not installed. CI installs it (.ci/run), so
// under CI a missing package fails the test instead.
func fashionMNISTDir(tb testing.TB) string {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTPath, trainImagesFile+".gz")); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI must install dataset-fashion-mnist: %v", err)
		}
		tb.Skipf("dataset-fashion-mnist not installed: %v", err)
	}
	return DefaultFashionMNISTPath
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// py2Batch writes a CIFAR-10 batch as Python 2's cPickle.dump(d, f, 2) does,
// like testdata/gen.py (which Python checks), for sizes the committed
// fixtures are too small to reach: BININT2 shapes, LONG_BINPUT memo
// indices, labels in several APPENDS batches of 1000.
func py2Batch(pixels []byte, labels []byte) []byte {
	var b bytes.Buffer
	memo := 0
	put := func() {
		memo++
		if memo < 256 {
			b.Write([]byte{'q', byte(memo)})
		} else {
			b.WriteByte('r')
			binary.Write(&b, binary.LittleEndian, uint32(memo))
		}
	}
	str := func(s string, m bool) {
		if len(s) < 256 {
			b.Write([]byte{'U', byte(len(s))})
		} else {
			b.WriteByte('T')
			binary.Write(&b, binary.LittleEndian, int32(len(s)))
		}
		b.WriteString(s)
		if m {
			put()
		}
	}
	integer := func(v int) {
		switch {
		case v >= 0 && v < 256:
			b.Write([]byte{'K', byte(v)})
		case v >= 0 && v < 65536:
			b.WriteByte('M')
			binary.Write(&b, binary.LittleEndian, uint16(v))
		default:
			b.WriteByte('J')
			binary.Write(&b, binary.LittleEndian, int32(v))
		}
	}
	batches := func(n int, one func(i int)) {
		for i := 0; i < n; i += 1000 {
			k := min(1000, n-i)
			if k == 1 {
				one(i)
				b.WriteByte('a')
				continue
			}
			b.WriteByte('(')
			for j := i; j < i+k; j++ {
				one(j)
			}
			b.WriteByte('e')
		}
	}
	n := len(labels)
	b.WriteString("\x80\x02}")
	put()
	b.WriteByte('(')
	str("data", true)
	b.WriteString("cnumpy.core.multiarray\n_reconstruct\n")
	put()
	b.WriteString("cnumpy\nndarray\n")
	put()
	integer(0)
	b.WriteByte(0x85)
	str("b", false)
	b.WriteString("\x87R")
	put()
	b.WriteByte('(')
	integer(1)
	integer(n)
	integer(cifarPixels)
	b.WriteByte(0x86)
	b.WriteString("cnumpy\ndtype\n")
	put()
	str("u1", false)
	integer(0)
	integer(1)
	b.WriteString("\x87R")
	put()
	b.WriteByte('(')
	integer(3)
	str("|", false)
	b.WriteString("NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff")
	integer(0)
	b.WriteString("tb\x89")
	str(string(pixels), false)
	b.WriteString("tb")
	str("labels", true)
	b.WriteByte(']')
	put()
	batches(n, func(i int) { integer(int(labels[i])) })
	str("batch_label", true)
	str("training batch 1 of 5", true)
	str("filenames", true)
	b.WriteByte(']')
	put()
	batches(n, func(i int) { str(fmt.Sprintf("img_%05d.png", i), true) })
	b.WriteString("u.")
	return b.Bytes()
}

// cifarRecords returns n binary-format records and their pixels and labels,
// filled from a simple deterministic pattern.
func cifarRecords(n, seed int) (bin, pixels, labels []byte) {
	bin = make([]byte, 0, n*cifarRecord)
	for i := range n {
		y := byte((i*7 + seed) % 10)
		labels = append(labels, y)
		bin = append(bin, y)
		for j := range cifarPixels {
			p := byte((i*31 + j*17 + seed*13) % 251)
			pixels = append(pixels, p)
			bin = append(bin, p)
		}
	}
	return bin, pixels, labels
}

// checkLoadErr loads o and checks that it fails with wantErr and a message
// that mentions every string of want.
func checkLoadErr(t *testing.T, o Options, wantErr error, want []string) {
	t.Helper()
	ds, err := Load(t.Context(), o)
	if !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	t.Log(err)
	if ds != nil {
		t.Errorf("got a Dataset with the error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	// Inspect finds every missing file and split that does not fit, and
	// of bad bytes those its headers show, with the same class of error.
	_, ierr := Inspect(t.Context(), o)
	switch {
	case ierr == nil && wantErr != ErrBadData:
		t.Errorf("Inspect: no error, want %v", wantErr)
	case ierr != nil && !errors.Is(ierr, wantErr):
		t.Errorf("Inspect: err = %v, want %v", ierr, wantErr)
	}
}

// countingFS is a file system that counts the bytes read from its files.
type countingFS struct {
	fsys fs.FS
	n    *atomic.Int64
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c.n}, nil
}

type countingFile struct {
	fs.File
	n *atomic.Int64
}

func (f countingFile) Read(p []byte) (int, error) {
	k, err := f.File.Read(p)
	f.n.Add(int64(k))
	return k, err
}

func (f countingFile) ReadAt(p []byte, off int64) (int, error) {
	k, err := f.File.(io.ReaderAt).ReadAt(p, off)
	f.n.Add(int64(k))
	return k, err
}
