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
// live. A running trial whose owner is a dead process on this host is
// reclaimed at once; one owned by another host, once its heartbeat is older
// than the lease's time to live (Staleness). Because claims are
// transactions, two processes on one database never train a trial twice.
// A process that finds its lease taken (it missed its heartbeats for a whole
// lease, and another process reclaimed the trial) leaves the trial to the
// new owner and goes on with others.
//
// Checkpoints are written in the background (a saver per trial, newest
// wins), so training does not wait for the store's synced commits; the
// outcome is recorded only after the last write has landed.
//
// When the context is cancelled (Ctrl-C), no new trial is claimed and each
// running trial stops within one iteration, is checkpointed and released as
// interrupted; the store writes that record this use a context that is not
// cancelled, so the database is consistent when Run returns.
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
// workers' goroutines; the callback must be safe for concurrent use.
package trial
