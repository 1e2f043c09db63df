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
// EnsureSweep adds each trial key once, Claim and ClaimNext hand a trial to
// one owner (ClaimGroup a whole group), and SaveCheckpoint,
// SaveCheckpoints, Heartbeat, Pause, Finish and Release check that the
// caller still holds the trial's lease (ErrLeaseLost otherwise).
// Leases are data (owner, heartbeat); whether a lease is stale is the
// caller's decision, passed to Claim and ClaimNext.
//
// # Adaptive search
//
// The store knows nothing of how trials are chosen: a scheduler (ASHA,
// Hyperband, in package search) decides, and the store records and
// applies its decisions, so that the whole state of an adaptive sweep is
// in the file and a sweep resumed after kill -9 rebuilds its scheduler
// from it.
//
// A trial of an adaptive sweep trains towards its Target (epochs or
// iterations, the scheduler's unit). Reaching it below the full length, it
// pauses (Pause): status Paused, with its checkpoint, its evaluation at
// the rung appended to Evals (Rung = len(Evals)). A paused trial is not
// finished, so a sweep with paused trials is not over, but Claim does not
// take it: ClaimNext promotes it or Prune (or a Plan's Prune) ends it as
// Pruned, final, its checkpoint deleted.
//
// ClaimNext is the claim of an adaptive sweep: in its write transaction it
// takes claimable work as Claim does, and otherwise calls the caller's
// decide function with every trial and applies the Plan it returns (start
// a new trial, promote a paused one, wait, or finish; prune paused ones).
// The decision and its application are one transaction, so two processes
// never start the same trial or promote the same trial from the same rung:
// the second decides from the history the first left. Promoted marks a
// trial promoted out of its rung until it pauses at the next one.
//
// Each decision's record, opaque JSON from the scheduler, is kept with the
// trial it concerns (Trial.Decisions, at most MaxDecisions), stored apart
// from the trial records so that listing trials and ClaimNext's reading of
// every trial decode none; Store.Trial returns them.
//
// A budget is measured against Sweep.Elapsed, the sweep's wall-clock time
// over all its runs, which AddElapsed and TickElapsed account (TickElapsed
// counts the time several processes run the sweep at once once).
//
// # Groups
//
// Trials that share their minibatches train side by side, as a group
// (Trial.Group, issue 16). Groups are made when trials are created:
// EnsureSweep takes each given trial's Group as a label, and the added
// trials that share a label form a new group, numbered after the sweep's
// last (results.RenumberGroups); a group never changes after. ClaimGroup
// claims a group as one: the lowest-numbered claimable trial and, when it
// has a group, every unfinished member with it, only if all of them are
// claimable (else the group is passed over); SaveCheckpoints checkpoints
// several members in one transaction, all or none. Everywhere else a
// member is a trial like any other.
//
// # Kept weights
//
// Finish stores a done trial's weights only while it ranks within the
// sweep's best Keep done trials (by Less), and deletes those pushed out,
// so a sweep's file holds at most Keep models.
//
// # Test evaluations
//
// Sweep.Best is the latest selected best trial; Sweep.Evaluations records
// every test-set evaluation (one per SetBest), so a sweep extended after
// its best was selected shows that its test set was used again
// (Sweep.TestSetUses).
//
// # Errors
//
// Errors wrap one of the sentinels (ErrNotFound, ErrNoSweep, ErrNoTrial,
// ErrLocked, ErrCorrupt, ErrSchema, ErrLeaseLost, ErrNoWork and its kind
// ErrWait, ErrDuplicateKey, ErrDiskFull) with the operation, the file and
// the sweep and trial concerned.
//
// Bad bytes, in a record or in the file's pages, give a *CorruptError
// (wrapping ErrCorrupt) reading "corrupt results database FILE: what",
// from every method, never a panic or a raw bbolt message: bbolt's errors
// are mapped where they enter (ErrInvalid, ErrChecksum, ...), its panics
// and memory faults on damaged pages recovered in the transaction wrapper,
// and a "not found" answer is checked against a scan of the bucket first
// (a damaged page can make a lookup miss). A write that fails for lack of
// room (ENOSPC, or EFBIG past a file size limit) gives ErrDiskFull naming
// the file; bbolt rolled the transaction back, so the file is as it was.
//
// # Damaged files
//
// bbolt trusts the pages it reads: a damaged page can make it read outside
// the file, panic, or follow a cycle of pages without end (and its own
// check, Tx.Check, can crash the process on one). So a Store checks the
// meta pages of the file at every transaction (a truncated file is refused
// before bbolt maps it), and walks every page with bounds checks
// (bboltfile.go) the first time it uses a file, before bbolt reads any of
// it, and again if the file is replaced or rolled back. Damage done behind
// bbolt's back after that walk is seen by Check, or by the next Store. The
// walk reads every page's header and keys, not the values: about 65 ms on
// a 112 MB file on a loaded 2-core machine (BenchmarkCheck/FirstRead),
// once a Store.
//
// Check checks the whole file: the walk, bbolt's Tx.Check, and every
// invariant of the schema (see Check), and reports every problem at once.
// EnsureSweep, a run's first write, runs the same check in its write
// transaction and refuses a file that fails it, so `sweep run` never
// writes into a damaged file; CheckWritable runs it on its own, opening
// the file for writing but writing nothing, for a caller that wants to
// refuse before it loads data. Later writes of a run trust the file
// EnsureSweep checked.
//
// # Ownership and concurrency
//
// Every value returned is a copy owned by the caller (no byte slice aliases
// the database), and so are the trials given to ClaimNext's decide and
// Prune's choose. Byte slices passed in (Spec, Checkpoint.Data, tensors,
// decision records) are only read, during the call. A Store is safe for
// concurrent use; any number of Stores, in any number of processes on one
// host, may use the same file (flock does not work across network file
// systems). ClaimNext's decide and Prune's choose run inside a write
// transaction, holding the file's lock: they must be quick and must not
// call the Store.
package results
