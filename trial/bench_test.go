package trial

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
)

// BenchmarkCourseworkGrid runs the coursework's grid (sweeps/coursework-grid-
// fashion-mnist.toml: 24 trials of 1000 iterations on full Fashion-MNIST)
// with the pool and its 2 workers, into a new database each time: training,
// evaluation, checkpoints and records; data loading excluded, as in
// grid_numpy.py. It reports the best validation accuracy too. Fused: the
// trials in groups as sweep run makes them (two of 12, one per worker);
// unfused: fuse = false, each trial on its own.
func BenchmarkCourseworkGrid(b *testing.B) {
	spec, err := search.ParseFile("../sweeps/coursework-grid-fashion-mnist.toml")
	if err != nil {
		b.Fatal(err)
	}
	ds, err := data.Load(b.Context(), data.Options{Source: spec.Data.Source, Path: spec.Data.Path,
		Train: spec.Data.Train, Val: spec.Data.Val, Test: spec.Data.Test})
	if err != nil {
		b.Fatalf("%v (Debian: apt-get install dataset-fashion-mnist)", err)
	}
	for _, mode := range []string{"fused", "unfused"} {
		b.Run(mode, func(b *testing.B) {
			recs, err := Records(spec)
			if err != nil {
				b.Fatal(err)
			}
			if mode == "fused" {
				if err := Groups(spec, recs, nil); err != nil {
					b.Fatal(err)
				}
			}
			var best float64
			for b.Loop() {
				dir := b.TempDir()
				st, err := boltstore.Open(filepath.Join(dir, "grid.db"), boltstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				sw := results.Sweep{Name: spec.Name, Spec: []byte("-"), Canonical: spec.Canonical(), Metric: spec.Search.Metric, Keep: spec.Search.Keep}
				if _, err := st.EnsureSweep(b.Context(), sw, recs); err != nil {
					b.Fatal(err)
				}
				p := &Pool{Store: st, Sweep: spec.Name, Data: ds, Workers: spec.Workers, Owner: Self()}
				if _, err := p.Run(b.Context()); err != nil {
					b.Fatal(err)
				}
				bst, _, err := SelectBest(b.Context(), st, spec.Name, ds)
				if err != nil {
					b.Fatal(err)
				}
				best = bst.ValAcc
				st.Close()
				os.RemoveAll(dir)
			}
			b.ReportMetric(best, "best_val_acc")
		})
	}
}
