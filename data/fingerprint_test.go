package data

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFingerprint checks that the fingerprint follows the files' names,
// sizes and the bytes at their ends, not their place or the split sizes.
func TestFingerprint(t *testing.T) {
	// A binary CIFAR-10 folder whose data_batch_1.bin (100 records, 300 kB)
	// is larger than the two ends Fingerprint reads.
	base := copyDir(t, filepath.Join(cifarFixture, "cifar-10-batches-bin"))
	big, _, _ := cifarRecords(100, 1)
	if err := os.WriteFile(filepath.Join(base, "data_batch_1.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Source: SourceCIFAR10, Path: base, Train: 3, Val: 1, Test: 1}
	want := mustFingerprint(t, o)
	if !regexp.MustCompile(`^v1:[0-9a-f]{32}$`).MatchString(want) {
		t.Fatalf("fingerprint %q, want v1: and 32 hex digits", want)
	}
	// edit returns a copy of base with file changed by f.
	edit := func(file string, f func([]byte) []byte) func(t *testing.T) string {
		return func(t *testing.T) string {
			d := copyDir(t, base)
			p := filepath.Join(d, file)
			if err := os.WriteFile(p, f(readFile(t, p)), 0o644); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	flip := func(off func(n int) int) func([]byte) []byte {
		return func(b []byte) []byte { b[off(len(b))] ^= 1; return b }
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		o    Options // changes to o
		same bool
	}{
		{"same", func(*testing.T) string { return base }, Options{}, true},
		{"copy elsewhere", edit("test_batch.bin", func(b []byte) []byte { return b }), Options{}, true},
		{"other split sizes", func(*testing.T) string { return base }, Options{Train: 10, Val: 5, Test: 6}, true},
		{"through the parent folder", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
			if err := os.CopyFS(p, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			return filepath.Dir(p)
		}, Options{}, true},
		{"first byte", edit("data_batch_1.bin", flip(func(int) int { return 0 })), Options{}, false},
		{"last byte", edit("data_batch_1.bin", flip(func(n int) int { return n - 1 })), Options{}, false},
		{"byte 64 KiB from the end", edit("data_batch_1.bin", flip(func(n int) int { return n - 64<<10 })), Options{}, false},
		{"middle byte of a large file (unseen)", edit("data_batch_1.bin", flip(func(n int) int { return n / 2 })), Options{}, true},
		{"middle byte of a small file", edit("test_batch.bin", flip(func(n int) int { return n / 2 })), Options{}, false},
		{"truncated by a record", edit("data_batch_1.bin", func(b []byte) []byte { return b[:len(b)-cifarRecord] }), Options{}, false},
		{"truncated small file", edit("data_batch_4.bin", func(b []byte) []byte { return b[:len(b)-cifarRecord] }), Options{}, false},
		{"renamed", func(t *testing.T) string {
			d := copyDir(t, base)
			// Swap two batches: same contents, other names.
			a, b := filepath.Join(d, "data_batch_2.bin"), filepath.Join(d, "data_batch_3.bin")
			ab, bb := readFile(t, a), readFile(t, b)
			os.WriteFile(a, bb, 0o644)
			os.WriteFile(b, ab, 0o644)
			return d
		}, Options{}, false},
		{"archive of the same files", func(t *testing.T) string {
			return writeTemp(t, "c.tar", makeTar(t, folderEntries(t, "cifar-10-batches-bin", "cifar-10-batches-bin"), false))
		}, Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o2 := o
			o2.Path = tt.path(t)
			if tt.o.Train != 0 {
				o2.Train, o2.Val, o2.Test = tt.o.Train, tt.o.Val, tt.o.Test
			}
			if got := mustFingerprint(t, o2); (got == want) != tt.same {
				t.Errorf("fingerprint %s, base %s: want same = %v", got, want, tt.same)
			}
		})
	}
}

// TestFingerprintSources checks the fingerprint of each source: golden
// values for the committed fixtures and the embedded data (the scheme and
// the fixtures are stable), and what changes it.
func TestFingerprintSources(t *testing.T) {
	golden := []struct {
		o    Options
		want string
	}{
		{Options{Source: SourceMNIST, Path: mnistGzFixture}, "v1:165eb814536eef073930b7be2baf5a59"},
		{Options{Source: SourceFashionMNIST, Path: mnistGzFixture}, "v1:466c86b3537742106aa41aa69e70a1f2"},
		{Options{Source: SourceMNIST, Path: mnistRawFixure}, "v1:88eb6bfc67f05ad016365515e7209916"},
		{Options{Source: SourceCIFAR10, Path: cifarFixture}, "v1:0de61291d105ac4097c4ebb8ac58de38"},
		{Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, "cifar-10-batches-py")}, "v1:1aae2493cf4733f9f79a38e819d814d8"},
		{Options{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, cifarPythonTarball)}, "v1:3cc99d8f4d33aa0e1d1d13ea0b229695"},
		{Options{Source: SourceEmbedded}, "v1:5a39e50b614f813f175dba001b57a921"},
		{Options{Source: SourceSynthetic, Seed: 1}, "v1:b2d97b1f9e587280c007205f7ba38994"},
	}
	seen := map[string]Options{}
	for _, g := range golden {
		got := mustFingerprint(t, g.o)
		if got != g.want {
			t.Errorf("%+v: fingerprint %s, want %s", g.o, got, g.want)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%+v and %+v have the same fingerprint", g.o, prev)
		}
		seen[got] = g.o
	}
	// The same data elsewhere; synthetic data's parameters.
	same := []struct {
		name string
		a, b Options
		same bool
	}{
		{"IDX copied", Options{Source: SourceMNIST, Path: mnistGzFixture}, Options{Source: SourceMNIST, Path: copyDir(t, mnistGzFixture)}, true},
		{"embedded twice", Options{Source: SourceEmbedded}, Options{Source: SourceEmbedded, Train: 10}, true},
		{"synthetic split", Options{Source: SourceSynthetic, Seed: 1}, Options{Source: SourceSynthetic, Seed: 1, Train: 10, Val: 2, Test: 3}, true},
		{"synthetic seed", Options{Source: SourceSynthetic, Seed: 1}, Options{Source: SourceSynthetic, Seed: 2}, false},
		{"synthetic dim", Options{Source: SourceSynthetic, Seed: 1}, Options{Source: SourceSynthetic, Seed: 1, Dim: 99}, false},
		{"synthetic classes", Options{Source: SourceSynthetic, Seed: 1}, Options{Source: SourceSynthetic, Seed: 1, Classes: 9}, false},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := mustFingerprint(t, tt.a), mustFingerprint(t, tt.b); (a == b) != tt.same {
				t.Errorf("fingerprints %s and %s: want same = %v", a, b, tt.same)
			}
		})
	}
}

