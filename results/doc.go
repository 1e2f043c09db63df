// Package results is the store of sweep: sweeps, trials, their leases and
// per-epoch histories, the latest checkpoint of each unfinished trial, and
// the final weights of the best trials, in one bbolt file.
//
// # Layout
//
// schema.go names every bucket, key and encoding, and the schema version
// (a file of a newer schema is refused with ErrSchema). Trial records are
// JSON, keyed by big-endian trial numbers; histories, checkpoints and
// weights are binary and stored apart from the records, so listing and
// ranking 10,000 trials never decodes a history or a tensor.
//
// # Live access
//
// A Store holds no open file. Each method opens the file, runs one bbolt
// transaction and closes it: writers take bbolt's exclusive flock, readers
// (Sweep, Sweeps, Trials, Trial, Model) open the file read-only and share
// the lock. So `sweep ls` and `sweep leaderboard` read a database while a
// run writes to it, and two runs share one database, each waiting at most
// for the transaction in flight. Waiting for the lock is fair (a turnstile,
// see lock_unix.go) and bounded by Options.Timeout, after which a method
// returns ErrLocked; it also ends when ctx is cancelled.
//
// # Exactly once
//
// Every state change is one transaction that reads before it writes:
// EnsureSweep adds each trial key once, Claim hands a trial to one owner,
// and SaveCheckpoint, Heartbeat, Finish and Release check that the caller
// still holds the trial's lease (ErrLeaseLost otherwise). Leases are data
// (owner, heartbeat); whether a lease is stale is the caller's decision,
// passed to Claim.
//
// # Kept weights
//
// Finish stores a done trial's weights only while it ranks within the
// sweep's best Keep done trials (by Less), and deletes those pushed out,
// so a sweep's file holds at most Keep models.
//
// # Errors
//
// Errors wrap one of the sentinels (ErrNotFound, ErrNoSweep, ErrNoTrial,
// ErrLocked, ErrCorrupt, ErrSchema, ErrLeaseLost, ErrNoWork) with the
// operation, the file and the sweep and trial concerned. Bad bytes, in a
// record or in the file's pages, give ErrCorrupt, not a panic.
//
// # Ownership and concurrency
//
// Every value returned is a copy owned by the caller (no byte slice aliases
// the database). Byte slices passed in (Spec, Checkpoint.Data, tensors) are
// only read, during the call. A Store is safe for concurrent use; any
// number of Stores, in any number of processes on one host, may use the
// same file (flock does not work across network file systems).
package results
