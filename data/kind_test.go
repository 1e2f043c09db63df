package data

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrongKind checks the errors for paths that exist but are not what
// the source reads: each says what it found and what it wants, wraps
// ErrBadData (or ErrNotFound for a directory that lacks the files), and
// is the same from Load, Inspect and Fingerprint.
func TestWrongKind(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	zipFile := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("cifar-10-batches-py/data_batch_1")
		w.Write([]byte("x"))
		zw.Close()
		return buf.Bytes()
	}()
	file := func(name string, b []byte) func(*testing.T) string {
		return func(t *testing.T) string { return writeTemp(t, name, b) }
	}
	fixture := func(p string) func(*testing.T) string {
		return func(*testing.T) string { return p }
	}
	// dir makes a directory holding the files of content (nil: a directory).
	dir := func(content map[string][]byte) func(*testing.T) string {
		return func(t *testing.T) string {
			d := t.TempDir()
			for n, b := range content {
				p := filepath.Join(d, n)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if b == nil {
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
				} else if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return d
		}
	}
	// batches returns the six batch files of a fixture folder, with the
	// file named dirName made a directory.
	batches := func(folder, dirName string) map[string][]byte {
		m := map[string][]byte{}
		for _, n := range cifarDirFiles("", strings.HasSuffix(folder, "bin")) {
			m[n] = readFile(t, filepath.Join(cifarFixture, folder, n))
		}
		m[dirName] = nil
		return m
	}
	idxFiles := func(dirName string) map[string][]byte {
		m := map[string][]byte{}
		for _, n := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
			m[n+".gz"] = readFile(t, filepath.Join(mnistGzFixture, n+".gz"))
		}
		m[dirName] = nil
		return m
	}
	pyBatch := readFile(t, filepath.Join(cifarFixture, "cifar-10-batches-py", "data_batch_1"))
	binBatch := readFile(t, filepath.Join(cifarFixture, "cifar-10-batches-bin", "data_batch_1.bin"))
	idxGz := filepath.Join(mnistGzFixture, trainImagesFile+".gz")
	const cifarWants = "; want " + cifarWant
	tests := []struct {
		name    string
		source  string
		path    func(*testing.T) string
		wantErr error
		want    []string // substrings of the message, besides the path
	}{
		{"zip", SourceCIFAR10, file("foo.zip", zipFile), ErrBadData, []string{": a zip archive" + cifarWants}},
		{"IDX gz as cifar10", SourceCIFAR10, fixture(idxGz), ErrBadData, []string{": a gzip-compressed IDX file (12 items of 28x28)" + cifarWants}},
		{"raw IDX as cifar10", SourceCIFAR10, fixture(filepath.Join(mnistRawFixure, testLabelsFile)), ErrBadData, []string{": an IDX file (4 items)" + cifarWants}},
		{"one python batch", SourceCIFAR10, file("data_batch_1", pyBatch), ErrBadData, []string{": a Python pickle (protocol 2)" + cifarWants}},
		{"one binary batch", SourceCIFAR10, file("data_batch_1.bin", binBatch), ErrBadData, []string{": a file of 12292 bytes (the size of 4 CIFAR-10 binary records)" + cifarWants}},
		{"text file", SourceCIFAR10, file("notes.txt", []byte("hello\n")), ErrBadData, []string{": a file of 6 bytes" + cifarWants}},
		{"empty file", SourceCIFAR10, file("cifar-10-python.tar.gz", nil), ErrBadData, []string{": an empty file" + cifarWants}},
		{"HTML page", SourceCIFAR10, file("cifar-10-python.tar.gz", []byte("<!DOCTYPE html>\n<html><body>Not Found</body></html>\n")), ErrBadData, []string{": an HTML page (a failed download?)" + cifarWants}},
		{"gzip of text", SourceCIFAR10, file("cifar-10-python.tar.gz", gz([]byte("hello\n"))), ErrBadData, []string{": a gzip-compressed file" + cifarWants}},
		{"gzip of a pickle", SourceCIFAR10, file("batch.gz", gz(pyBatch)), ErrBadData, []string{": a gzip-compressed Python pickle (protocol 2)" + cifarWants}},
		{"bzip2", SourceCIFAR10, file("cifar-10-python.tar.bz2", []byte("BZh91AY&SY\x00\x00")), ErrBadData, []string{": a bzip2-compressed file" + cifarWants}},
		{"xz", SourceCIFAR10, file("cifar-10-python.tar.xz", []byte("\xfd7zXZ\x00\x00\x04")), ErrBadData, []string{": an xz-compressed file" + cifarWants}},
		{"empty directory named like an archive", SourceCIFAR10, func(t *testing.T) string {
			return filepath.Join(dir(map[string][]byte{"cifar-10-python.tar.gz": nil})(t), "cifar-10-python.tar.gz")
		},
			ErrNotFound, []string{`cifar-10-python.tar.gz": a directory that holds neither data_batch_1.bin nor data_batch_1`}},
		{"directory holding the archive", SourceCIFAR10, dir(map[string][]byte{cifarPythonTarball: readFile(t, filepath.Join(cifarFixture, cifarPythonTarball))}),
			ErrNotFound, []string{"a directory that holds neither", "(it holds cifar-10-python.tar.gz: give that as the path)"}},
		{"batch file is a directory", SourceCIFAR10, dir(batches("cifar-10-batches-bin", "data_batch_3.bin")),
			ErrBadData, []string{`data_batch_3.bin": a directory; want a CIFAR-10 batch file`}},
		{"IDX gz as fashion-mnist", SourceFashionMNIST, fixture(idxGz), ErrBadData, []string{
			": a gzip-compressed IDX file (12 items of 28x28); want a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each raw or .gz), such as this file's,",
		}},
		{"CIFAR archive as mnist", SourceMNIST, fixture(filepath.Join(cifarFixture, cifarBinaryTarball)), ErrBadData, []string{": a gzip-compressed tar archive; want a directory holding train-images-idx3-ubyte"}},
		{"IDX file is a directory", SourceMNIST, dir(idxFiles(testImagesFile + ".gz")), ErrBadData, []string{testImagesFile + `.gz": a directory; want an IDX file`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			o := Options{Source: tt.source, Path: p, Train: 3, Val: 1, Test: 1}
			checkLoadErr(t, o, tt.wantErr, append([]string{p}, tt.want...))
			_, lerr := Load(t.Context(), o)
			_, ierr := Inspect(t.Context(), o)
			_, ferr := Fingerprint(t.Context(), o)
			for _, c := range []struct {
				name string
				err  error
			}{{"Inspect", ierr}, {"Fingerprint", ferr}} {
				if c.err == nil || c.err.Error() != lerr.Error() {
					t.Errorf("%s: err = %v, want Load's", c.name, c.err)
				}
			}
		})
	}
}
