package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// This file is the whole layout of a results database in PostgreSQL.
// Nothing else in the package creates or alters a table.
//
// Every table is named sweep_*, so the store shares a database (or a
// PostgreSQL schema) with other applications. Names are unqualified: the
// tables are found through the connection's search_path, and created in
// its current_schema() (public by default; set search_path in the
// connection string to use another).
//
//	sweep_schema       one row: the schema version (schemaVersion)
//	sweep_sweeps       one row a sweep
//	  name             text, the primary key (COLLATE "C": byte order, as bbolt's)
//	  record           bytea: JSON of results.Sweep (without Spec and Canonical),
//	                   as encoding/json writes it (bytea, not jsonb, which would
//	                   reorder keys)
//	  spec, canonical  bytea: the spec as written, its canonical form
//	  metric, keep     the record's Metric and Keep, which Finish ranks by
//	                   without decoding the record (its Input is large)
//	  write_id         (v2) the token of the last write that must happen once
//	                   (SetBest, AddElapsed, TickElapsed, EnsureSweep, Load)
//	  write_added      (v2) the trial numbers that EnsureSweep write added
//	sweep_trials       one row a trial
//	  sweep, number    the primary key; sweep references sweep_sweeps, ON DELETE CASCADE
//	  key              UNIQUE (sweep, key)
//	  status           the record's Status
//	  owner_id         the lease's Owner.ID; NULL without a lease
//	  heartbeat        timestamptz: the lease's Heartbeat; NULL without a lease
//	  attempts         the record's Attempts
//	  val_acc, val_loss  float8: a done trial's metrics, NULL for the others: the
//	                   ranking of kept models and of `sweep ls`
//	  record           bytea: JSON of results.Trial without Decisions (results'
//	                   encoding: Params keep their order, NaN metrics are strings)
//	  write_id         (v2) the token of the last write that must happen once
//	                   (a claim, Pause, Release, Finish, a prune, EnsureSweep's insert)
//	  grp              (v3) the record's Group: 0 for a trial of no group
//	sweep_histories    (sweep, number) -> bytea: results.EncodeHistory
//	sweep_checkpoints  (sweep, number) -> bytea: results.EncodeCheckpoint, of each
//	                   unfinished trial that has one (a paused trial always has)
//	sweep_models       (sweep, number) -> bytea: results.EncodeModel, of the best
//	                   Keep done trials
//	sweep_decisions    (sweep, number) -> bytea: results.EncodeDecisions, at most
//	                   MaxDecisions records
//
// The last four reference sweep_trials (sweep, number) ON DELETE CASCADE.
// Their values are the encodings the bbolt store keeps, so `sweep copy`
// moves them byte for byte. Checkpoints and models are stored without
// compression (STORAGE EXTERNAL): weights do not compress.
//
// Times: every time a write records (Created, Started, Finished, the
// lease's Claimed and Heartbeat, the sweep's ElapsedAt) is the database's
// now(), read in the writing transaction; a record loaded by Load keeps its
// own.
//
// Indexes: sweep_trials_claimable (pending and interrupted trials, by
// number: what a claim takes first), sweep_trials_running (running trials:
// stale leases, Running, `sweep ls`), and (v2) sweep_trials_rank_acc and
// sweep_trials_rank_loss (done trials in the order of results.LessMetrics
// for either metric, NaN last: the best Keep are an index scan), and (v3)
// sweep_trials_group (the trials of a group, by number: what ClaimGroup
// locks, and the sweep's last group for EnsureSweep).
//
// Invariants (Check verifies them): a sweep's record decodes, names it and
// agrees with its metric and keep columns; trial numbers are 1..N, each
// record decodes, has its row's number, key, status, attempts and group
// (not negative); a running trial, and only a running one, has a lease,
// whose owner and heartbeat are its row's; a done trial's row has its
// metrics; the
// adaptive state is consistent (as the bbolt store's: Rung = len(Evals),
// ...); a paused trial has a checkpoint, checkpoints are of unfinished
// trials, models of done ones, and all decode; Best and every test
// evaluation name a done trial.

// schemaVersion is the version this code reads and writes; a database of a
// higher one is refused with ErrSchema, one of a lower one migrated.
const schemaVersion = 3

