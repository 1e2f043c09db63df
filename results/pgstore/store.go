package pgstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sweep-dev/sweep/results"
)

// Options configure a Store.
type Options struct {
	// Timeout bounds how long one call retries, with backoff, a database
	// that cannot be reached or whose connection was lost, before it
	// returns an error wrapping results.ErrUnavailable. 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 30 * time.Second

// The backoff between two attempts of a call: from retryMin, doubling up
// to retryMax, each wait drawn uniformly from its upper half (jitter, so
// that workers cut off together do not come back together).
const (
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

// skewGrain is the precision of the clock offset by which lease times are
// rebased (txn.rebase): the offset measured is rounded to it, so that a
// database whose clock agrees with the caller's within a few milliseconds
// (the same host, NTP) gives back the times it recorded, exactly.
const skewGrain = 10 * time.Millisecond

// Store is a results database in PostgreSQL: a pool of connections to it
// (pgxpool), each method one transaction, retried while the server cannot
// be reached (see doc.go). A Store is safe for concurrent use, and any
// number of Stores, in any number of processes on any hosts, may use the
// same database.
type Store struct {
	pool    *pgxpool.Pool
	loc     string   // the DSN with its password masked: what errors name
	secrets []string // the DSN's password, in the forms it may take in a message
	timeout time.Duration
}

var _ results.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// URL or a
// key=value string, as libpq takes; every parameter, sslmode included,
// passes through to pgx), creating the schema if the database has none
// and migrating an older one, under an advisory lock, so that concurrent
// first opens are safe. It refuses a schema of a newer sweep (ErrSchema).
// A server it cannot reach is retried for o.Timeout (ErrUnavailable).
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	return open(ctx, dsn, o, true)
}

// OpenExisting is Open for a database that must already hold the schema:
// an error wrapping ErrNotFound if it does not (nothing is created). A
// schema of an older version is migrated, as by Open.
func OpenExisting(ctx context.Context, dsn string, o Options) (*Store, error) {
	return open(ctx, dsn, o, false)
}

func open(ctx context.Context, dsn string, o Options, create bool) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	s := &Store{loc: Redact(dsn), timeout: o.Timeout}
	op := fmt.Sprintf("open results %q", s.loc)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		s.secrets = rawSecrets(dsn)
		// pgx's message masks the password on a best-effort basis only.
		return nil, s.scrub(fmt.Errorf("%s: bad connection string: %w", op, err))
	}
	s.secrets = secrets(dsn, cfg.ConnConfig.Password)
	// Detect a dead peer within about half a minute rather than the
	// system's default (minutes), so a call retries rather than hangs.
	d := &net.Dialer{Timeout: cfg.ConnConfig.ConnectTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cfg.ConnConfig.DialFunc = d.DialContext
	if s.pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
		return nil, s.scrub(fmt.Errorf("%s: %w", op, err))
	}
	err = s.run(ctx, "open results", txOptions{noSchema: true}, func(tx *txn) error {
		return migrate(ctx, tx.Tx, create)
	})
	if err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// Location returns the connection string with its password masked.
func (s *Store) Location() string { return s.loc }

// Close closes the store's connections. The Store may not be used after.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// txn is one transaction of a Store's method.
type txn struct {
	pgx.Tx
	s *Store
	// now is the database's now(), the transaction's time: every time a
	// write records.
	now time.Time
	// skew is the database's clock minus this process's, measured at the
	// start of the transaction and rounded to skewGrain.
	skew time.Duration
	// lost is set when an earlier attempt of the call sent COMMIT and lost
	// its connection before the answer: that attempt may have committed,
	// and a write that must happen once checks its token first.
	lost bool
}

// rebase returns the database time t on this process's clock (zero stays
// zero).
func (tx *txn) rebase(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(-tx.skew)
}

// rebaseLease rebases t's lease (a copy: t.Lease may be shared).
func (tx *txn) rebaseLease(t *results.Trial) {
	if t.Lease == nil {
		return
	}
	l := *t.Lease
	l.Claimed, l.Heartbeat = tx.rebase(l.Claimed), tx.rebase(l.Heartbeat)
	t.Lease = &l
}

// txOptions say how run begins a transaction.
type txOptions struct {
	// snapshot: REPEATABLE READ (one snapshot for the whole transaction)
	// rather than READ COMMITTED.
	snapshot bool
	// readOnly: READ ONLY; writable: READ WRITE explicitly (against a
	// default_transaction_read_only role or a standby); else the server's
	// default.
	readOnly, writable bool
	// noSchema: the schema may be absent (Open): do not read its version.
	noSchema bool
}

// errRollback ends a transaction that must write nothing: run rolls it
// back and returns nil.
var errRollback = errors.New("rolled back")

// commitLost is the error of a COMMIT sent on a connection that died
// before its answer came: the transaction may or may not have committed.
type commitLost struct{ err error }

func (e *commitLost) Error() string {
	return "the connection was lost during COMMIT (the transaction may have committed): " + e.err.Error()
}
func (e *commitLost) Unwrap() error { return e.err }

