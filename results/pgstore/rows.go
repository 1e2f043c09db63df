package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// The statements that write a trial's row: its columns derive from its
// record (trialColumns). write_id is set by a write that must happen once
// (a token), kept by the others (NULL). grp is written once, with the row:
// a trial's group never changes.
const (
	insertTrialSQL = `INSERT INTO sweep_trials
		(sweep, number, key, status, owner_id, heartbeat, attempts, val_acc, val_loss, record, write_id, grp)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	updateTrialSQL = `UPDATE sweep_trials SET status = $3, owner_id = $4, heartbeat = $5, attempts = $6,
		val_acc = $7, val_loss = $8, record = $9, write_id = coalesce($10, write_id)
		WHERE sweep = $1 AND number = $2`
)

// trialColumns are the columns of a trial's row, from its record.
type trialColumns struct {
	status    string
	owner     *string
	heartbeat *time.Time
	attempts  int
	acc, loss *float64
	group     int
	record    []byte
}

// columns encodes t's record (without its Decisions, stored apart) and
// derives its row's columns.
func columns(t *results.Trial) (trialColumns, error) {
	rec := *t
	rec.Decisions = nil
	b, err := json.Marshal(&rec)
	if err != nil {
		return trialColumns{}, fmt.Errorf("encode trial %d: %w", t.Number, err)
	}
	c := trialColumns{status: string(t.Status), attempts: t.Attempts, group: t.Group, record: b}
	if t.Lease != nil {
		id, hb := t.Lease.Owner.ID, t.Lease.Heartbeat
		c.owner, c.heartbeat = &id, &hb
	}
	if t.Status == results.Done {
		acc, loss := t.ValAcc, t.ValLoss
		c.acc, c.loss = &acc, &loss
	}
	return c, nil
}

// token is a write_id argument: NULL for "".
func token(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertTrial queues the insertion of trial t of sweep in b.
func insertTrial(b *pgx.Batch, sweep string, t *results.Trial, tok string) error {
	c, err := columns(t)
	if err != nil {
		return err
	}
	b.Queue(insertTrialSQL, sweep, t.Number, t.Key, c.status, c.owner, c.heartbeat, c.attempts, c.acc, c.loss, c.record, token(tok), c.group)
	return nil
}

// updateTrial queues the update of trial t's row in b.
func updateTrial(b *pgx.Batch, sweep string, t *results.Trial, tok string) error {
	c, err := columns(t)
	if err != nil {
		return err
	}
	b.Queue(updateTrialSQL, sweep, t.Number, c.status, c.owner, c.heartbeat, c.attempts, c.acc, c.loss, c.record, token(tok))
	return nil
}

// putTrial updates trial t's row.
func (tx *txn) putTrial(ctx context.Context, sweep string, t *results.Trial, tok string) error {
	b := &pgx.Batch{}
	if err := updateTrial(b, sweep, t, tok); err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// upsert is the statement that stores data as trial (sweep, number)'s in
// one of the tables keyed so.
func upsert(table string) string {
	return `INSERT INTO ` + table + ` (sweep, number, data) VALUES ($1, $2, $3)
		ON CONFLICT (sweep, number) DO UPDATE SET data = EXCLUDED.data`
}

// lockTrial returns trial n of sweep, its row locked until the transaction
// ends; ErrNoSweep or ErrNoTrial if there is none.
func (tx *txn) lockTrial(ctx context.Context, sweep string, n int) (*results.Trial, error) {
	var rec []byte
	err := tx.QueryRow(ctx, `SELECT record FROM sweep_trials WHERE sweep = $1 AND number = $2 FOR UPDATE`, sweep, n).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tx.noTrial(ctx, sweep, n)
	}
	if err != nil {
		return nil, err
	}
	return results.DecodeTrial(sweep, n, rec)
}

// heldTrial returns trial n of sweep, its row locked until the
// transaction ends, if it is running under owner's lease (and attempt):
// results.Held, the fencing of every write of a running trial. Only a
// running trial's row is locked: a claim, which skips locked rows, never
// misses a pending or interrupted trial because a stray write of a lost
// lease locked it.
func (tx *txn) heldTrial(ctx context.Context, sweep string, n int, owner results.Owner) (*results.Trial, error) {
	var rec []byte
	err := tx.QueryRow(ctx, `SELECT record FROM sweep_trials
		WHERE sweep = $1 AND number = $2 AND status = 'running' FOR UPDATE`, sweep, n).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		// Not running: read it to say why (or that it does not exist).
		err = tx.QueryRow(ctx, `SELECT record FROM sweep_trials WHERE sweep = $1 AND number = $2`, sweep, n).Scan(&rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, tx.noTrial(ctx, sweep, n)
		}
		if err != nil {
			return nil, err
		}
		t, err := results.DecodeTrial(sweep, n, rec)
		if err != nil {
			return nil, err
		}
		if err := results.Held(t, owner); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: trial %d was not running, and is now", results.ErrLeaseLost, n)
	}
	if err != nil {
		return nil, err
	}
	t, err := results.DecodeTrial(sweep, n, rec)
	if err != nil {
		return nil, err
	}
	if err := results.Held(t, owner); err != nil {
		return nil, err
	}
	return t, nil
}

// heldOnce is heldTrial for a write made at most once, with its token tok:
// done reports that this transaction retries one whose COMMIT was lost
// and that write is in (nothing is left to do; t is nil).
func (tx *txn) heldOnce(ctx context.Context, sweep string, n int, owner results.Owner, tok string) (t *results.Trial, done bool, err error) {
	if tx.lost {
		if done, err := tx.wrote(ctx, sweep, n, tok); done || err != nil {
			return nil, done, err
		}
	}
	t, err = tx.heldTrial(ctx, sweep, n, owner)
	return t, false, err
}

// wrote reports whether the last write of trial n of sweep that set a
// token was tok's: the check of a call whose earlier attempt's COMMIT was
// lost.
func (tx *txn) wrote(ctx context.Context, sweep string, n int, tok string) (bool, error) {
	var same bool
	err := tx.QueryRow(ctx, `SELECT coalesce(write_id = $3, false) FROM sweep_trials WHERE sweep = $1 AND number = $2`, sweep, n, tok).Scan(&same)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return same, err
}

// noTrial is the error of a lookup of trial n that found nothing:
// ErrNoSweep if the sweep does not exist either, else ErrNoTrial giving
// the range of trial numbers.
func (tx *txn) noTrial(ctx context.Context, sweep string, n int) error {
	if err := tx.sweepExists(ctx, sweep); err != nil {
		return err
	}
	var last int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(number), 0) FROM sweep_trials WHERE sweep = $1`, sweep).Scan(&last); err != nil {
		return err
	}
	if last == 0 {
		return fmt.Errorf("%w %d in sweep %q (it has no trials)", results.ErrNoTrial, n, sweep)
	}
	return fmt.Errorf("%w %d in sweep %q (trials are 1..%d)", results.ErrNoTrial, n, sweep, last)
}