// migrations[v-1] raises a database from version v-1 to v, in the
// transaction (holding lockSchema) that records v.
var migrations = []string{
	// 1: the core tables.
	`CREATE TABLE sweep_schema (
		one     boolean PRIMARY KEY DEFAULT true CHECK (one),
		version integer NOT NULL
	);
	CREATE TABLE sweep_sweeps (
		name      text COLLATE "C" PRIMARY KEY,
		record    bytea NOT NULL,
		spec      bytea NOT NULL,
		canonical bytea NOT NULL,
		metric    text NOT NULL,
		keep      integer NOT NULL
	);
	CREATE TABLE sweep_trials (
		sweep     text COLLATE "C" NOT NULL REFERENCES sweep_sweeps (name) ON DELETE CASCADE,
		number    integer NOT NULL,
		key       text COLLATE "C" NOT NULL,
		status    text NOT NULL,
		owner_id  text,
		heartbeat timestamptz,
		attempts  integer NOT NULL,
		val_acc   float8,
		val_loss  float8,
		record    bytea NOT NULL,
		PRIMARY KEY (sweep, number),
		UNIQUE (sweep, key)
	);
	CREATE INDEX sweep_trials_claimable ON sweep_trials (sweep, number) WHERE status IN ('pending', 'interrupted');
	CREATE INDEX sweep_trials_running ON sweep_trials (sweep, number) WHERE status = 'running';
	CREATE TABLE sweep_histories (
		sweep  text COLLATE "C" NOT NULL,
		number integer NOT NULL,
		data   bytea NOT NULL,
		PRIMARY KEY (sweep, number),
		FOREIGN KEY (sweep, number) REFERENCES sweep_trials (sweep, number) ON DELETE CASCADE
	);
	CREATE TABLE sweep_checkpoints (
		sweep  text COLLATE "C" NOT NULL,
		number integer NOT NULL,
		data   bytea NOT NULL,
		PRIMARY KEY (sweep, number),
		FOREIGN KEY (sweep, number) REFERENCES sweep_trials (sweep, number) ON DELETE CASCADE
	);
	ALTER TABLE sweep_checkpoints ALTER COLUMN data SET STORAGE EXTERNAL;
	CREATE TABLE sweep_models (
		sweep  text COLLATE "C" NOT NULL,
		number integer NOT NULL,
		data   bytea NOT NULL,
		PRIMARY KEY (sweep, number),
		FOREIGN KEY (sweep, number) REFERENCES sweep_trials (sweep, number) ON DELETE CASCADE
	);
	ALTER TABLE sweep_models ALTER COLUMN data SET STORAGE EXTERNAL;
	CREATE TABLE sweep_decisions (
		sweep  text COLLATE "C" NOT NULL,
		number integer NOT NULL,
		data   bytea NOT NULL,
		PRIMARY KEY (sweep, number),
		FOREIGN KEY (sweep, number) REFERENCES sweep_trials (sweep, number) ON DELETE CASCADE
	)`,

	// 2: write tokens, so that a call whose COMMIT's outcome was lost
	// (the connection died after sending it) recognises its own write
	// when it retries instead of applying it twice (see Store.run); and
	// the ranking indexes, so that Finish finds the best Keep done trials
	// of a large sweep without sorting them all.
	`ALTER TABLE sweep_sweeps ADD COLUMN write_id text, ADD COLUMN write_added integer[];
	ALTER TABLE sweep_trials ADD COLUMN write_id text;
	CREATE INDEX sweep_trials_rank_acc ON sweep_trials
		(sweep, (val_acc = 'NaN'), val_acc DESC, (val_loss = 'NaN'), val_loss, number) WHERE status = 'done';
	CREATE INDEX sweep_trials_rank_loss ON sweep_trials
		(sweep, (val_loss = 'NaN'), val_loss, number) WHERE status = 'done'`,

	// 3: trial groups (results.Trial.Group), a column so that ClaimGroup
	// locks a group's members, and EnsureSweep finds the last group,
	// without decoding records. Records written before lack the field
	// (0); one that carries it (a hand-made or future row) gives it. A
	// record that does not decode is left at 0 for Check to report.
	`ALTER TABLE sweep_trials ADD COLUMN grp integer NOT NULL DEFAULT 0;
	DO $$
	DECLARE r record;
	BEGIN
		FOR r IN SELECT sweep, number, record FROM sweep_trials WHERE position('"group"'::bytea IN record) > 0 LOOP
			BEGIN
				UPDATE sweep_trials SET grp = coalesce((convert_from(r.record, 'UTF8')::jsonb ->> 'group')::integer, 0)
					WHERE sweep = r.sweep AND number = r.number;
			EXCEPTION WHEN others THEN
				NULL;
			END;
		END LOOP;
	END $$;
	CREATE INDEX sweep_trials_group ON sweep_trials (sweep, grp, number) WHERE grp <> 0`,
}

// tables lists every table, parents first.
var tables = []string{"sweep_schema", "sweep_sweeps", "sweep_trials", "sweep_histories", "sweep_checkpoints", "sweep_models", "sweep_decisions"}