// run runs fn in a transaction and commits it, retrying the whole
// transaction, with backoff, when the server could not be reached or the
// connection was lost (retryable), until ctx ends or the Store's timeout
// passes: then ErrUnavailable. fn must be safe to run again: it does
// everything it decides from what it reads in its transaction.
//
// A COMMIT whose answer was lost may have committed. The next attempts
// then run with txn.lost set, and each method whose write must not happen
// twice writes a token (newToken, column write_id) with it, and looks for
// its token first when lost is set: found, the earlier attempt committed,
// and the method returns what it did.
func (s *Store) run(ctx context.Context, op string, o txOptions, fn func(*txn) error) error {
	start := time.Now()
	deadline := start.Add(s.timeout)
	wait := retryMin
	lost := false
	for n := 1; ; n++ {
		err := s.attempt(ctx, deadline, o, lost, fn)
		if err == nil || err == errRollback {
			return nil
		}
		var cl *commitLost
		if errors.As(err, &cl) {
			lost = true
		}
		if cerr := ctx.Err(); cerr != nil {
			if !errors.Is(err, cerr) {
				err = errors.Join(cerr, err)
			}
			if n > 1 { // it ended while the call waited for the server
				return s.unavailable(op, n, start, lost, err)
			}
			return s.fail(op, err)
		}
		// ctx lives on: a deadline exceeded is the call's own (Acquire's).
		if !retryable(err) && !errors.Is(err, context.DeadlineExceeded) {
			return s.fail(op, err)
		}
		// The last wait ends just before the deadline, for a last attempt.
		sleep := min(wait/2+rand.N(wait/2+1), time.Until(deadline)-retryMin/5)
		if sleep <= 0 {
			return s.unavailable(op, n, start, lost, err)
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return s.unavailable(op, n, start, lost, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
	}
}

// attempt runs fn in one transaction. Acquiring a connection (and
// connecting) is bounded by deadline; the statements by ctx.
func (s *Store) attempt(ctx context.Context, deadline time.Time, o txOptions, lost bool, fn func(*txn) error) error {
	actx, cancel := context.WithDeadline(ctx, deadline)
	conn, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Release()
	opts := pgx.TxOptions{}
	if o.snapshot {
		opts.IsoLevel = pgx.RepeatableRead
	}
	switch {
	case o.readOnly:
		opts.AccessMode = pgx.ReadOnly
	case o.writable:
		opts.AccessMode = pgx.ReadWrite
	}
	ptx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	// A no-op after a commit; on a dead connection, an error of no use.
	defer ptx.Rollback(context.WithoutCancel(ctx))
	tx := &txn{Tx: ptx, s: s, lost: lost}
	if err := tx.begin(ctx, o.noSchema); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) && ctx.Err() == nil {
			return &commitLost{err}
		}
		return err
	}
	return nil
}

// begin reads the transaction's time and the clocks' offset, and checks
// the schema's version (unless noSchema): a database migrated by a newer
// sweep since the Store was opened is refused (ErrSchema), one whose
// schema is gone is ErrNotFound.
func (tx *txn) begin(ctx context.Context, noSchema bool) error {
	var (
		dbClock time.Time
		v       *int
	)
	q := `SELECT now(), clock_timestamp(), (SELECT version FROM sweep_schema)`
	if noSchema {
		q = `SELECT now(), clock_timestamp(), NULL::integer`
	}
	before := time.Now()
	if err := tx.QueryRow(ctx, q).Scan(&tx.now, &dbClock, &v); err != nil {
		return err
	}
	after := time.Now()
	tx.skew = dbClock.Sub(before.Add(after.Sub(before) / 2)).Round(skewGrain)
	switch {
	case noSchema:
		return nil
	case v == nil:
		return results.Corruptf("the sweep_schema table is empty")
	case *v != schemaVersion:
		if err := checkVersion(*v, true, false); err != nil {
			return err
		}
		return fmt.Errorf("%w: schema version %d, not %d: open the database again to migrate it", results.ErrSchema, *v, schemaVersion)
	}
	return nil
}

// retryable reports whether err means the server could not be reached or
// the connection died (or the transaction lost a serialisation or deadlock
// race, or ClaimGroup found its only work locked: errContended): the
// transaction did not commit, or, for commitLost, may have, and may be
// tried again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up, shutting down, in recovery
			"40001", // serialization_failure
			"40P01", // deadlock_detected
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection_exception
	}
	var cl *commitLost
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.Is(err, errContended), errors.As(err, &cl), pgconn.SafeToRetry(err), errors.As(err, &ne), errors.As(err, &ce),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// unavailable is the error of a call that gave up retrying after n
// attempts: it wraps ErrUnavailable and the last attempt's error.
func (s *Store) unavailable(op string, n int, start time.Time, lost bool, err error) error {
	maybe := ""
	if lost {
		maybe = " (a COMMIT's answer was lost: that attempt may have committed)"
	}
	return s.scrub(fmt.Errorf("%s (results %q): %w: gave up after %d attempts in %v%s: %w",
		op, s.loc, results.ErrUnavailable, n, time.Since(start).Round(time.Millisecond), maybe, err))
}

// fail is the boundary every error of a method crosses: it names the
// operation and the database, turns a corruption found below (whatever
// wraps it) into a *CorruptError naming the database, maps the server's
// errors to the results sentinels, and masks the password.
func (s *Store) fail(op string, err error) error {
	var ce *results.CorruptError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce):
		c := *ce
		if c.Path == "" {
			c.Path = s.loc
		}
		return s.scrub(fmt.Errorf("%s: %w", op, &c))
	case errors.Is(err, results.ErrCorrupt):
		return s.scrub(fmt.Errorf("%s: %w", op, &results.CorruptError{Path: s.loc, Problems: []string{err.Error()}}))
	case errors.As(err, &pe):
		switch pe.Code {
		case "42P01": // undefined_table
			err = fmt.Errorf("%w: the database holds no sweep results, or not all of them (%w)", results.ErrNotFound, err)
		case "3D000": // invalid_catalog_name
			err = fmt.Errorf("%w: %w", results.ErrNotFound, err)
		case "53100": // disk_full
			err = fmt.Errorf("%w on the database server (the write was rolled back): %w", results.ErrDiskFull, err)
		}
	}
	return s.scrub(fmt.Errorf("%s (results %q): %w", op, s.loc, err))
}

// newToken returns a random token identifying one call's write (write_id).
func newToken() string {
	var b [16]byte
	crand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}
