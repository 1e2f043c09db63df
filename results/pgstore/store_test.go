package pgstore

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
)

// TestKeptModelsRanking: the SQL ranking of done trials (rankOrder) is
// results.LessMetrics's, NaN and infinities included, for either metric:
// the models kept are those of the best Keep done trials as results.Rank
// orders them.
func TestKeptModelsRanking(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	metrics := []results.Metrics{
		{ValAcc: 0.5, ValLoss: 1}, {ValAcc: nan, ValLoss: 0.1}, {ValAcc: 0.9, ValLoss: 0.3},
		{ValAcc: 0.9, ValLoss: 0.2}, {ValAcc: inf, ValLoss: nan}, {ValAcc: -inf, ValLoss: -inf},
		{ValAcc: 0.7, ValLoss: 0.2}, {ValAcc: 0.9, ValLoss: 0.2}, {ValAcc: math.Copysign(0, -1), ValLoss: 0},
	}
	for _, metric := range []string{"val_acc", "val_loss"} {
		t.Run(metric, func(t *testing.T) {
			s, dsn := newStore(t)
			ctx := t.Context()
			if _, err := s.EnsureSweep(ctx, results.Sweep{Name: "g", Metric: metric, Keep: 3}, grid(len(metrics))); err != nil {
				t.Fatal(err)
			}
			o := owner("a")
			for _, m := range metrics {
				tr := claim(t, s, "g", o)
				if err := s.Finish(ctx, "g", tr.Number, o, time.Now(), results.Outcome{Status: results.Done, Metrics: m, Model: testModel()}); err != nil {
					t.Fatal(err)
				}
			}
			ts, err := s.Trials(ctx, "g", results.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			results.Rank(ts, metric != "val_loss")
			var want []int
			for _, tr := range ts[:3] {
				want = append(want, tr.Number)
			}
			slices.Sort(want)
			var kept []int
			for n := 1; n <= len(metrics); n++ {
				if _, err := s.Model(ctx, "g", n); err == nil {
					kept = append(kept, n)
				} else if !errors.Is(err, results.ErrNotFound) {
					t.Fatal(err)
				}
			}
			if !slices.Equal(kept, want) {
				t.Errorf("kept the models of trials %v, want %v (by results.Rank)", kept, want)
			}
			sums, err := s.Sweeps(ctx, time.Now(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if b := sums[0].BestValAcc; b == nil || !(*b == ts[0].ValAcc || math.IsNaN(*b) && math.IsNaN(ts[0].ValAcc)) {
				t.Errorf("Sweeps' best val_acc %v, want trial %d's %v", b, ts[0].Number, ts[0].ValAcc)
			}
			// The ranking is an index scan on a large sweep.
			var plan string
			c := conn(t, dsn)
			exec(t, c, `SET enable_seqscan = off`)
			if err := c.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT number FROM sweep_trials WHERE sweep = 'g' AND status = 'done'
				ORDER BY `+rankOrder(metric != "val_loss")+` LIMIT 3`).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, "sweep_trials_rank_") {
				t.Errorf("the ranking's plan does not use a rank index: %s", plan)
			}
		})
	}
}

// TestCheckFindsDamage damages a sweep behind the store's back, in ways
// SQL constraints allow: Check lists every problem in one
// *results.CorruptError naming the database (redacted), EnsureSweep
// refuses to run the sweep, and a read of the damaged record is corrupt.
func TestCheckFindsDamage(t *testing.T) {
	s, dsn := newStore(t)
	ctx := t.Context()
	ensure(t, s, "g", 4)
	o := owner("a")
	for range 2 {
		claim(t, s, "g", o)
	}
	if err := s.Pause(ctx, "g", 2, o, time.Now(), results.Checkpoint{Data: []byte("ck")}, nil, results.Eval{Resource: 1}, results.Metrics{}, 1); err != nil {
		t.Fatal(err)
	}
	c := conn(t, dsn)
	exec(t, c, `UPDATE sweep_trials SET record = 'garbage' WHERE number = 4`)
	exec(t, c, `UPDATE sweep_trials SET status = 'pending' WHERE number = 1`) // its record says running
	exec(t, c, `DELETE FROM sweep_checkpoints WHERE number = 2`)              // paused without one
	exec(t, c, `UPDATE sweep_trials SET number = 9 WHERE number = 3`)         // numbers jump
	exec(t, c, `UPDATE sweep_sweeps SET keep = 7`)                            // not the record's
	err := s.Check(ctx)
	var ce *results.CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, results.ErrCorrupt) {
		t.Fatalf("Check of a damaged sweep: %v", err)
	}
	if ce.Path != s.Location() {
		t.Errorf("CorruptError.Path = %q, want %q", ce.Path, s.Location())
	}
	for _, want := range []string{
		`trial 4 record`, `trial 1: its record says running, its row "pending"`, `trial 2 is paused without a checkpoint`,
		`trial numbers jump from 2 to 4`, `trial 9 record says trial 3`, `its row says metric "val_acc" keep 7`,
	} {
		if !slices.ContainsFunc(ce.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("Check does not report %q among:\n\t%s", want, strings.Join(ce.Problems, "\n\t"))
		}
	}
	if _, err := s.EnsureSweep(ctx, results.Sweep{Name: "g"}, nil); !errors.As(err, &ce) {
		t.Errorf("EnsureSweep of a damaged sweep: %v, want a CorruptError", err)
	}
	if err := s.CheckWritable(ctx); !errors.Is(err, results.ErrCorrupt) {
		t.Errorf("CheckWritable of a damaged database: %v", err)
	}
	if _, _, err := s.Trial(ctx, "g", 4); !errors.As(err, &ce) || ce.Path != s.Location() {
		t.Errorf("Trial of a damaged record: %v", err)
	}
	if _, err := s.Trials(ctx, "g", results.Filter{}); !errors.Is(err, results.ErrCorrupt) {
		t.Errorf("Trials of a damaged sweep: %v", err)
	}
	exec(t, c, `DELETE FROM sweep_sweeps`) // for the cleanup's Check
}

// TestLeastPrivileges runs a sweep as a role with only the privileges
// doc.go lists (CONNECT, USAGE on the schema; SELECT on sweep_schema;
// SELECT, INSERT, UPDATE, DELETE on the other tables), after a superuser
// created the schema. CheckWritable refuses a role that may only read,
// naming what it lacks.
func TestLeastPrivileges(t *testing.T) {
	admin, dsn := newStore(t)
	ctx := t.Context()
	c := conn(t, dsn)
	db := strings.TrimPrefix(strings.SplitN(dsn, "?", 2)[0], "postgres://postgres@/")
	worker, reader := "worker_"+db, "reader_"+db
	writeTables := strings.Join(tables[1:], ", ")
	for _, sql := range []string{
		`CREATE ROLE ` + worker + ` LOGIN`,
		`CREATE ROLE ` + reader + ` LOGIN`,
		`REVOKE ALL ON DATABASE ` + db + ` FROM PUBLIC`,
		`GRANT CONNECT ON DATABASE ` + db + ` TO ` + worker + `, ` + reader,
		`REVOKE ALL ON SCHEMA public FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA public TO ` + worker + `, ` + reader,
		`GRANT SELECT ON sweep_schema TO ` + worker + `, ` + reader,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + writeTables + ` TO ` + worker,
		`GRANT SELECT ON ` + writeTables + ` TO ` + reader,
	} {
		exec(t, c, sql)
	}
	as := func(role string) *Store {
		return openDSN(t, strings.Replace(dsn, "postgres://postgres@", "postgres://"+role+"@", 1))
	}
	ensure(t, admin, "old", 1)

	w := as(worker)
	if err := w.CheckWritable(ctx); err != nil {
		t.Fatalf("CheckWritable as %s: %v", worker, err)
	}
	ensure(t, w, "g", 3)
	o := owner("a")
	tr := claim(t, w, "g", o)
	if err := w.SaveCheckpoint(ctx, "g", tr.Number, o, time.Now(), results.Checkpoint{Data: []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Heartbeat(ctx, "g", []int{tr.Number}, o, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(ctx, "g", tr.Number, o, time.Now(), results.Outcome{Status: results.Done, Model: testModel()}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetBest(ctx, "g", results.Best{Trial: tr.Number}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.TickElapsed(ctx, "g", time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	tr, _, err := w.ClaimNext(ctx, "g", o, time.Now(), nil, func([]results.Trial) (results.Plan, error) { return results.Plan{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Pause(ctx, "g", tr.Number, o, time.Now(), results.Checkpoint{}, nil, results.Eval{Resource: 1}, results.Metrics{}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Prune(ctx, "g", time.Now(), func([]results.Trial) ([]results.Pruning, error) {
		return []results.Pruning{{Number: tr.Number}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	d, err := w.Dump(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	d.Sweep.Name = "copy"
	if err := w.Load(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	if err := w.Load(ctx, d, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sweeps(ctx, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}

	r := as(reader)
	if _, err := r.Trials(ctx, "g", results.Filter{}); err != nil {
		t.Fatalf("a reader lists trials: %v", err)
	}
	err = r.CheckWritable(ctx)
	if err == nil || !strings.Contains(err.Error(), "sweep_trials: INSERT") {
		t.Fatalf("CheckWritable as a reader: %v", err)
	}
	if _, _, err := r.Claim(ctx, "g", o, time.Now(), nil); err == nil {
		t.Fatal("a reader claimed a trial")
	}
}

// TestCopyBolt copies a sweep from a bbolt file into PostgreSQL and back
// (what `sweep copy` does): every Dump is the first, and the blobs are
// stored byte for byte.
func TestCopyBolt(t *testing.T) {
	ctx := t.Context()
	b, err := boltstore.Open(filepath.Join(t.TempDir(), "a.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnsureSweep(ctx, results.Sweep{Name: "g", Spec: []byte("spec"), Input: &results.Input{Shape: []int{2}, Classes: []string{"a", "b"}, Mean: []float32{0.5, 1}}}, grid(5)); err != nil {
		t.Fatal(err)
	}
	o := owner("a")
	now := time.Now()
	hist := []results.Epoch{{Epoch: 1, Iteration: 3, LearningRate: 0.1, Loss: math.NaN()}}
	for n := 1; n <= 4; n++ {
		tr, _, err := b.Claim(ctx, "g", o, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch n {
		case 1:
			err = b.Finish(ctx, "g", tr.Number, o, now, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}, History: hist, Model: testModel()})
		case 2:
			err = b.Finish(ctx, "g", tr.Number, o, now, results.Outcome{Status: results.Diverged, Metrics: results.Metrics{ValLoss: math.Inf(1)}, Error: "NaN"})
		case 3:
			err = b.Pause(ctx, "g", tr.Number, o, now, results.Checkpoint{Epoch: 1, Data: []byte{0, 1, 2}}, hist, results.Eval{Resource: 1, Value: math.NaN()}, results.Metrics{}, 2)
		case 4:
			err = b.SaveCheckpoint(ctx, "g", tr.Number, o, now, results.Checkpoint{Epoch: 2, Data: []byte{3}}, hist)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetBest(ctx, "g", results.Best{Trial: 1, TestAcc: 0.4, Evaluated: now}); err != nil {
		t.Fatal(err)
	}
	want, err := b.Dump(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}

	s, _ := newStore(t)
	if err := s.Load(ctx, want, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, want, false); !errors.Is(err, results.ErrExists) {
		t.Fatalf("a second Load: %v, want ErrExists", err)
	}
	got, err := s.Dump(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, a, b *results.Dump) {
		t.Helper()
		// Compare the JSON records and the encodings, which is what a copy
		// must preserve (time.Time values differ in their location).
		for i := range a.Trials {
			ta, tb := a.Trials[i], b.Trials[i]
			ca, _ := columns(&ta.Trial)
			cb, _ := columns(&tb.Trial)
			if string(ca.record) != string(cb.record) {
				t.Errorf("%s: trial %d:\n\t%s\n\t%s", what, i+1, ca.record, cb.record)
			}
			if string(results.EncodeHistory(ta.History)) != string(results.EncodeHistory(tb.History)) ||
				!reflect.DeepEqual(ta.Checkpoint, tb.Checkpoint) || !reflect.DeepEqual(ta.Model, tb.Model) {
				t.Errorf("%s: trial %d's history, checkpoint or model differ", what, i+1)
			}
		}
		if fmt.Sprint(a.Sweep.Spec, a.Sweep.Best.Trial, len(a.Sweep.Evaluations), a.Sweep.Input.Mean) !=
			fmt.Sprint(b.Sweep.Spec, b.Sweep.Best.Trial, len(b.Sweep.Evaluations), b.Sweep.Input.Mean) || len(a.Trials) != len(b.Trials) {
			t.Errorf("%s: the sweeps differ: %+v\n%+v", what, a.Sweep, b.Sweep)
		}
	}
	same("bolt to PostgreSQL", want, got)

	back, err := boltstore.Open(filepath.Join(t.TempDir(), "b.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Load(ctx, got, false); err != nil {
		t.Fatal(err)
	}
	again, err := back.Dump(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	same("PostgreSQL back to bolt", want, again)
	if err := back.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSharedDatabase: two stores in two PostgreSQL schemas of one
// database (search_path in their connection strings), beside another
// application's table, keep apart.
func TestSharedDatabase(t *testing.T) {
	dsn := newDB(t)
	ctx := t.Context()
	c := conn(t, dsn)
	exec(t, c, `CREATE SCHEMA team_a; CREATE SCHEMA team_b; CREATE TABLE public.other AS SELECT 42 AS answer`)
	a := openDSN(t, dsn+"&search_path=team_a")
	b := openDSN(t, dsn+"&search_path=team_b")
	ensure(t, a, "g", 2)
	ensure(t, b, "g", 5)
	claim(t, a, "g", owner("x"))
	for s, want := range map[*Store]int{a: 2, b: 5} {
		ts, err := s.Trials(ctx, "g", results.Filter{})
		if err != nil || len(ts) != want {
			t.Fatalf("%s: %d trials (%v), want %d", s.Location(), len(ts), err, want)
		}
	}
	var where []string
	rows, err := c.Query(ctx, `SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname IN ('public', 'team_a', 'team_b') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		where = append(where, s)
	}
	if len(where) != 1+2*len(tables) || where[0] != "public.other" {
		t.Fatalf("tables: %v", where)
	}
}