func mustFingerprint(t *testing.T, o Options) string {
	t.Helper()
	fp, err := Fingerprint(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestFingerprintReadsEnds checks that a file is read only at its ends,
// 128 KiB in all, however large it is.
func TestFingerprintReadsEnds(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 64 << 10, 128<<10 + 1, 10 << 20} {
		name := strings.Repeat("x", 1+size%7)
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		var n atomic.Int64
		got, _, err := edgeDigest(countingFS{os.DirFS(dir), &n}, name)
		if err != nil || got != int64(size) {
			t.Fatalf("size %d: edgeDigest = %d, %v", size, got, err)
		}
		if want := min(int64(size), 2*fingerprintEdge); n.Load() != want {
			t.Errorf("size %d: read %d bytes, want %d", size, n.Load(), want)
		}
	}
}

func TestFingerprintErrors(t *testing.T) {
	dir := copyDir(t, mnistRawFixure)
	if err := os.Remove(filepath.Join(dir, testLabelsFile)); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{Source: SourceMNIST, Path: dir},
		{Source: SourceCIFAR10, Path: filepath.Join(dir, "nope")},
		{Source: SourceCIFAR10, Path: t.TempDir()},
	} {
		_, ferr := Fingerprint(t.Context(), o)
		_, lerr := Load(t.Context(), o)
		if !errors.Is(ferr, ErrNotFound) || ferr.Error() != lerr.Error() {
			t.Errorf("Fingerprint: %v\nLoad:        %v", ferr, lerr)
		}
	}
	if _, err := Fingerprint(t.Context(), Options{Source: "cifar100"}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("unknown source: err = %v, want ErrBadOptions", err)
	}
}

func TestCheckFingerprint(t *testing.T) {
	o := Options{Source: SourceMNIST, Path: mnistGzFixture}
	fp := mustFingerprint(t, o)
	moved := Options{Source: SourceMNIST, Path: copyDir(t, mnistGzFixture)}
	if err := CheckFingerprint(t.Context(), moved, fp); err != nil {
		t.Errorf("the same files moved: %v", err)
	}
	other := Options{Source: SourceMNIST, Path: mnistRawFixure}
	err := CheckFingerprint(t.Context(), other, fp)
	if !errors.Is(err, ErrMismatch) || !errors.Is(err, ErrBadData) || errors.Is(err, ErrNotFound) {
		t.Fatalf("other files: err = %v, want ErrMismatch and ErrBadData", err)
	}
	abs, _ := filepath.Abs(mnistRawFixure)
	for _, w := range []string{abs, fp, mustFingerprint(t, other)} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if err := CheckFingerprint(t.Context(), Options{Source: SourceMNIST, Path: filepath.Join(t.TempDir(), "x")}, fp); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing directory: err = %v, want ErrNotFound", err)
	}
}

func BenchmarkFingerprint(b *testing.B) {
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"source=fashion-mnist", Options{Source: SourceFashionMNIST, Path: fashionMNISTDir(b)}},
		{"source=embedded", Options{Source: SourceEmbedded}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fingerprint(b.Context(), c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
