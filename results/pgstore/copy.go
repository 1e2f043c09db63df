package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// Dump reads the whole of sweep in one read-only REPEATABLE READ
// transaction (one snapshot), leases rebased to this process's clock.
func (s *Store) Dump(ctx context.Context, sweep string) (*results.Dump, error) {
	var d *results.Dump
	err := s.run(ctx, fmt.Sprintf("read all of sweep %q", sweep), txOptions{snapshot: true, readOnly: true}, func(tx *txn) error {
		var rec, spec, canonical []byte
		err := tx.QueryRow(ctx, `SELECT record, spec, canonical FROM sweep_sweeps WHERE name = $1`, sweep).Scan(&rec, &spec, &canonical)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && sweep == "") {
			return tx.noSweep(ctx, sweep)
		}
		if err != nil {
			return err
		}
		sw, err := decodeSweep(sweep, rec)
		if err != nil {
			return err
		}
		sw.Spec, sw.Canonical = spec, canonical
		trials, err := tx.trials(ctx, sweep, results.Filter{})
		if err != nil {
			return err
		}
		d = &results.Dump{Sweep: *sw, Trials: make([]results.TrialDump, len(trials))}
		for i, t := range trials {
			d.Trials[i].Trial = t
		}
		// Trial numbers are 1..N (trials checked it): trial n is d.Trials[n-1].
		for _, table := range []string{"sweep_decisions", "sweep_histories", "sweep_checkpoints", "sweep_models"} {
			rows, err := tx.Query(ctx, `SELECT number, data FROM `+table+` WHERE sweep = $1 ORDER BY number`, sweep)
			if err != nil {
				return err
			}
			var (
				n    int
				data []byte
			)
			_, err = pgx.ForEachRow(rows, []any{&n, &data}, func() error {
				if n < 1 || n > len(d.Trials) {
					return results.Corruptf("sweep %q: %s of trial %d, which does not exist", sweep, table, n)
				}
				td := &d.Trials[n-1]
				var err error
				switch table {
				case "sweep_decisions":
					td.Trial.Decisions, err = results.DecodeDecisions(data)
				case "sweep_histories":
					td.History, err = results.DecodeHistory(data)
				case "sweep_checkpoints":
					td.Checkpoint, err = results.DecodeCheckpoint(data)
				case "sweep_models":
					td.Model, err = results.DecodeModel(data)
				}
				if err != nil {
					return fmt.Errorf("sweep %q trial %d: %w", sweep, n, err)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Load writes a dumped sweep as it was, in one transaction serialised
// with the sweep's EnsureSweep, ClaimNext and Prune: its record, trial
// numbers, statuses, leases (their times as the dump gives them),
// attempts, histories, checkpoints, kept models and decisions. It refuses
// a dump that results.CheckDump refuses, before writing anything, and one
// that would leave a sweep that Check calls damaged (a Best naming a trial
// that is not done, a Rung that is not len(Evals), ...): it checks the
// sweep written, as Check does, before it commits.
// ErrExists if the database has a sweep of that name, unless replace is
// set: then that sweep is deleted first, in the same transaction.
func (s *Store) Load(ctx context.Context, d *results.Dump, replace bool) error {
	sw := d.Sweep
	op := fmt.Sprintf("write sweep %q", sw.Name)
	if err := results.CheckDump(d); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	rec, err := json.Marshal(&sw)
	if err != nil {
		return fmt.Errorf("%s: encode the sweep's record: %w", op, err)
	}
	// Encode everything before the transaction: it holds the sweep's lock.
	var trialRows [][]any
	blobs := map[string][][]any{}
	for i := range d.Trials {
		td := &d.Trials[i]
		t := &td.Trial
		n := t.Number
		c, err := columns(t)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		trialRows = append(trialRows, []any{sw.Name, n, t.Key, c.status, c.owner, c.heartbeat, c.attempts, c.acc, c.loss, c.record, nil, c.group})
		if len(t.Decisions) > 0 {
			v, err := results.EncodeDecisions(t.Decisions)
			if err != nil {
				return fmt.Errorf("%s: trial %d: decisions: %w", op, n, err)
			}
			blobs["sweep_decisions"] = append(blobs["sweep_decisions"], []any{sw.Name, n, v})
		}
		if len(td.History) > 0 {
			blobs["sweep_histories"] = append(blobs["sweep_histories"], []any{sw.Name, n, results.EncodeHistory(td.History)})
		}
		if td.Checkpoint != nil {
			blobs["sweep_checkpoints"] = append(blobs["sweep_checkpoints"], []any{sw.Name, n, results.EncodeCheckpoint(*td.Checkpoint)})
		}
		if td.Model != nil {
			mb, err := results.EncodeModel(td.Model)
			if err != nil {
				return fmt.Errorf("%s: trial %d: model: %w", op, n, err)
			}
			blobs["sweep_models"] = append(blobs["sweep_models"], []any{sw.Name, n, mb})
		}
	}
	tok := newToken()
	return s.run(ctx, op, txOptions{}, func(tx *txn) error {
		if err := tx.lockSweep(ctx, lockAdaptive, sw.Name); err != nil {
			return err
		}
		var wid *string
		err := tx.QueryRow(ctx, `SELECT write_id FROM sweep_sweeps WHERE name = $1`, sw.Name).Scan(&wid)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case tx.lost && wid != nil && *wid == tok:
			return nil // an earlier attempt committed
		case !replace:
			return fmt.Errorf("%w: %q is in %s already", results.ErrExists, sw.Name, tx.s.loc)
		default:
			if _, err := tx.Exec(ctx, `DELETE FROM sweep_sweeps WHERE name = $1`, sw.Name); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sweep_sweeps (name, record, spec, canonical, metric, keep, write_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, sw.Name, rec, nonNil(sw.Spec), nonNil(sw.Canonical), sw.Metric, sw.Keep, tok); err != nil {
			return err
		}
		if len(trialRows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sweep_trials"}, trialCopyColumns, pgx.CopyFromRows(trialRows)); err != nil {
				return err
			}
		}
		for _, table := range []string{"sweep_decisions", "sweep_histories", "sweep_checkpoints", "sweep_models"} {
			if rows := blobs[table]; len(rows) > 0 {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, []string{"sweep", "number", "data"}, pgx.CopyFromRows(rows)); err != nil {
					return err
				}
			}
		}
		// What results.CheckDump lets through, Check may not: refuse a
		// dump that would leave a sweep Check calls damaged (and that
		// EnsureSweep would then refuse to run).
		c := &checker{}
		if err := tx.checkSweepInto(ctx, c, sw.Name); err != nil {
			return err
		}
		if len(c.problems) > 0 {
			return fmt.Errorf("the dump breaks the store's invariants, so nothing was written: %s", strings.Join(c.problems, "; "))
		}
		return nil
	})
}
