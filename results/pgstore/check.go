package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// Check checks the whole database, in one read-only snapshot, and returns
// nil, or a *results.CorruptError (which wraps ErrCorrupt) listing every
// problem it finds, each naming the sweep and trial concerned; ErrSchema
// if the schema is of another version. What SQL constraints guarantee
// (keys, references, NOT NULL) is not checked again; what they cannot is:
//
//   - the schema: one version row, every table present.
//   - each sweep's record: it decodes, names its sweep, has a valid metric,
//     keep and elapsed time, and agrees with its row's metric and keep.
//   - each sweep's trials: numbers run 1..N; every record decodes, names
//     its row's number and has its key, status, attempts and group (which
//     is not negative); a running
//     trial, and only a running one, has a lease, whose owner id and
//     heartbeat are its row's; a done trial's row holds its val_acc and
//     val_loss, another's none; the adaptive state is consistent (Rung is
//     len(Evals), whose resources are positive and increasing; Target and
//     Bracket are not negative; a Promoted trial has reached a rung; a
//     paused trial has reached a rung, is not Promoted and has a
//     checkpoint).
//   - histories, checkpoints (their headers) and models decode; a
//     checkpoint belongs to an unfinished trial, a model to a done one;
//     decision records decode.
//   - Best and every test evaluation name a done trial, Best the latest
//     evaluation.
//
// It reads every record, every history and every model, but no
// checkpoint's data beyond its header.
func (s *Store) Check(ctx context.Context) error {
	return s.run(ctx, "check", txOptions{snapshot: true, readOnly: true}, func(tx *txn) error {
		return tx.check(ctx)
	})
}

// CheckWritable is the check a process runs before it writes for a run
// (`sweep run`, `sweep resume`): Check's, and that this connection may
// write the sweep tables: its role has SELECT, INSERT, UPDATE and DELETE
// on each, and a READ WRITE transaction takes the lock every write takes
// (ROW EXCLUSIVE) on them, which fails on a read-only server (a standby).
// It writes nothing: the transaction is rolled back.
func (s *Store) CheckWritable(ctx context.Context) error {
	return s.run(ctx, "check before writing", txOptions{snapshot: true, writable: true}, func(tx *txn) error {
		if err := tx.check(ctx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t || ': ' || p FROM unnest($1::text[]) t,
			unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
			WHERE NOT has_table_privilege(t, p) ORDER BY 1`, tables[1:])
		if err != nil {
			return err
		}
		missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			var role string
			if err := tx.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil {
				return err
			}
			return fmt.Errorf("role %q may not write the sweep tables: it lacks %s", role, strings.Join(missing, ", "))
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(tables[1:], ", ")+` IN ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		return errRollback
	})
}

// checker collects the problems a check finds.
type checker struct {
	problems []string
}

func (c *checker) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// err returns the problems as a *CorruptError (its Path set by Store.fail),
// nil if there are none.
func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &results.CorruptError{Problems: c.problems}
}