// sweepExists returns nil if sweep name exists, else its noSweep error.
func (tx *txn) sweepExists(ctx context.Context, name string) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT true FROM sweep_sweeps WHERE name = $1`, name).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && name == "") {
		return tx.noSweep(ctx, name)
	}
	return err
}

// noSweep is the error of a lookup of sweep name that found nothing,
// listing the sweeps.
func (tx *txn) noSweep(ctx context.Context, name string) error {
	rows, err := tx.Query(ctx, `SELECT name FROM sweep_sweeps ORDER BY name`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("%w %q (the database has no sweeps)", results.ErrNoSweep, name)
	}
	for i, n := range names {
		names[i] = strconv.Quote(n)
	}
	return fmt.Errorf("%w %q (sweeps: %s)", results.ErrNoSweep, name, strings.Join(names, ", "))
}

// decodeSweep decodes the record of sweep name.
func decodeSweep(name string, rec []byte) (*results.Sweep, error) {
	var sw results.Sweep
	if err := json.Unmarshal(rec, &sw); err != nil {
		return nil, results.Corruptf("sweep %q record: %v", name, err)
	}
	if sw.Name != name {
		return nil, results.Corruptf("sweep %q record names sweep %q", name, sw.Name)
	}
	return &sw, nil
}

// checkpoint returns trial n's checkpoint, nil if it has none.
func (tx *txn) checkpoint(ctx context.Context, sweep string, n int) (*results.Checkpoint, error) {
	var b []byte
	err := tx.QueryRow(ctx, `SELECT data FROM sweep_checkpoints WHERE sweep = $1 AND number = $2`, sweep, n).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ck, err := results.DecodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("sweep %q trial %d: %w", sweep, n, err)
	}
	return ck, nil
}

// addDecision appends d (when not empty) to trial n's decision records,
// keeping at most MaxDecisions: the first and the latest. The trial's row
// is locked by the caller.
func (tx *txn) addDecision(ctx context.Context, sweep string, n int, d json.RawMessage) error {
	if len(d) == 0 {
		return nil
	}
	var ds []json.RawMessage
	var b []byte
	err := tx.QueryRow(ctx, `SELECT data FROM sweep_decisions WHERE sweep = $1 AND number = $2`, sweep, n).Scan(&b)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		if ds, err = results.DecodeDecisions(b); err != nil {
			return fmt.Errorf("sweep %q trial %d: %w", sweep, n, err)
		}
	}
	ds = append(ds, d)
	if len(ds) > results.MaxDecisions {
		ds = append(ds[:1], ds[len(ds)-results.MaxDecisions+1:]...)
	}
	v, err := results.EncodeDecisions(ds)
	if err != nil {
		return fmt.Errorf("trial %d: decisions: %w", n, err)
	}
	_, err = tx.Exec(ctx, upsert("sweep_decisions"), sweep, n, v)
	return err
}

// numbers formats trial numbers for messages.
func numbers(ns []int) string {
	ns = slices.Sorted(slices.Values(ns))
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// micros is d in microseconds, PostgreSQL's precision (for an interval
// argument: $n * interval '1 microsecond').
func micros(d time.Duration) int64 { return d.Microseconds() }
