package trial

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

func TestGroupsOfTestSpec(t *testing.T) {
	f := newFusedFixture(t, withSearchKey(testSpec, "group_size = 3"))
	var got []int
	for _, tr := range f.trials(t) {
		got = append(got, tr.Group)
	}
	if want := []int{1, 1, 1, 2, 2, 2}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// TestGroupsWidths: trials whose first hidden layer is wider than
// MaxFusedWidth train on their own; the others are grouped by stream, in
// order.
func TestGroupsWidths(t *testing.T) {
	src := `
name = "widths"
[data]
source = "synthetic"
[train]
iterations = 10
[search]
method = "grid"
group_size = 2
[search.params]
hidden = [[50], [512], [256, 512], [20]]
batch_size = [100, 200]
`
	spec, err := search.Parse("widths.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := Records(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := Groups(spec, recs, nil); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range recs {
		got = append(got, r.Group)
	}
	// Trials: (50,100) (50,200) (512,100) (512,200) ([256,512],100)
	// ([256,512],200) (20,100) (20,200); 3 and 4 on their own; streams by
	// batch size: 100 → trials 1, 5, 7 (groups of 2 and 1: 7 alone); 200
	// → 2, 6, 8 (8 alone).
	if want := []int{1, 2, 0, 0, 1, 2, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// withSearchKey adds a key to the [search] table of src.
func withSearchKey(src, kv string) string {
	i := len("[search]\n")
	for j := range len(src) - i {
		if src[j:j+i] == "[search]\n" {
			return src[:j+i] + kv + "\n" + src[j+i:]
		}
	}
	panic("no [search] table")
}

// TestPoolGroupsReproducible: fused groups give the same results with any
// number of workers and after an interruption; each group's diverging
// member leaves it and the others finish.
func TestPoolGroupsReproducible(t *testing.T) {
	src := withSearchKey(testSpec, "group_size = 3")
	one := newFusedFixture(t, src)
	stats, err := one.pool(1).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Trained != 6 || stats.Done != 4 || stats.Diverged != 2 {
		t.Errorf("stats %+v, want 6 trained: 4 done, 2 diverged", stats)
	}
	want := one.outcomes(t)
	for _, tr := range one.trials(t) {
		if tr.Attempts != 1 {
			t.Errorf("trial %d trained in %d attempts", tr.Number, tr.Attempts)
		}
	}

	three := newFusedFixture(t, src)
	if _, err := three.pool(3).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "3 workers", want, three.outcomes(t))

	// Interrupted mid-way: the group still training is checkpointed
	// together, all its members at one iteration, then resumed.
	inter := newFusedFixture(t, src)
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	p := inter.pool(1)
	p.Events = func(e Event) {
		if e.Kind == EpochDone && e.Epoch.Epoch == 2 {
			once.Do(cancel)
		}
	}
	stats, err = p.Run(ctx)
	if !errors.Is(err, context.Canceled) || stats.Interrupted == 0 || stats.Checkpointed != stats.Interrupted {
		t.Fatalf("interrupted run: %+v, %v", stats, err)
	}
	its := map[int]bool{}
	for _, tr := range inter.trials(t) {
		if tr.Status == results.Interrupted {
			its[tr.Iteration] = true
		}
	}
	if len(its) != 1 {
		t.Errorf("interrupted members checkpointed at iterations %v, want one", its)
	}
	if _, err := inter.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "interrupted and resumed", want, inter.outcomes(t))
}

// TestPoolGroupCheckpointsTogether: a group's members are checkpointed in
// one write per epoch, never one by one; a write that fails for good stops
// the group, its members are released to resume from the last group
// checkpoint, and the sweep ends as it would have.
func TestPoolGroupCheckpointsTogether(t *testing.T) {
	src := withSearchKey(testSpec, "group_size = 3")
	ref := newFusedFixture(t, src)
	if _, err := ref.pool(1).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := ref.outcomes(t)

	f := newFusedFixture(t, src)
	fs := &faultyStore{inner: f.store, fail: func(c call) error {
		if c.op == "checkpoints" && c.n == 1 {
			return errDiskFull
		}
		return nil
	}}
	p := f.pool(1)
	p.Store = fs
	_, err := p.Run(t.Context())
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("run: %v, want the disk-full error", err)
	}
	if n := len(fs.made("checkpoint", 0)); n != 0 {
		t.Errorf("%d checkpoints written one by one", n)
	}
	for _, c := range fs.made("checkpoints", 0) {
		if len(c.trials) < 1 || len(c.trials) > 3 {
			t.Errorf("a group checkpoint names trials %v", c.trials)
		}
	}
	for _, tr := range f.trials(t) {
		if tr.Status == results.Running {
			t.Errorf("trial %d left running", tr.Number)
		}
	}
	if _, err := f.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertSameOutcomes(t, "after a failed group checkpoint", want, f.outcomes(t))
}
