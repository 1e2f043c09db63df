package pgstore

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// groupedGrid returns grid(len(labels)) with the given Group labels.
func groupedGrid(labels ...int) []results.Trial {
	ts := grid(len(labels))
	for i, l := range labels {
		ts[i].Group = l
	}
	return ts
}

// TestMigrateFromV2 builds a database of schema version 2 (its
// migrations alone) whose records carry groups, as a hand-made row
// would, and some that do not, and opens it: the schema is raised to the
// current version, the grp column filled from the records, and the groups
// claim and extend as the store's own.
func TestMigrateFromV2(t *testing.T) {
	dsn := newDB(t)
	c := conn(t, dsn)
	ctx := t.Context()
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, tx, 0, 2); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	sw := results.Sweep{Name: "old", Metric: "val_acc", Keep: 3, Created: created}
	rec, err := json.Marshal(&sw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sweep_sweeps (name, record, spec, canonical, metric, keep) VALUES ($1, $2, '', '', $3, $4)`,
		sw.Name, rec, sw.Metric, sw.Keep); err != nil {
		t.Fatal(err)
	}
	// A config with a "group" key of its own does not count.
	groups := []int{0, 2, 2, 0}
	for i, in := range grid(len(groups)) {
		tr := results.Trial{Number: i + 1, Key: in.Key, Params: in.Params, Config: json.RawMessage(`{"group":9}`), Status: results.Pending, Created: created, Group: groups[i]}
		insertTrialRow(t, tx, sw.Name, &tr)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	s := openDSN(t, dsn)
	checkSchemaVersion(t, c)
	var grps []int
	if err := c.QueryRow(ctx, `SELECT array_agg(grp ORDER BY number) FROM sweep_trials`).Scan(&grps); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(grps, groups) {
		t.Fatalf("grp column %v after the migration, want %v", grps, groups)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	gc, err := s.ClaimGroup(ctx, "old", owner("a"), time.Now(), nil)
	if err != nil || gc.Group != 0 || len(gc.Trials) != 1 || gc.Trials[0].Number != 1 {
		t.Fatalf("first ClaimGroup = %+v, %v; want trial 1 alone", gc, err)
	}
	gc, err = s.ClaimGroup(ctx, "old", owner("a"), time.Now(), nil)
	if err != nil || gc.Group != 2 || len(gc.Trials) != 2 || gc.Trials[0].Number != 2 || gc.Trials[1].Number != 3 {
		t.Fatalf("second ClaimGroup = %+v, %v; want group 2: trials 2 and 3", gc, err)
	}
	added, err := s.EnsureSweep(ctx, results.Sweep{Name: "old"}, groupedGrid(0, 0, 0, 0, 1, 1))
	if err != nil || !slices.Equal(added, []int{5, 6}) {
		t.Fatalf("EnsureSweep after the migration added %v, %v; want [5 6]", added, err)
	}
	ts, err := s.Trials(ctx, "old", results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if ts[4].Group != 3 || ts[5].Group != 3 {
		t.Errorf("new trials in groups %d and %d, want 3 (after the migrated group 2)", ts[4].Group, ts[5].Group)
	}
}

// TestClaimGroupLocked: a group one of whose members another transaction
// holds locked is passed over without waiting for it, for the next
// claimable work; when it is the only work, ClaimGroup tries again (until
// its timeout) rather than say there is none, and takes it once the lock
// is gone.
func TestClaimGroupLocked(t *testing.T) {
	s, dsn := newStore(t)
	ctx := t.Context()
	if _, err := s.EnsureSweep(ctx, results.Sweep{Name: "g"}, groupedGrid(1, 1, 2, 2)); err != nil {
		t.Fatal(err)
	}
	c := conn(t, dsn)
	lock, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM sweep_trials WHERE sweep = 'g' AND number = 2 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	gc, err := s.ClaimGroup(ctx, "g", owner("a"), time.Now(), nil)
	if err != nil || gc.Group != 2 || len(gc.Trials) != 2 || gc.Trials[0].Number != 3 {
		t.Fatalf("ClaimGroup with trial 2 locked = %+v, %v; want group 2", gc, err)
	}
	short, err := Open(ctx, dsn, Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	_, err = short.ClaimGroup(ctx, "g", owner("b"), time.Now(), nil)
	if !errors.Is(err, results.ErrUnavailable) || errors.Is(err, results.ErrNoWork) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("ClaimGroup of a group locked by another transaction: %v, want ErrUnavailable saying it was locked", err)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	gc, err = short.ClaimGroup(ctx, "g", owner("b"), time.Now(), nil)
	if err != nil || gc.Group != 1 || len(gc.Trials) != 2 || gc.Trials[0].Attempts != 1 || gc.Trials[1].Attempts != 1 {
		t.Fatalf("ClaimGroup after the lock = %+v, %v; want group 1, first attempts", gc, err)
	}
}

// TestCheckGroups: Check reports a row whose grp is not its record's
// group, and a negative group.
func TestCheckGroups(t *testing.T) {
	s, dsn := newStore(t)
	ctx := t.Context()
	if _, err := s.EnsureSweep(ctx, results.Sweep{Name: "g"}, groupedGrid(1, 1, 0)); err != nil {
		t.Fatal(err)
	}
	c := conn(t, dsn)
	exec(t, c, `UPDATE sweep_trials SET grp = 4 WHERE number = 3`)
	var rec []byte
	if err := c.QueryRow(ctx, `SELECT record FROM sweep_trials WHERE number = 2`).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	tr, err := results.DecodeTrial("g", 2, rec)
	if err != nil {
		t.Fatal(err)
	}
	tr.Group = -1
	col, err := columns(tr)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, `UPDATE sweep_trials SET record = $1, grp = -1 WHERE number = 2`, col.record)
	err = s.Check(ctx)
	var ce *results.CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Check: %v, want a CorruptError", err)
	}
	for _, want := range []string{`trial 3: its record says group 0, its row 4`, `trial 2: group -1 < 0`} {
		if !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("Check does not report %q among:\n\t%s", want, strings.Join(ce.Problems, "\n\t"))
		}
	}
	exec(t, c, `DELETE FROM sweep_sweeps`) // for the cleanup's Check
}