// check is Check's work within its transaction.
func (tx *txn) check(ctx context.Context) error {
	c := &checker{}
	var missing []string
	for _, t := range tables {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		c.add("the schema lacks tables %s", strings.Join(missing, ", "))
		return c.err()
	}
	var versions int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM sweep_schema`).Scan(&versions); err != nil {
		return err
	}
	if versions != 1 {
		c.add("the sweep_schema table has %d rows, not 1", versions)
	}
	rows, err := tx.Query(ctx, `SELECT name FROM sweep_sweeps ORDER BY name`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := tx.checkSweepInto(ctx, c, name); err != nil {
			return err
		}
	}
	return c.err()
}

// checkSweep checks one sweep as Check does: nil, or a *CorruptError.
func (tx *txn) checkSweep(ctx context.Context, name string) error {
	c := &checker{}
	if err := tx.checkSweepInto(ctx, c, name); err != nil {
		return err
	}
	return c.err()
}

// sweepCheck is what a check has learnt of one sweep's trials.
type sweepCheck struct {
	*checker
	name   string
	status map[int]results.Status // every trial whose record decodes
	exists map[int]bool           // every trial that has a row
	ckpt   map[int]bool           // every trial with a checkpoint
	paused []int
}

// checkSweepInto adds the problems of sweep name to c. Its error is the
// database's, not a problem found.
func (tx *txn) checkSweepInto(ctx context.Context, c *checker, name string) error {
	sc := &sweepCheck{checker: c, name: name, status: map[int]results.Status{}, exists: map[int]bool{}, ckpt: map[int]bool{}}
	var (
		rec    []byte
		metric string
		keep   int
	)
	if err := tx.QueryRow(ctx, `SELECT record, metric, keep FROM sweep_sweeps WHERE name = $1`, name).Scan(&rec, &metric, &keep); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted meanwhile (a READ COMMITTED caller)
		}
		return err
	}
	sw, err := decodeSweep(name, rec)
	if err != nil {
		c.add("%v", err)
	} else {
		switch {
		case sw.Metric != "val_acc" && sw.Metric != "val_loss":
			c.add("sweep %q record: metric %q is not val_acc or val_loss", name, sw.Metric)
		case sw.Keep < 0:
			c.add("sweep %q record: keep %d < 0", name, sw.Keep)
		case sw.Elapsed < 0:
			c.add("sweep %q record: elapsed time %vs < 0", name, sw.Elapsed)
		}
		if sw.Metric != metric || sw.Keep != keep {
			c.add("sweep %q: its row says metric %q keep %d, its record metric %q keep %d", name, metric, keep, sw.Metric, sw.Keep)
		}
	}
	if err := sc.trials(ctx, tx); err != nil {
		return err
	}
	if err := sc.blobs(ctx, tx); err != nil {
		return err
	}
	for _, n := range sc.paused {
		if !sc.ckpt[n] {
			c.add("sweep %q trial %d is paused without a checkpoint", name, n)
		}
	}
	if sw != nil {
		sc.evaluations(sw)
	}
	return nil
}

// trials checks every trial's row and record.
func (sc *sweepCheck) trials(ctx context.Context, tx *txn) error {
	rows, err := tx.Query(ctx, `SELECT number, key, status, owner_id, heartbeat, attempts, val_acc, val_loss, grp, record
		FROM sweep_trials WHERE sweep = $1 ORDER BY number`, sc.name)
	if err != nil {
		return err
	}
	var (
		n, attempts, prev, grp int
		key, status            string
		owner                  *string
		heartbeat              *time.Time
		acc, loss              *float64
		rec                    []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&n, &key, &status, &owner, &heartbeat, &attempts, &acc, &loss, &grp, &rec}, func() error {
		if n != prev+1 {
			sc.add("sweep %q: trial numbers jump from %d to %d", sc.name, prev, n)
		}
		prev = n
		sc.exists[n] = true
		t, err := results.DecodeTrial(sc.name, n, rec)
		if err != nil {
			sc.add("%v", err)
			return nil
		}
		sc.status[n] = t.Status
		where := fmt.Sprintf("sweep %q trial %d", sc.name, n)
		switch {
		case t.Key == "":
			sc.add("%s has no key", where)
		case t.Key != key:
			sc.add("%s: its record's key %q is not its row's, %q", where, t.Key, key)
		}
		if string(t.Status) != status {
			sc.add("%s: its record says %s, its row %q", where, t.Status, status)
		}
		if t.Attempts != attempts {
			sc.add("%s: its record says %d attempts, its row %d", where, t.Attempts, attempts)
		}
		switch {
		case t.Group != grp:
			sc.add("%s: its record says group %d, its row %d", where, t.Group, grp)
		case t.Group < 0:
			sc.add("%s: group %d < 0", where, t.Group)
		}
		switch {
		case t.Status == results.Running && t.Lease == nil:
			sc.add("%s is running without a lease", where)
		case t.Status != results.Running && t.Lease != nil:
			sc.add("%s is %s but holds a lease", where, t.Status)
		}
		switch l := t.Lease; {
		case l == nil && (owner != nil || heartbeat != nil):
			sc.add("%s has no lease, but its row has a lease's owner or heartbeat", where)
		case l != nil && (owner == nil || *owner != l.Owner.ID):
			sc.add("%s: its row does not have its lease's owner id %q", where, l.Owner.ID)
		case l != nil && (heartbeat == nil || heartbeat.Sub(l.Heartbeat).Abs() >= time.Microsecond):
			sc.add("%s: its row does not have its lease's heartbeat %v", where, l.Heartbeat)
		}
		same := func(col *float64, v float64) bool {
			return col != nil && (*col == v || math.IsNaN(*col) && math.IsNaN(v))
		}
		switch {
		case t.Status == results.Done && (!same(acc, t.ValAcc) || !same(loss, t.ValLoss)):
			sc.add("%s: its row's metrics do not match its record's (val_acc %v, val_loss %v)", where, t.ValAcc, t.ValLoss)
		case t.Status != results.Done && (acc != nil || loss != nil):
			sc.add("%s is %s, but its row has a done trial's metrics", where, t.Status)
		}
		sc.adaptive(where, t)
		if t.Status == results.Paused {
			sc.paused = append(sc.paused, n)
		}
		return nil
	})
	return err
}

// adaptive checks a trial's adaptive state.
func (sc *sweepCheck) adaptive(where string, t *results.Trial) {
	for _, p := range results.AdaptiveProblems(t) {
		sc.add("%s%s", where, p)
	}
}

// blobs checks the sweep's histories, checkpoints, models and decisions:
// they decode, and belong to trials whose status allows them.
func (sc *sweepCheck) blobs(ctx context.Context, tx *txn) error {
	for _, b := range []struct {
		table, what string
		query       string
		in          func(results.Status) bool
		decode      func([]byte) error
	}{
		{"sweep_histories", "history", `SELECT number, data FROM sweep_histories WHERE sweep = $1 ORDER BY number`, nil,
			func(b []byte) error { _, _, err := results.HistoryRows(b); return err }},
		// Only the header: the data is the trainer's, opaque here.
		{"sweep_checkpoints", "checkpoint", `SELECT number, substring(data FROM 1 FOR 64) FROM sweep_checkpoints WHERE sweep = $1 ORDER BY number`,
			func(s results.Status) bool { return !s.Finished() },
			func(b []byte) error { _, err := results.DecodeCheckpoint(b); return err }},
		{"sweep_models", "model", `SELECT number, data FROM sweep_models WHERE sweep = $1 ORDER BY number`,
			func(s results.Status) bool { return s == results.Done },
			func(b []byte) error { _, err := results.DecodeModel(b); return err }},
		{"sweep_decisions", "decisions", `SELECT number, data FROM sweep_decisions WHERE sweep = $1 ORDER BY number`, nil,
			func(b []byte) error { _, err := results.DecodeDecisions(b); return err }},
	} {
		rows, err := tx.Query(ctx, b.query, sc.name)
		if err != nil {
			return err
		}
		var (
			n    int
			data []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&n, &data}, func() error {
			where := fmt.Sprintf("sweep %q trial %d", sc.name, n)
			if b.table == "sweep_checkpoints" {
				sc.ckpt[n] = true
			}
			if s, ok := sc.status[n]; ok && b.in != nil && !b.in(s) {
				sc.add("%s: %s of a %s trial", where, b.what, s)
			}
			if err := b.decode(data); err != nil {
				sc.add("%s: %v", where, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// evaluations checks that Best and every test evaluation name an existing
// done trial, and that Best is the latest evaluation.
func (sc *sweepCheck) evaluations(sw *results.Sweep) {
	check := func(what string, b results.Best) {
		if !sc.exists[b.Trial] {
			sc.add("sweep %q: %s is trial %d, which does not exist", sc.name, what, b.Trial)
		} else if s, ok := sc.status[b.Trial]; ok && s != results.Done {
			sc.add("sweep %q: %s is trial %d, which is %s", sc.name, what, b.Trial, s)
		}
	}
	if sw.Best != nil {
		check("the best trial", *sw.Best)
	}
	for i, e := range sw.Evaluations {
		check(fmt.Sprintf("test evaluation %d", i+1), e)
	}
	if n := len(sw.Evaluations); n > 0 && (sw.Best == nil || !sameBest(*sw.Best, sw.Evaluations[n-1])) {
		sc.add("sweep %q: the best trial is not its latest test evaluation", sc.name)
	}
}

func sameBest(a, b results.Best) bool {
	return a.Trial == b.Trial && a.ValAcc == b.ValAcc && a.ValLoss == b.ValLoss &&
		a.TestAcc == b.TestAcc && a.TestLoss == b.TestLoss && a.Evaluated.Equal(b.Evaluated)
}
