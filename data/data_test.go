package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOptionsNormalize(t *testing.T) {
	abs, err := filepath.Abs("testdata/mnist-gz")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name    string
		in      Options
		want    Options
		wantErr string // substring; "" = no error
	}{
		{"cifar10 defaults", Options{Source: "cifar10", Path: "/x/cifar"}, Options{Source: "cifar10", Path: "/x/cifar", Train: 49000, Val: 1000, Test: 1000}, ""},
		{"fashion-mnist default path", Options{Source: "fashion-mnist"}, Options{Source: "fashion-mnist", Path: DefaultFashionMNISTPath, Train: 59000, Val: 1000, Test: 1000}, ""},
		{"mnist relative path", Options{Source: "mnist", Path: "testdata/mnist-gz", Train: 10}, Options{Source: "mnist", Path: abs, Train: 10, Val: 1000, Test: 1000}, ""},
		{"home", Options{Source: "cifar10", Path: "~/c"}, Options{Source: "cifar10", Path: filepath.Join(home, "c"), Train: 49000, Val: 1000, Test: 1000}, ""},
		{"embedded", Options{Source: "embedded", Test: 500}, Options{Source: "embedded", Train: 9000, Val: 1000, Test: 500}, ""},
		{"synthetic", Options{Source: "synthetic", Seed: 3}, Options{Source: "synthetic", Train: 4000, Val: 500, Test: 500, Seed: 3, Classes: 10, Dim: 100}, ""},
		{"unknown source", Options{Source: "cifar100"}, Options{}, `unknown source "cifar100"`},
		{"empty source", Options{}, Options{}, `unknown source ""`},
		{"negative", Options{Source: "embedded", Val: -1}, Options{}, "negative split size"},
		{"cifar10 without path", Options{Source: "cifar10"}, Options{}, "path is required"},
		{"mnist without path", Options{Source: "mnist"}, Options{}, "path is required"},
		{"embedded with path", Options{Source: "embedded", Path: "/x"}, Options{}, "takes no path"},
		{"synthetic with path", Options{Source: "synthetic", Path: "/x"}, Options{}, "takes no path"},
		{"seed on real data", Options{Source: "embedded", Seed: 1}, Options{}, "synthetic data only"},
		{"dim on real data", Options{Source: "cifar10", Path: "/x", Dim: 3}, Options{}, "synthetic data only"},
		{"one class", Options{Source: "synthetic", Classes: 1}, Options{}, "classes >= 2"},
		{"synthetic too large", Options{Source: "synthetic", Train: 1 << 30, Dim: 2}, Options{}, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Normalize()
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadOptions mentioning %q", err, tt.wantErr)
				}
				if _, err := Load(t.Context(), tt.in); !errors.Is(err, ErrBadOptions) {
					t.Errorf("Load: err = %v, want ErrBadOptions", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestLoadSharesOneDataset checks the cache: concurrent and later calls
// with equal options (after normalisation) get the same *Dataset.
func TestLoadSharesOneDataset(t *testing.T) {
	abs, err := filepath.Abs(mnistGzFixture)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Source: SourceMNIST, Path: mnistGzFixture, Train: 9, Val: 2, Test: 3}
	const n = 8
	got := make([]*Dataset, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			oi := o
			if i%2 == 1 {
				oi.Path = abs // the same files, named differently
			}
			ds, err := Load(t.Context(), oi)
			if err != nil {
				t.Error(err)
			}
			got[i] = ds
		})
	}
	wg.Wait()
	for i, ds := range got {
		if ds == nil || ds != got[0] {
			t.Fatalf("call %d got %p, call 0 got %p", i, ds, got[0])
		}
	}
	o.Train = 8
	other, err := Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if other == got[0] || other.Train.N != 8 {
		t.Errorf("different options share a Dataset")
	}
}

// TestLoadRetriesAfterError checks that a failed load is not cached.
func TestLoadRetriesAfterError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	o := Options{Source: SourceMNIST, Path: dir, Train: 9, Val: 2, Test: 3}
	if _, err := Load(t.Context(), o); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if err := os.CopyFS(dir, os.DirFS(mnistRawFixure)); err != nil {
		t.Fatal(err)
	}
	if ds, err := Load(t.Context(), o); err != nil || ds.Train.N != 9 {
		t.Fatalf("after the files appeared: %v", err)
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, o := range []Options{
		{Source: SourceMNIST, Path: mnistGzFixture, Train: 7, Val: 1, Test: 1},
		{Source: SourceCIFAR10, Path: cifarFixture, Train: 7, Val: 1, Test: 1},
		{Source: SourceCIFAR10, Path: filepath.Join(cifarFixture, cifarPythonTarball), Train: 7, Val: 1, Test: 1},
		{Source: SourceSynthetic, Seed: 99},
	} {
		t.Run(o.Source+"/"+filepath.Base(o.Path), func(t *testing.T) {
			if ds, err := Load(ctx, o); !errors.Is(err, context.Canceled) || ds != nil {
				t.Fatalf("Load = %v, %v; want context.Canceled", ds, err)
			}
			// Not cached: a live context loads.
			if _, err := Load(t.Context(), o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSplitRow(t *testing.T) {
	s := Split{X: []float32{1, 2, 3, 4, 5, 6}, Y: []int{0, 1}, N: 2, D: 3}
	r := s.Row(1)
	if len(r) != 3 || cap(r) != 3 || r[0] != 4 || r[2] != 6 {
		t.Errorf("Row(1) = %v (cap %d)", r, cap(r))
	}
}