// rankOrder is the ORDER BY of done trials, best first, by
// results.LessMetrics: the metric (NaN last: PostgreSQL sorts NaN above
// every number), then val_loss, then the number. The rank indexes follow
// it.
func rankOrder(maximize bool) string {
	if maximize {
		return `(val_acc = 'NaN'), val_acc DESC, (val_loss = 'NaN'), val_loss, number`
	}
	return `(val_loss = 'NaN'), val_loss, number`
}

// Advisory locks (transaction-scoped: released at commit or rollback),
// in their two-int4 form: (kind, hashtext of the current schema's name and
// the sweep's), so that the sweep tables of two PostgreSQL schemas of one
// database do not serialise each other. A hash collision only serialises
// more.
const (
	// lockSchema serialises schema creation and migrations ("swsc").
	lockSchema int32 = 0x73777363
	// lockAdaptive serialises EnsureSweep, ClaimNext, Prune and Load of a
	// sweep: trial numbering and the scheduler's decisions ("swad").
	lockAdaptive int32 = 0x73776164
	// lockModels serialises the Finish of done trials of a sweep: the
	// choice of the kept models ("swmo").
	lockModels int32 = 0x73776d6f
)

// lockSQL takes advisory lock ($1, key $2) until the transaction ends.
const lockSQL = `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '') || '/' || $2))`

// lockSweep takes the advisory lock kind of sweep until the transaction
// ends.
func (tx *txn) lockSweep(ctx context.Context, kind int32, sweep string) error {
	_, err := tx.Exec(ctx, lockSQL, kind, sweep)
	return err
}

// schemaState reads the schema version: found false if the database has no
// sweep_schema table (in its search_path).
func schemaState(ctx context.Context, tx pgx.Tx) (version int, found bool, err error) {
	// A scan of pg_class rather than to_regclass: a lookup by name that
	// misses leaves a negative entry in the backend's catalog cache, which
	// a transaction that then waits for lockSchema while another creates
	// the table would still believe (an advisory lock does not process
	// catalog invalidations); a statement's scan sees what has committed.
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class
		WHERE relname = 'sweep_schema' AND relnamespace = ANY (
			SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY (current_schemas(false))))`).Scan(&found); err != nil || !found {
		return 0, false, err
	}
	err = tx.QueryRow(ctx, `SELECT version FROM sweep_schema`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, true, results.Corruptf("the sweep_schema table is empty")
	}
	return version, true, err
}

// migrate brings the database's schema to schemaVersion: it creates it if
// absent (only when create is set: else ErrNotFound), runs the migrations
// a database of an older version lacks, and refuses a newer one
// (ErrSchema). Work on the schema is done under lockSchema, so concurrent
// first opens create it once.
func migrate(ctx context.Context, tx pgx.Tx, create bool) error {
	v, found, err := schemaState(ctx, tx)
	if err != nil {
		return err
	}
	if err := checkVersion(v, found, create); err != nil || (found && v == schemaVersion) {
		return err
	}
	if _, err := tx.Exec(ctx, lockSQL, lockSchema, ""); err != nil {
		return err
	}
	// Read again under the lock: another process may have done it.
	if v, found, err = schemaState(ctx, tx); err != nil {
		return err
	}
	if err := checkVersion(v, found, create); err != nil || (found && v == schemaVersion) {
		return err
	}
	return migrateTo(ctx, tx, v, schemaVersion)
}

// migrateTo runs the migrations from version from (0: none) to version to
// and records to, in tx, which holds lockSchema.
func migrateTo(ctx context.Context, tx pgx.Tx, from, to int) error {
	for v := from + 1; v <= to; v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migrate the schema to version %d: %w", v, err)
		}
	}
	var err error
	if from == 0 {
		_, err = tx.Exec(ctx, `INSERT INTO sweep_schema (version) VALUES ($1)`, to)
	} else {
		_, err = tx.Exec(ctx, `UPDATE sweep_schema SET version = $1`, to)
	}
	return err
}

// checkVersion refuses a schema this code cannot use: absent (unless it
// may create it), newer, or of no version.
func checkVersion(v int, found, create bool) error {
	switch {
	case !found && !create:
		return fmt.Errorf("%w: the database holds no sweep results (no sweep_schema table in its search_path)", results.ErrNotFound)
	case !found:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("%w: schema version %d was written by a newer sweep (this one reads up to %d)", results.ErrSchema, v, schemaVersion)
	case v < 1:
		return results.Corruptf("schema version %d", v)
	}
	return nil
}
