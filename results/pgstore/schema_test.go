package pgstore

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sweep-dev/sweep/results"
)

// TestOpenConcurrent opens a fresh database from 8 goroutines at once:
// every Open succeeds, and the schema is created once.
func TestOpenConcurrent(t *testing.T) {
	dsn := newDB(t)
	const n = 8
	var (
		wg, ready      sync.WaitGroup
		start          = make(chan struct{})
		inFlight, most atomic.Int32
		errs           = make([]error, n)
		stores         = make([]*Store, n)
	)
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			k := inFlight.Add(1)
			for {
				m := most.Load()
				if k <= m || most.CompareAndSwap(m, k) {
					break
				}
			}
			stores[i], errs[i] = Open(t.Context(), dsn, Options{Timeout: testTimeout})
			inFlight.Add(-1)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		stores[i].Close()
	}
	if most.Load() < 2 {
		t.Errorf("at most %d Open in flight at once: the test did not overlap them", most.Load())
	}
	c := conn(t, dsn)
	var rows, version int
	if err := c.QueryRow(t.Context(), `SELECT count(*), max(version) FROM sweep_schema`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != schemaVersion {
		t.Fatalf("sweep_schema has %d rows, version %d; want 1 row, version %d", rows, version, schemaVersion)
	}
	var tablesFound int
	if err := c.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'sweep\_%'`).Scan(&tablesFound); err != nil {
		t.Fatal(err)
	}
	if tablesFound != len(tables) {
		t.Fatalf("%d sweep_* tables, want %d", tablesFound, len(tables))
	}
	s := openDSN(t, dsn)
	if err := s.CheckWritable(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromV1 builds a database of schema version 1 (its migration
// alone) holding a sweep, and opens it: the schema is raised to the
// current version, and the sweep reads and runs as before.
func TestMigrateFromV1(t *testing.T) {
	dsn := newDB(t)
	c := conn(t, dsn)
	ctx := t.Context()
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, tx, 0, 1); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	sw := results.Sweep{Name: "old", SpecPath: "old.toml", Metric: "val_acc", Keep: 3, Created: created}
	rec, err := json.Marshal(&sw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sweep_sweeps (name, record, spec, canonical, metric, keep) VALUES ($1, $2, $3, '', $4, $5)`,
		sw.Name, rec, []byte("spec = 1"), sw.Metric, sw.Keep); err != nil {
		t.Fatal(err)
	}
	for i, in := range grid(2) {
		tr := results.Trial{Number: i + 1, Key: in.Key, Params: in.Params, Status: results.Pending, Created: created}
		if i == 0 {
			tr.Status, tr.ValAcc, tr.Attempts, tr.Finished = results.Done, 0.75, 1, created
		}
		insertTrialRow(t, tx, sw.Name, &tr)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	s := openDSN(t, dsn)
	checkSchemaVersion(t, c)
	got, err := s.Sweep(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if got.SpecPath != "old.toml" || string(got.Spec) != "spec = 1" || !got.Created.Equal(created) {
		t.Fatalf("migrated sweep reads %+v", got)
	}
	ts, err := s.Trials(ctx, "old", results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Status != results.Done || ts[0].ValAcc != 0.75 || ts[1].Status != results.Pending {
		t.Fatalf("migrated trials read %+v", ts)
	}
	sums, err := s.Sweeps(ctx, time.Now(), time.Minute)
	if err != nil || len(sums) != 1 || sums[0].BestValAcc == nil || *sums[0].BestValAcc != 0.75 {
		t.Fatalf("Sweeps after the migration: %+v, %v", sums, err)
	}
	// The migrated sweep runs: its pending trial is claimed and finished
	// (through the new columns), and more are added.
	o := owner("a")
	tr := claim(t, s, "old", o)
	if tr.Number != 2 {
		t.Fatalf("claimed trial %d, want 2", tr.Number)
	}
	if err := s.Finish(ctx, "old", 2, o, time.Now(), results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.8}}); err != nil {
		t.Fatal(err)
	}
	added, err := s.EnsureSweep(ctx, results.Sweep{Name: "old"}, grid(3))
	if err != nil || len(added) != 1 || added[0] != 3 {
		t.Fatalf("EnsureSweep after the migration added %v, %v; want [3]", added, err)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer sweep is refused
// by Open, OpenExisting and an open Store alike, with ErrSchema.
func TestNewerSchemaRefused(t *testing.T) {
	s, dsn := newStore(t)
	ensure(t, s, "g", 1)
	c := conn(t, dsn)
	exec(t, c, `UPDATE sweep_schema SET version = $1`, schemaVersion+1)
	defer exec(t, c, `UPDATE sweep_schema SET version = $1`, schemaVersion) // for the cleanup's Check
	for name, open := range map[string]func() error{
		"Open":         func() error { _, err := Open(t.Context(), dsn, Options{Timeout: testTimeout}); return err },
		"OpenExisting": func() error { _, err := OpenExisting(t.Context(), dsn, Options{Timeout: testTimeout}); return err },
		"Trials":       func() error { _, err := s.Trials(t.Context(), "g", results.Filter{}); return err },
		"Claim":        func() error { _, _, err := s.Claim(t.Context(), "g", owner("a"), time.Now(), nil); return err },
	} {
		err := open()
		if !errors.Is(err, results.ErrSchema) {
			t.Errorf("%s of a database of schema version %d: %v, want ErrSchema", name, schemaVersion+1, err)
		} else if !strings.Contains(err.Error(), "newer sweep") {
			t.Errorf("%s: %v does not say why", name, err)
		}
	}
}

// TestOpenExistingEmpty: OpenExisting of a database without the schema is
// ErrNotFound, and creates nothing.
func TestOpenExistingEmpty(t *testing.T) {
	dsn := newDB(t)
	_, err := OpenExisting(t.Context(), dsn, Options{Timeout: testTimeout})
	if !errors.Is(err, results.ErrNotFound) {
		t.Fatalf("OpenExisting of an empty database: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), Redact(dsn)) {
		t.Errorf("%v does not name the database", err)
	}
	var n int
	if err := conn(t, dsn).QueryRow(t.Context(), `SELECT count(*) FROM pg_class WHERE relname LIKE 'sweep\_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("OpenExisting created %d relations", n)
	}
	// Open creates the schema, after which OpenExisting opens it.
	if _, err := Open(t.Context(), dsn, Options{Timeout: testTimeout}); err != nil {
		t.Fatal(err)
	}
	s, err := OpenExisting(t.Context(), dsn, Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestSchemaGone: a Store whose tables were dropped under it says the
// database holds no sweep results (ErrNotFound), as a bbolt Store whose
// file was removed does.
func TestSchemaGone(t *testing.T) {
	dsn := newDB(t)
	s, err := Open(t.Context(), dsn, Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exec(t, conn(t, dsn), `DROP TABLE `+strings.Join(tables, ", "))
	if _, err := s.Sweeps(t.Context(), time.Now(), time.Minute); !errors.Is(err, results.ErrNotFound) {
		t.Fatalf("Sweeps of a database whose tables were dropped: %v, want ErrNotFound", err)
	}
}

// insertTrialRow writes tr into sweep_trials as an older schema's store
// wrote it: the columns every version has, and the record.
func insertTrialRow(t *testing.T, tx pgx.Tx, sweep string, tr *results.Trial) {
	t.Helper()
	col, err := columns(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `INSERT INTO sweep_trials (sweep, number, key, status, owner_id, heartbeat, attempts, val_acc, val_loss, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, sweep, tr.Number, tr.Key, col.status, col.owner, col.heartbeat, col.attempts, col.acc, col.loss, col.record); err != nil {
		t.Fatal(err)
	}
}

// checkSchemaVersion fails t unless the database of c is at schemaVersion.
func checkSchemaVersion(t *testing.T, c *pgx.Conn) {
	t.Helper()
	var version int
	if err := c.QueryRow(t.Context(), `SELECT version FROM sweep_schema`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("after Open, schema version %d (%v), want %d", version, err, schemaVersion)
	}
}
