package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The committed archives (testdata/gen.py): the two batch folders packed as
// the official cifar-10-python.tar.gz and cifar-10-binary.tar.gz are.
var cifarTarballs = []struct {
	file   string // in cifarFixture
	folder string // the batches folder it was packed from
	gz     bool
}{
	{"cifar-10-python.tar.gz", "cifar-10-batches-py", true},
	{"cifar-10-binary.tar.gz", "cifar-10-batches-bin", true},
	{"cifar-10-python.tar", "cifar-10-batches-py", false},
}

// tarEntry is a member of an archive a test makes.
type tarEntry struct {
	name     string
	data     []byte
	typeflag byte // 0: a regular file
}

// makeTar returns a tar archive of entries, gzip-compressed if gz.
func makeTar(t testing.TB, entries []tarEntry, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg, Format: tar.FormatGNU}
		switch e.typeflag {
		case 0:
		case tar.TypeSymlink:
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, "elsewhere"
		default:
			h.Typeflag, h.Size = e.typeflag, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// folderEntries returns the six batch files of a fixture folder as archive
// members under prefix, in the order of names (all six if nil).
func folderEntries(t *testing.T, folder, prefix string, names ...string) []tarEntry {
	t.Helper()
	binary := strings.HasSuffix(folder, "bin")
	if names == nil {
		names = cifarDirFiles("", binary)
	}
	var es []tarEntry
	for _, n := range names {
		es = append(es, tarEntry{name: path.Join(prefix, n), data: readFile(t, filepath.Join(cifarFixture, folder, n))})
	}
	return es
}

// writeTemp writes b to a new file name in a temporary directory.
func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tarMembers lists the regular members of a tar archive with their bytes.
func tarMembers(t *testing.T, b []byte, gz bool) (names []string, content map[string][]byte) {
	t.Helper()
	if gz {
		b = gunzip(t, b)
	}
	content = map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, content
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if content[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCIFAR10TarballFixtures checks that the committed archives hold
// exactly the fixture folders' batches, under the official top-level
// folder names, in an unsorted order, next to the official other members.
func TestCIFAR10TarballFixtures(t *testing.T) {
	for _, tb := range cifarTarballs {
		t.Run(tb.file, func(t *testing.T) {
			names, content := tarMembers(t, readFile(t, filepath.Join(cifarFixture, tb.file)), tb.gz)
			binary := strings.HasSuffix(tb.folder, "bin")
			want := []string{tb.folder + "/", tb.folder + "/readme.html", tb.folder + "/batches.meta"}
			if binary {
				want[2] += ".txt"
			}
			for _, n := range cifarDirFiles(tb.folder, binary) {
				want = append(want, n)
				if !bytes.Equal(content[n], readFile(t, filepath.Join(cifarFixture, n))) {
					t.Errorf("member %s differs from the fixture file", n)
				}
			}
			if !sameSet(names, want) {
				t.Errorf("members %v, want %v", names, want)
			}
			if slices.IsSorted(names) {
				t.Errorf("members in sorted order: want the official archives' order, to test any order")
			}
		})
	}
	// The plain archive is the python one, uncompressed.
	gz := gunzip(t, readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar.gz")))
	if !bytes.Equal(gz, readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar"))) {
		t.Error("cifar-10-python.tar is not cifar-10-python.tar.gz uncompressed")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCIFAR10TarballLoadsLikeFolder loads each archive, committed or made
// here in other forms (other names, other orders, no folder), and checks
// that it gives bitwise the Dataset of the folder it was packed from.
func TestCIFAR10TarballLoadsLikeFolder(t *testing.T) {
	type archive struct {
		name   string
		folder string
		path   func(t *testing.T) string
	}
	var archives []archive
	for _, tb := range cifarTarballs {
		archives = append(archives, archive{tb.file, tb.folder, func(*testing.T) string { return filepath.Join(cifarFixture, tb.file) }})
	}
	renamed := func(src, name string) func(*testing.T) string {
		return func(t *testing.T) string { return writeTemp(t, name, readFile(t, filepath.Join(cifarFixture, src))) }
	}
	made := func(name, folder, prefix string, gz bool, order ...string) func(*testing.T) string {
		return func(t *testing.T) string {
			return writeTemp(t, name, makeTar(t, folderEntries(t, folder, prefix, order...), gz))
		}
	}
	archives = append(archives,
		archive{"renamed .tgz", "cifar-10-batches-py", renamed("cifar-10-python.tar.gz", "cifar.tgz")},
		archive{"no extension", "cifar-10-batches-bin", renamed("cifar-10-binary.tar.gz", "download")},
		archive{"plain named .gz", "cifar-10-batches-py", renamed("cifar-10-python.tar", "misnamed.tar.gz")},
		archive{"reverse order, no folder", "cifar-10-batches-bin", made("rev.tar", "cifar-10-batches-bin", "", false,
			"test_batch.bin", "data_batch_5.bin", "data_batch_4.bin", "data_batch_3.bin", "data_batch_2.bin", "data_batch_1.bin")},
		archive{"test batch first, nested folder", "cifar-10-batches-py", made("nested.tar.gz", "cifar-10-batches-py", "./data/cifar-10-batches-py", true,
			"test_batch", "data_batch_2", "data_batch_1", "data_batch_5", "data_batch_3", "data_batch_4")},
	)
	for _, sz := range []struct{ train, val, test int }{{15, 3, 6}, {5, 2, 1}, {17, 1, 6}} {
		var wants = map[string]*Dataset{}
		for _, folder := range []string{"cifar-10-batches-py", "cifar-10-batches-bin"} {
			ds, err := load(t.Context(), mustNormalize(t, Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, folder), Train: sz.train, Val: sz.val, Test: sz.test}))
			if err != nil {
				t.Fatal(err)
			}
			wants[folder] = ds
		}
		for _, a := range archives {
			t.Run(fmt.Sprintf("%s/train=%d/val=%d/test=%d", a.name, sz.train, sz.val, sz.test), func(t *testing.T) {
				p := a.path(t)
				abs, err := filepath.Abs(p)
				if err != nil {
					t.Fatal(err)
				}
				o := mustNormalize(t, Options{Source: SourceCIFAR10, Path: p, Train: sz.train, Val: sz.val, Test: sz.test})
				ds, err := load(t.Context(), o)
				if err != nil {
					t.Fatal(err)
				}
				sameData(t, ds, wants[a.folder], 0)
				if ds.Path != abs || ds.Name != SourceCIFAR10 || !slices.Equal(ds.Classes, cifarClasses) {
					t.Errorf("Path %q (want %q), Name %q, Classes %v", ds.Path, abs, ds.Name, ds.Classes)
				}
			})
		}
	}
}

// TestCIFAR10TarballBadInput checks the errors of archives that are
// broken, incomplete or of something else: each names the archive and,
// where there is one, the member.
func TestCIFAR10TarballBadInput(t *testing.T) {
	pyGz := readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar.gz"))
	pyTar := readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar"))
	binGz := readFile(t, filepath.Join(cifarFixture, "cifar-10-binary.tar.gz"))
	py := func(names ...string) []tarEntry {
		return folderEntries(t, "cifar-10-batches-py", "cifar-10-batches-py", names...)
	}
	bin := func(names ...string) []tarEntry {
		return folderEntries(t, "cifar-10-batches-bin", "cifar-10-batches-bin", names...)
	}
	withoutBatch := func(es []tarEntry, base string) []tarEntry {
		return slices.DeleteFunc(es, func(e tarEntry) bool { return path.Base(e.name) == base })
	}
	editBatch := func(es []tarEntry, base string, f func([]byte) []byte) []tarEntry {
		for i := range es {
			if path.Base(es[i].name) == base {
				es[i].data = f(slices.Clone(es[i].data))
			}
		}
		return es
	}
	var idx []tarEntry
	for _, n := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		idx = append(idx, tarEntry{name: "mnist/" + n + ".gz", data: readFile(t, filepath.Join(mnistGzFixture, n+".gz"))})
	}
	// The offset of test_batch's bytes in the plain archive (members
	// data_batch_4, readme.html, then test_batch; a 512-byte header each).
	testBatchAt := bytes.Index(pyTar, readFile(t, filepath.Join(cifarFixture, "cifar-10-batches-py", "test_batch")))
	if testBatchAt < 0 {
		t.Fatal("test_batch not found in cifar-10-python.tar")
	}
	tests := []struct {
		name    string
		archive []byte
		o       Options
		wantErr error
		want    []string // substrings of the message, besides the archive's name
	}{
		{"truncated gzip", pyGz[:len(pyGz)/2], Options{}, ErrBadData, []string{"truncated", "cifar-10-batches-py/"}},
		{"truncated in a member", pyTar[:testBatchAt+1000], Options{}, ErrBadData, []string{"truncated", `in member "cifar-10-batches-py/test_batch"`}},
		{"truncated in a header", pyTar[:testBatchAt-200], Options{}, ErrBadData, []string{"truncated", `"cifar-10-batches-py/readme.html" or the header after it`}},
		{"gzip trailer cut", binGz[:len(binGz)-4], Options{}, ErrBadData, []string{"truncated", "after its last member"}},
		{"corrupt gzip", func() []byte { b := slices.Clone(pyGz); b[20] ^= 0x55; return b }(), Options{}, ErrBadData, []string{"a corrupt gzip-compressed file (flate: corrupt input"}},
		{"corrupt gzip, stored block", func() []byte { b := slices.Clone(pyGz); b[len(b)/2] ^= 0x55; return b }(), Options{}, ErrBadData, []string{"corrupt gzip stream (found after its last member): gzip: invalid checksum"}},
		{"gzip checksum", func() []byte { b := slices.Clone(binGz); b[len(b)-6] ^= 1; return b }(), Options{}, ErrBadData, []string{"corrupt gzip stream", "after its last member"}},
		{"bad tar header", func() []byte { b := slices.Clone(pyTar); b[148] ^= 1; return b }(), Options{}, ErrBadData, []string{"bad tar header", "before its first member"}},
		{"missing test_batch", makeTar(t, withoutBatch(py(), "test_batch"), true), Options{}, ErrNotFound, []string{"no member cifar-10-batches-py/test_batch, next to its cifar-10-batches-py/data_batch_1"}},
		{"missing data_batch_3.bin", makeTar(t, withoutBatch(bin(), "data_batch_3.bin"), false), Options{}, ErrNotFound, []string{"no member cifar-10-batches-bin/data_batch_3.bin"}},
		{"IDX files", makeTar(t, idx, true), Options{}, ErrNotFound, []string{"(4 members, mnist/train-images-idx3-ubyte.gz,", "holds no CIFAR-10 batch", "cifar-10-batches-py/data_batch_1"}},
		{"empty archive", makeTar(t, nil, false), Options{}, ErrNotFound, []string{"(0 members)", "holds no CIFAR-10 batch"}},
		{"both formats", makeTar(t, append(py(), bin()...), true), Options{}, ErrBadData, []string{"both formats", `"cifar-10-batches-py/data_batch_1" and "cifar-10-batches-bin/data_batch_1.bin"`}},
		{"batch twice", makeTar(t, append(py(), folderEntries(t, "cifar-10-batches-py", "backup", "data_batch_2")...), true), Options{}, ErrBadData, []string{"data_batch_2 twice", `"cifar-10-batches-py/data_batch_2" and "backup/data_batch_2"`}},
		{"batch is a symlink", makeTar(t, append(withoutBatch(bin(), "test_batch.bin"), tarEntry{name: "cifar-10-batches-bin/test_batch.bin", typeflag: tar.TypeSymlink}), false), Options{}, ErrBadData, []string{":cifar-10-batches-bin/test_batch.bin", "a symbolic link; want a CIFAR-10 batch file"}},
		{"batch is a directory", makeTar(t, append(withoutBatch(py(), "data_batch_5"), tarEntry{name: "cifar-10-batches-py/data_batch_5/", typeflag: tar.TypeDir}), false), Options{}, ErrBadData, []string{":cifar-10-batches-py/data_batch_5/", "a directory; want a CIFAR-10 batch file"}},
		{"binary batch truncated", makeTar(t, editBatch(bin(), "data_batch_2.bin", func(b []byte) []byte { return b[:len(b)-100] }), true), Options{}, ErrBadData, []string{":cifar-10-batches-bin/data_batch_2.bin", "offset 6146", "truncated"}},
		{"binary batch oversized", makeTar(t, editBatch(bin(), "data_batch_2.bin", func([]byte) []byte { return make([]byte, cifarBatchMax*cifarRecord+cifarRecord) }), true), Options{}, ErrBadData, []string{":cifar-10-batches-bin/data_batch_2.bin", "oversized: 30733073 bytes"}},
		{"binary label out of range", makeTar(t, editBatch(bin(), "data_batch_1.bin", func(b []byte) []byte { b[cifarRecord] = 10; return b }), false), Options{}, ErrBadData, []string{":cifar-10-batches-bin/data_batch_1.bin", "offset 3073", "label 10 of record 1"}},
		{"not a pickle", makeTar(t, editBatch(py(), "data_batch_3", func([]byte) []byte { return []byte("(dp0\n.") }), true), Options{}, ErrBadData, []string{":cifar-10-batches-py/data_batch_3", "offset 0", "PROTO 2"}},
		{"pickle truncated", makeTar(t, editBatch(py(), "test_batch", func(b []byte) []byte { return b[:len(b)/2] }), true), Options{}, ErrBadData, []string{":cifar-10-batches-py/test_batch", "truncated"}},
		{"too many train", pyGz, Options{Train: 16, Val: 3}, ErrBadOptions, []string{"train 16 + val 3", "hold 18"}},
		{"too many test", binGz, Options{Test: 7}, ErrBadOptions, []string{":cifar-10-batches-bin/test_batch.bin", "holds 6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "c.tar.gz", tt.archive)
			o := Options{Source: SourceCIFAR10, Path: p, Train: max(tt.o.Train, 10), Val: max(tt.o.Val, 2), Test: max(tt.o.Test, 3)}
			checkLoadErr(t, o, tt.wantErr, append([]string{p}, tt.want...))
		})
	}
}

// cancelAfter is a reader that cancels a context once n bytes have been
// read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// TestCIFAR10TarballCanceled checks that reading an archive stops with
// the context's error when it is done part-way through, whether it is then
// reading a member or skipping one.
func TestCIFAR10TarballCanceled(t *testing.T) {
	pyTar := readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar"))
	for _, at := range []int{1, 600, 10000, len(pyTar) / 2, len(pyTar) - 20000} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("at=%d/gz=%v", at, gz), func(t *testing.T) {
				b := pyTar
				if gz {
					b = readFile(t, filepath.Join(cifarFixture, "cifar-10-python.tar.gz"))
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				r := &cancelAfter{r: bytes.NewReader(b), n: min(at, len(b)-1), cancel: cancel}
				if _, err := readCIFARTar(ctx, io.Reader(r), "c.tar", gz); !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
			})
		}
	}
}

// TestReadMember checks that a member is read whole, and that a header
// claiming more than the archive holds is found short without allocating
// what it claims.
func TestReadMember(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 4<<20) // 40 MiB: grows 8 MiB -> 32 MiB -> 40 MiB
	for _, n := range []int{0, 1, 1000, 8 << 20, 8<<20 + 1, 32<<20 + 1, len(data)} {
		got, err := readMember(t.Context(), bytes.NewReader(data), int64(n))
		if err != nil || !bytes.Equal(got, data[:n]) || cap(got) != n && n > 8<<20 {
			t.Fatalf("readMember of %d bytes: %v, %d bytes (cap %d)", n, err, len(got), cap(got))
		}
	}
	claim := cifarMaxSize(false)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := readMember(t.Context(), bytes.NewReader(data[:1000]), claim); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 9<<20 {
		t.Errorf("reading 1000 bytes of a member that claims %d allocated %d bytes", claim, n)
	}
}
