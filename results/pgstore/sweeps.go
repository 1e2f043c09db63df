package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// Sweep returns the sweep named name, with its spec and canonical form.
// ErrNoSweep if there is none.
func (s *Store) Sweep(ctx context.Context, name string) (*results.Sweep, error) {
	var sw *results.Sweep
	err := s.run(ctx, fmt.Sprintf("read sweep %q", name), txOptions{readOnly: true}, func(tx *txn) error {
		var rec, spec, canonical []byte
		err := tx.QueryRow(ctx, `SELECT record, spec, canonical FROM sweep_sweeps WHERE name = $1`, name).Scan(&rec, &spec, &canonical)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && name == "") {
			return tx.noSweep(ctx, name)
		}
		if err != nil {
			return err
		}
		if sw, err = decodeSweep(name, rec); err != nil {
			return err
		}
		sw.Spec, sw.Canonical = spec, canonical
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sw, nil
}

// Sweeps summarises every sweep, by name (byte order). A sweep is Active
// when one of its running trials has a heartbeat newer than staleAfter
// ago by the database's clock (now is ignored). It counts the trials of
// each status from their rows, decoding no trial record.
func (s *Store) Sweeps(ctx context.Context, now time.Time, staleAfter time.Duration) ([]results.Summary, error) {
	var out []results.Summary
	err := s.run(ctx, "list sweeps", txOptions{readOnly: true, snapshot: true}, func(tx *txn) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT s.name, s.record, CASE WHEN s.metric = 'val_loss' THEN l.val_acc ELSE a.val_acc END
			FROM sweep_sweeps s
			LEFT JOIN LATERAL (SELECT val_acc FROM sweep_trials WHERE sweep = s.name AND status = 'done'
				ORDER BY `+rankOrder(true)+` LIMIT 1) a ON s.metric <> 'val_loss'
			LEFT JOIN LATERAL (SELECT val_acc FROM sweep_trials WHERE sweep = s.name AND status = 'done'
				ORDER BY `+rankOrder(false)+` LIMIT 1) l ON s.metric = 'val_loss'
			ORDER BY s.name`)
		if err != nil {
			return err
		}
		var (
			name string
			rec  []byte
			best *float64
			bad  error
		)
		index := map[string]int{}
		_, err = pgx.ForEachRow(rows, []any{&name, &rec, &best}, func() error {
			var r struct {
				Name    string    `json:"name"`
				Created time.Time `json:"created"`
			}
			if err := json.Unmarshal(rec, &r); err != nil {
				bad = results.Corruptf("sweep %q record: %v", name, err)
				return bad
			}
			if r.Name != name {
				bad = results.Corruptf("sweep %q record names sweep %q", name, r.Name)
				return bad
			}
			index[name] = len(out)
			out = append(out, results.Summary{Name: name, Created: r.Created, BestValAcc: best})
			return nil
		})
		if bad != nil {
			return bad
		}
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT sweep, status, count(*),
			coalesce(bool_or(status = 'running' AND now() - heartbeat < $1 * interval '1 microsecond'), false)
			FROM sweep_trials GROUP BY sweep, status`, micros(staleAfter))
		if err != nil {
			return err
		}
		var (
			status string
			count  int
			active bool
		)
		_, err = pgx.ForEachRow(rows, []any{&name, &status, &count, &active}, func() error {
			i, ok := index[name]
			if !ok {
				return nil // a sweep created since: not in this listing
			}
			sum := &out[i]
			sum.Total += count
			sum.Active = sum.Active || active
			switch results.Status(status) {
			case results.Pending:
				sum.Pending += count
			case results.Running:
				sum.Running += count
			case results.Paused:
				sum.Paused += count
			case results.Done:
				sum.Done += count
			case results.Diverged:
				sum.Diverged += count
			case results.Failed:
				sum.Failed += count
			case results.Pruned:
				sum.Pruned += count
			case results.Interrupted:
				sum.Interrupted += count
			default:
				bad = results.Corruptf("sweep %q: %d trials of status %q, which is not a status", name, count, status)
				return bad
			}
			return nil
		})
		if bad != nil {
			return bad
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EnsureSweep creates sweep sw if it does not exist, or else replaces its
// Spec, SpecPath, Canonical, Metric, Keep, and Data and Input (when sw has
// them) with sw's (keeping Created, Best, Evaluations, Elapsed and
// ElapsedAt); then it adds every trial of trials whose Key is not in the
// sweep yet, numbered after the existing ones in the given order, with
// Status Pending and Created set to the database's now() (Params, Config,
// Seed and Key are taken from the given trial; every other field is
// reset). A given trial's Group is a label: the added trials that share
// one form a new group, numbered after the sweep's existing groups
// (results.RenumberGroups); the groups of the trials there before never
// change. It returns the numbers added. All of it is one transaction,
// serialised with the sweep's ClaimNext, Prune and Load (an advisory
// lock), so concurrent calls never duplicate a key or a number.
//
// It is a run's first write, so it first checks the sweep, as Check does
// (the whole sweep, not the other sweeps of the database, which may be
// other teams'), in the same transaction, and refuses one that fails the
// check (ErrCorrupt, listing every problem).
//
// sw.Metric "" means "val_acc"; sw.Keep 0 means DefaultKeep; a zero
// sw.Created the database's now().
func (s *Store) EnsureSweep(ctx context.Context, sw results.Sweep, trials []results.Trial) (added []int, err error) {
	op := fmt.Sprintf("ensure sweep %q", sw.Name)
	if err := results.CheckNewSweep(&sw, trials); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	keys := make([]string, len(trials))
	for i := range trials {
		keys[i] = trials[i].Key
	}
	tok := newToken()
	given := sw
	err = s.run(ctx, op, txOptions{}, func(tx *txn) error {
		sw := given
		added = nil
		if err := tx.lockSweep(ctx, lockAdaptive, sw.Name); err != nil {
			return err
		}
		var (
			rec    []byte
			wid    *string
			wadded []int32
		)
		err := tx.QueryRow(ctx, `SELECT record, write_id, write_added FROM sweep_sweeps WHERE name = $1 FOR NO KEY UPDATE`, sw.Name).Scan(&rec, &wid, &wadded)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if exists && tx.lost && wid != nil && *wid == tok {
			for _, n := range wadded {
				added = append(added, int(n))
			}
			return nil // an earlier attempt committed
		}
		if exists {
			if err := tx.checkSweep(ctx, sw.Name); err != nil {
				return err
			}
			old, err := decodeSweep(sw.Name, rec)
			if err != nil {
				return err
			}
			sw.Created, sw.Best, sw.Evaluations = old.Created, old.Best, old.Evaluations
			sw.Elapsed, sw.ElapsedAt = old.Elapsed, old.ElapsedAt
			if sw.Data == nil {
				sw.Data = old.Data
			}
			if sw.Input == nil {
				sw.Input = old.Input
			}
		} else {
			if sw.Created.IsZero() {
				sw.Created = tx.now
			}
			sw.Best, sw.Evaluations, sw.Elapsed, sw.ElapsedAt = nil, nil, 0, time.Time{}
		}
		recb, err := json.Marshal(&sw)
		if err != nil {
			return fmt.Errorf("encode the sweep's record: %w", err)
		}
		if !exists {
			// The sweep's row first: the trials' rows reference it.
			if _, err := tx.Exec(ctx, `INSERT INTO sweep_sweeps (name, record, spec, canonical, metric, keep)
				VALUES ($1, $2, $3, $4, $5, $6)`, sw.Name, recb, nonNil(sw.Spec), nonNil(sw.Canonical), sw.Metric, sw.Keep); err != nil {
				return err
			}
		}
		have := map[string]bool{}
		rows, err := tx.Query(ctx, `SELECT key FROM sweep_trials WHERE sweep = $1 AND key = ANY($2)`, sw.Name, keys)
		if err != nil {
			return err
		}
		var key string
		if _, err := pgx.ForEachRow(rows, []any{&key}, func() error { have[key] = true; return nil }); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(number), 0) FROM sweep_trials WHERE sweep = $1`, sw.Name).Scan(&next); err != nil {
			return err
		}
		var (
			fresh  []results.Trial
			groups bool
		)
		for _, in := range trials {
			if have[in.Key] {
				continue
			}
			have[in.Key] = true
			next++
			fresh = append(fresh, results.Trial{
				Number: next, Key: in.Key, Params: in.Params, Config: in.Config, Seed: in.Seed,
				Group: in.Group, Status: results.Pending, Created: tx.now,
			})
			groups = groups || in.Group != 0
		}
		if groups {
			// The sweep's lock serialises this with every other EnsureSweep.
			var last int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(grp), 0) FROM sweep_trials WHERE sweep = $1`, sw.Name).Scan(&last); err != nil {
				return err
			}
			results.RenumberGroups(fresh, last)
		}
		var copyRows [][]any
		var addedIDs []int32
		for i := range fresh {
			t := &fresh[i]
			c, err := columns(t)
			if err != nil {
				return err
			}
			copyRows = append(copyRows, []any{sw.Name, t.Number, t.Key, c.status, c.owner, c.heartbeat, c.attempts, c.acc, c.loss, c.record, tok, c.group})
			added = append(added, t.Number)
			addedIDs = append(addedIDs, int32(t.Number))
		}
		if len(copyRows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sweep_trials"}, trialCopyColumns, pgx.CopyFromRows(copyRows)); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE sweep_sweeps SET record = $2, spec = $3, canonical = $4, metric = $5, keep = $6,
			write_id = $7, write_added = $8 WHERE name = $1`,
			sw.Name, recb, nonNil(sw.Spec), nonNil(sw.Canonical), sw.Metric, sw.Keep, tok, addedIDs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// trialCopyColumns are the columns of sweep_trials that EnsureSweep and
// Load copy in.
var trialCopyColumns = []string{"sweep", "number", "key", "status", "owner_id", "heartbeat", "attempts", "val_acc", "val_loss", "record", "write_id", "grp"}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// SetBest records b as the sweep's selected best trial, appends it to the
// sweep's Evaluations (each call is a use of the test set, even of the
// same trial again: the caller is expected not to make that call), and
// sets that trial's TestAcc to b.TestAcc. The trial must be done (an error
// otherwise, and nothing is written): Best names a done trial (Check).
func (s *Store) SetBest(ctx context.Context, sweep string, b results.Best) error {
	tok := newToken()
	return s.run(ctx, fmt.Sprintf("set best trial %d of sweep %q", b.Trial, sweep), txOptions{}, func(tx *txn) error {
		var (
			rec []byte
			wid *string
		)
		err := tx.QueryRow(ctx, `SELECT record, write_id FROM sweep_sweeps WHERE name = $1 FOR NO KEY UPDATE`, sweep).Scan(&rec, &wid)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && sweep == "") {
			return tx.noSweep(ctx, sweep)
		}
		if err != nil {
			return err
		}
		if tx.lost && wid != nil && *wid == tok {
			return nil // an earlier attempt committed
		}
		t, err := tx.lockTrial(ctx, sweep, b.Trial)
		if err != nil {
			return err
		}
		if t.Status != results.Done {
			// Check requires Best and every evaluation to name a done
			// trial: refuse rather than damage the sweep.
			return fmt.Errorf("trial %d is %s: only a done trial can be the best", t.Number, t.Status)
		}
		sw, err := decodeSweep(sweep, rec)
		if err != nil {
			return err
		}
		if len(sw.Evaluations) == 0 && sw.Best != nil {
			// A record from before evaluations were recorded: its one.
			sw.Evaluations = []results.Best{*sw.Best}
		}
		sw.Evaluations = append(sw.Evaluations, b)
		sw.Best = &b
		acc := b.TestAcc
		t.TestAcc = &acc
		if err := tx.putSweep(ctx, sw, tok); err != nil {
			return err
		}
		return tx.putTrial(ctx, sweep, t, "")
	})
}

// putSweep rewrites sw's record, with token tok.
func (tx *txn) putSweep(ctx context.Context, sw *results.Sweep, tok string) error {
	rec, err := json.Marshal(sw)
	if err != nil {
		return fmt.Errorf("encode the sweep's record: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE sweep_sweeps SET record = $2, write_id = coalesce($3, write_id) WHERE name = $1`, sw.Name, rec, token(tok))
	return err
}

// AddElapsed adds d to the sweep's Elapsed, in one transaction, and
// returns the new total: the accounting of a wall-clock budget across
// runs. d must not be negative.
//
// Two processes running the sweep at once that each add their own time
// count the time they overlap twice: TickElapsed counts it once.
func (s *Store) AddElapsed(ctx context.Context, sweep string, d time.Duration) (time.Duration, error) {
	op := fmt.Sprintf("add elapsed time to sweep %q", sweep)
	if d < 0 {
		return 0, fmt.Errorf("%s: %v < 0", op, d)
	}
	tok := newToken()
	var total time.Duration
	err := s.run(ctx, op, txOptions{}, func(tx *txn) error {
		var err error
		total, err = tx.updateElapsed(ctx, sweep, tok, func(sw *results.Sweep) { sw.Elapsed += d.Seconds() })
		return err
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// TickElapsed accounts wall-clock time to the sweep's budget, counting the
// time any process runs the sweep once, however many run it at once: in
// one transaction it adds to Elapsed the time since the sweep's last tick
// (ElapsedAt), by whichever process, when that is at most gap, and sets
// ElapsedAt, unless it would go back. The times are the database's now(),
// so processes whose clocks disagree count alike; the now argument is
// ignored. It returns the new total.
func (s *Store) TickElapsed(ctx context.Context, sweep string, now time.Time, gap time.Duration) (time.Duration, error) {
	tok := newToken()
	var total time.Duration
	err := s.run(ctx, fmt.Sprintf("tick elapsed time of sweep %q", sweep), txOptions{}, func(tx *txn) error {
		var err error
		total, err = tx.updateElapsed(ctx, sweep, tok, func(sw *results.Sweep) {
			now := tx.now
			if d := now.Sub(sw.ElapsedAt); !sw.ElapsedAt.IsZero() && d > 0 && d <= gap {
				sw.Elapsed += d.Seconds()
			}
			if now.After(sw.ElapsedAt) {
				sw.ElapsedAt = now
			}
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// updateElapsed rewrites the sweep's record through fn, with token tok,
// and returns its Elapsed. When an earlier attempt committed (its token is
// the record's), it returns the Elapsed recorded.
func (tx *txn) updateElapsed(ctx context.Context, sweep, tok string, fn func(*results.Sweep)) (time.Duration, error) {
	var (
		rec []byte
		wid *string
	)
	err := tx.QueryRow(ctx, `SELECT record, write_id FROM sweep_sweeps WHERE name = $1 FOR NO KEY UPDATE`, sweep).Scan(&rec, &wid)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && sweep == "") {
		return 0, tx.noSweep(ctx, sweep)
	}
	if err != nil {
		return 0, err
	}
	sw, err := decodeSweep(sweep, rec)
	if err != nil {
		return 0, err
	}
	if tx.lost && wid != nil && *wid == tok {
		return seconds(sw.Elapsed), nil
	}
	fn(sw)
	if err := tx.putSweep(ctx, sw, tok); err != nil {
		return 0, err
	}
	return seconds(sw.Elapsed), nil
}

// seconds converts seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
