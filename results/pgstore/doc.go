// Package pgstore is the results store (results.Store) in a PostgreSQL
// database that workers on many hosts share: sweeps, trials, their leases
// and histories, the latest checkpoint of each unfinished trial, the final
// weights of the best trials, and an adaptive sweep's decisions. It keeps
// every guarantee of the bbolt store (package results/boltstore, whose
// documentation holds the whole contract, adaptive search included); what
// differs is said here.
//
// # Tables
//
// schema.go names every table, column and index, and the migrations. The
// tables are named sweep_*, so the store shares a database with other
// applications; they live in the connection's current_schema() (set
// search_path in the connection string to choose another PostgreSQL
// schema). Records are the JSON the bbolt store writes, in bytea (jsonb
// would reorder Params' keys); histories, checkpoints, models and decision
// records are results' binary encodings, so `sweep copy` moves a sweep
// between the stores byte for byte. The columns beside a trial's record
// (status, lease owner and heartbeat, attempts, a done trial's metrics)
// are what claims, `sweep ls` and the ranking of kept models read, so
// none of them decodes every trial.
//
// The schema is versioned (schemaVersion) and built by an ordered list of
// migrations. Open creates it, or migrates an older one, in a transaction
// holding an advisory lock, so concurrent first opens are safe; a database
// of a newer version is refused (ErrSchema), by Open and by every method
// (a newer sweep may migrate it under a running one). OpenExisting creates
// nothing: ErrNotFound when the schema is absent.
//
// # Leases, clocks and fencing
//
// A claim is one transaction: the lowest-numbered pending or interrupted
// trial not locked by a concurrent claim (FOR UPDATE SKIP LOCKED: workers
// never queue behind each other), else a running trial whose lease the
// caller's stale function finds stale (running trials are few: one per
// worker), locked and checked again before it is taken.
//
// ClaimGroup starts as a claim does; when the trial it found has a group
// (the grp column), it locks the group's unfinished members, by number,
// FOR UPDATE SKIP LOCKED, and takes the group only if it locked every one
// of them and each is claimable on its locked row; otherwise the group is
// passed over, its locks released (a savepoint rolled back), and the next
// trial not of a passed group looked at. So concurrent claims never split
// a group and never wait for each other; when the only work left was a
// group locked by another transaction, the whole transaction is tried
// again after a backoff rather than return ErrNoWork. SaveCheckpoints
// locks its trials' rows in the order of their numbers, as Heartbeat does.
//
// Every time the store records (Created, Started, Finished, the lease's
// Claimed and Heartbeat, the sweep's ElapsedAt) is the database's now(),
// the time of the writing transaction: the now arguments of the methods
// are ignored, so that hosts whose clocks disagree time leases alike.
// Each transaction measures the offset between the database's clock and
// this process's (clock_timestamp() against the midpoint of the round
// trip, rounded to 10 ms), and the lease times it returns, in Claim's and
// ClaimNext's stale argument, Trials, Running, Trial, Dump and decide's
// trials, are rebased by it: a staleness rule comparing them with
// time.Now() measures the database's time, and a database on the same
// host gives back the times it recorded. A sweep's Active flag
// (Sweeps) and TickElapsed's gap rule use the database's clock directly.
//
// Every write of a running trial (SaveCheckpoint, Heartbeat, Pause,
// Finish, Release) locks the trial's row (SELECT ... FOR UPDATE) and
// checks results.Held: the owner's id and, when the caller gives it, its
// attempt (a fencing token), so that a worker presumed dead and reclaimed
// writes nothing when it wakes. It locks the row only if the trial is
// running: a stray write of a lease lost never hides a pending or
// interrupted trial from a claim, which skips locked rows.
//
// # Serialisation
//
// EnsureSweep, ClaimNext, Prune and Load of a sweep take an advisory
// transaction lock keyed on the sweep's name (and the PostgreSQL schema
// of its tables): trial numbers are the highest plus one, a decision and
// its application are atomic, and a paused trial is promoted once from a
// rung (checked again on its locked row). The finishes of done trials
// take another, so that the choice of the Keep models kept is serialised.
// Other writes lock only the rows they write (a trial's FOR UPDATE, a
// sweep's FOR NO KEY UPDATE, which lets new trials reference it
// meanwhile). Every transaction is READ COMMITTED but Dump's, Check's and
// Sweeps', which read one snapshot (REPEATABLE READ).
//
// # Connection loss and restarts
//
// Each method is one transaction, run in a retry loop: when the server
// cannot be reached, or the connection dies (a restart, a failover, a
// network fault: connection errors, SQLSTATE class 08, 57P01-57P03,
// and serialisation failures and deadlocks, 40001 and 40P01), the whole
// transaction is tried again on a new connection after a backoff (50 ms
// doubling to 2 s, with jitter), until ctx ends or Options.Timeout
// (DefaultTimeout) has passed; then the error wraps
// results.ErrUnavailable, naming the operation and the database. TCP
// keepalives find a peer that vanished within about 30 s.
//
// A COMMIT whose answer is lost may have committed. The writes that must
// not happen twice (claims, a group's claim included, Finish, Pause,
// Release, prunes, SetBest, AddElapsed, TickElapsed, EnsureSweep, Load)
// write a random token with their rows (write_id); a retry after a lost
// COMMIT looks for its token first and, finding it, returns what the first
// attempt did (the trials it claimed, the numbers it added) rather than
// doing it again. The others (SaveCheckpoint, SaveCheckpoints, Heartbeat)
// are idempotent. A call that gives up after a
// lost COMMIT says that its write may have committed.
//
// # Errors
//
// Errors wrap the results sentinels (ErrNotFound, ErrNoSweep, ErrNoTrial,
// ErrCorrupt, ErrSchema, ErrLeaseLost, ErrNoWork and ErrWait,
// ErrDuplicateKey, ErrUnavailable, ErrExists, and ErrDiskFull for the
// server's disk_full) with the operation, the sweep and trial, and the
// database as Location gives it: the connection string with its password
// masked (Redact). No error and no Location holds the password, whatever
// the driver's message quoted. A record that does not decode is a
// *results.CorruptError whose Path is that masked connection string.
//
// # Privileges
//
// The first Open of a database, and the first after an upgrade of sweep,
// creates or migrates the tables: its role needs CONNECT on the database
// and USAGE and CREATE on the schema (PostgreSQL 15 grants CREATE on
// public to its owner only). Afterwards a role needs CONNECT, USAGE on the
// schema, SELECT on sweep_schema, and SELECT, INSERT, UPDATE and DELETE on
// the other sweep_* tables (COPY FROM, used by EnsureSweep and Load, is
// INSERT; SELECT ... FOR UPDATE and FOR NO KEY UPDATE need UPDATE; LOCK
// TABLE ... IN ROW EXCLUSIVE MODE, in CheckWritable, needs one of them).
// TestLeastPrivileges runs a sweep as such a role. Advisory locks and now() need no
// grant. CheckWritable verifies these privileges.
//
// # Ownership and concurrency
//
// Every value returned is a copy owned by the caller, and so are the
// trials given to ClaimNext's decide and Prune's choose; byte slices
// passed in are only read, during the call. A Store is safe for concurrent
// use; its connections are a pgxpool.Pool, which reconnects by itself. Any
// number of Stores, in any number of processes on any hosts, may use the
// same database. decide and choose run inside the transaction, holding the
// sweep's lock: they must be quick and must not call the Store.
package pgstore
