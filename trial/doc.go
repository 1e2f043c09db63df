// Package trial trains one trial (config -> trained net and metrics) and runs
// the pool of workers that trains a sweep's trials concurrently.
//
// # One trial
//
// Train takes a claimed trial (its resolved search.Config, its seed, and its
// last checkpoint when it was interrupted before) and trains it with nn on
// the shared, read-only data set. Its outcome is data, not control flow:
// done (with the best-validation weights to keep), diverged (the loss became
// NaN or Inf; the sweep goes on), failed (an error, or a panic recovered with
// its stack), or interrupted with a checkpoint to resume from. Checkpoints
// are nn.Snapshots in the binary format of codec.go: params, optimiser state,
// RNG state, learning rate, histories and best params, so a resumed trial
// ends bitwise identical to an uninterrupted one.
//
// # The pool
//
// A Pool runs Workers goroutines (errgroup with a limit). Each claims the
// lowest-numbered claimable trial in one store transaction, trains it,
// checkpoints once per epoch, and records the outcome; it stops when nothing
// is left to claim. Claims carry a lease (host, pid, process start time, a
// random id) refreshed by a heartbeat every third of the lease's time to
// live. A running trial whose owner is a gone process on this host is
// reclaimed at once; one owned by another host, once its heartbeat is older
// than the lease's time to live (Staleness). Because claims are
// transactions, two processes on one database never train a trial twice.
// A process that finds its lease taken (it missed its heartbeats for a whole
// lease, and another process reclaimed the trial) leaves the trial to the
// new owner and goes on with others (a LeaseLost event).
//
// Checkpoints are written in the background (a saver per trial, newest
// wins), so training does not wait for the store's synced commits; the
// outcome is recorded only after the last write has landed or been
// cancelled (a write waiting for the lock, or for its next attempt, is
// superseded by the outcome or the release).
//
// When the context is cancelled (Ctrl-C), no new trial is claimed and each
// running trial stops within one iteration, is checkpointed and released as
// interrupted; the store writes that record this use a context that is not
// cancelled, so the database is consistent when Run returns (unless a
// write failed: Run's error says so, joined to the interruption).
//
// # A locked database
//
// Another process may hold the database longer than the store waits for
// it (results.Options.Timeout): its writes then fail with
// results.ErrLocked. The pool tries them again after a backoff (100 ms
// doubling to 5 s, each wait shortened at random by up to half, from a
// source of its own; shorter for leases shorter than a minute): a claim
// until ctx is cancelled; a trial's checkpoint, outcome and release, and
// the heartbeat, for as long as the lease lasts: until a margin (a tenth
// of the TTL) before the TTL has passed since this process last refreshed
// it (its claim, a heartbeat or a checkpoint that landed). Training goes
// on meanwhile; a checkpoint waiting for its next attempt is replaced by a
// newer one. Each refused attempt is reported as a Retrying event. When
// the lease runs out the trial's writes end with ErrLeaseExpired, and the
// trial is handled as a lost lease: left running in the store, to whoever
// reclaims it, while the run goes on. The deadline bounds only retries: a
// first attempt is always made, since the store, not this process's clock,
// says whether the lease is still held. Once ctx is cancelled (Ctrl-C),
// writes are no longer retried: each is attempted once.
//
// # A full disk
//
// The pool reports only what the store holds. When a trial's checkpoint
// cannot be written (a full disk, ENOSPC, or any error other than a locked
// database or a lost lease), training stops and the trial is released as
// interrupted with its newest state; if that write fails too, it is
// released without it (a smaller write, keeping the checkpoint stored
// before), so that it does not stay running; if even that fails, it stays
// running under this process's lease. An outcome that cannot be recorded
// is handled alike. The Interrupted event says whether the store holds a
// checkpoint of the trial and at which epoch and iteration (Saved,
// SavedEpoch, SavedIteration), and whether the trial was released
// (Released; when false, Err says why); Stats counts them (Checkpointed,
// Unreleased). The run then ends with the error (errors.Is(err,
// syscall.ENOSPC) for a full disk), the other running trials being
// released as on Ctrl-C.
//
// # The owner of a lease
//
// OwnerState says what this process can tell about a lease's owner:
// another host's process is ProcessUnknown (only its heartbeat tells); on
// this host a process is ProcessAlive, ProcessStopped (SIGSTOP: it keeps
// its lease but sends no heartbeats; told apart only where /proc exists)
// or ProcessGone (exited, a zombie, or its pid reused, as its start time
// shows). Process checks need unix (owner_unix.go); elsewhere (windows)
// every owner is ProcessUnknown, and leases expire by heartbeat alone.
// Staleness reclaims a gone owner's trials at once, and every other lease,
// a stopped owner's included, once its heartbeat is older than the TTL.
//
// # Reproducibility
//
// A trial's result depends only on its config and seed (derived by search
// from the sweep seed and the trial key), never on which worker or process
// runs it or how often it was interrupted.
//
// # Selection
//
// SelectBest, once every trial has finished, ranks the trials on the
// validation metric only (ties: lower validation loss, then lower trial
// number), evaluates the kept weights of the best on the test set once, and
// records the test accuracy.
//
// # Concurrency
//
// A Pool's Run may be called once at a time. Events are delivered from the
// workers' goroutines and their savers' (Retrying); the callback must be
// safe for concurrent use, and a worker waits while it runs. OwnerState
// and Staleness are safe for concurrent use.
package trial
