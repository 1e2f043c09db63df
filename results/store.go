package results

import (
	"context"
	"time"
)

// Store is a results database: a bbolt file on one host (package
// results/boltstore) or a PostgreSQL database shared by many (package
// results/pgstore); package results/storage opens either from what the
// user wrote. Both give the guarantees documented here, which one
// conformance suite (results/storetest) checks on both.
//
// Every value returned is a copy owned by the caller, and byte slices
// passed in are only read, during the call. A Store is safe for concurrent
// use, and any number of Stores, in any number of processes (on one host
// for a file, on any for PostgreSQL), may use the same database.
//
// # Time
//
// The now arguments are the caller's clock. A bbolt file records them as
// given. PostgreSQL records its own clock (now()) instead, so that hosts
// whose clocks disagree time leases alike; the lease times it returns
// (Lease.Claimed, Lease.Heartbeat) are rebased to the caller's clock by the
// difference between the two seen in the same transaction, so that a
// staleness rule comparing them with the caller's now measures the
// database's time.
//
// # Leases and fencing
//
// A claim (Claim, ClaimNext) sets the trial Running under a lease of the
// owner and increments Attempts. Every later write of that attempt
// (SaveCheckpoint, Pause, Finish, Release; Heartbeat for several trials)
// presents the owner, and is refused with ErrLeaseLost unless the trial is
// still Running under that owner's lease and, when owner.Attempt is not 0,
// unless owner.Attempt is the trial's current attempt (Trial.Attempts): a
// fencing token, so that an attempt presumed dead and reclaimed, even by
// its own process, writes nothing when it wakes.
//
// Whether a lease is stale is the caller's decision, the stale function
// given to Claim and ClaimNext (a nil one never finds a lease stale).
type Store interface {
	// Location names the database in messages: the file's path, or the
	// PostgreSQL connection string with its password masked.
	Location() string
	// Close releases the store's connections; closing again does nothing.
	// A Store may not be used after.
	Close() error

	// Sweep returns the sweep named name, with its spec and canonical form.
	// ErrNoSweep if there is none (its message lists the sweeps).
	Sweep(ctx context.Context, name string) (*Sweep, error)
	// Sweeps summarises every sweep, by name. A sweep is Active when one of
	// its running trials has a heartbeat newer than now - staleAfter.
	Sweeps(ctx context.Context, now time.Time, staleAfter time.Duration) ([]Summary, error)
	// EnsureSweep creates sweep sw if it does not exist, or else replaces
	// its Spec, SpecPath, Canonical, Metric, Keep, and Data and Input (when
	// sw has them) with sw's (keeping Created, Best, Evaluations, Elapsed
	// and ElapsedAt); then it adds every trial whose Key is not in the
	// sweep yet, numbered after the existing ones in the given order,
	// Pending (Params, Config, Seed and Key taken, and Group as a label
	// that RenumberGroups turns into a new group; every other field
	// reset). It returns the numbers added. One transaction: concurrent
	// calls never duplicate a key. sw.Metric "" means "val_acc", sw.Keep 0
	// DefaultKeep. It is a run's first write: a store that can check itself
	// refuses to write into a damaged database (ErrCorrupt).
	EnsureSweep(ctx context.Context, sw Sweep, trials []Trial) (added []int, err error)
	// SetBest records b, which must name a done trial, as the sweep's
	// selected best trial, appends it to Evaluations (each call is a use of the test set) and sets that
	// trial's TestAcc.
	SetBest(ctx context.Context, sweep string, b Best) error
	// AddElapsed adds d (not negative) to the sweep's Elapsed and returns
	// the new total.
	AddElapsed(ctx context.Context, sweep string, d time.Duration) (time.Duration, error)
	// TickElapsed adds to Elapsed the time since the sweep's last tick
	// (ElapsedAt), by whichever process, when that is at most gap, sets
	// ElapsedAt to now (unless now is before it), and returns the total:
	// the time any process runs the sweep counted once.
	TickElapsed(ctx context.Context, sweep string, now time.Time, gap time.Duration) (time.Duration, error)

	// Claim takes, in one transaction, a trial of the sweep that is
	// pending, interrupted, or running with stale(its lease) true, leases
	// it to owner (Running, Started if zero, Attempts + 1) and returns it
	// with its latest checkpoint (nil if none). ErrNoWork if none is
	// claimable. A paused trial is not claimable. The bbolt store takes the
	// lowest-numbered such trial; PostgreSQL the lowest-numbered pending or
	// interrupted one not locked by a concurrent claim, else a stale one.
	Claim(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool) (*Trial, *Checkpoint, error)
	// ClaimGroup is the claim of a sweep whose trials train in groups
	// (Trial.Group): in one transaction it takes the lowest-numbered
	// claimable trial, as Claim does, and when that trial has a Group,
	// every other unfinished member of its group with it, each leased to
	// owner (Running, Started if zero, Attempts + 1) with its latest
	// checkpoint. A group is claimable only as a whole: when every one of
	// its unfinished members (not Done, Diverged, Failed or Pruned) is
	// pending, interrupted, or running with stale(its lease) true; a group
	// one of whose members runs under a live lease (or is paused) is passed
	// over for the next claimable trial. Concurrent claims never split a
	// group. A trial of no group (Group 0) is claimed alone, as Claim
	// would. ErrNoWork if nothing is claimable.
	ClaimGroup(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool) (*GroupClaim, error)
	// ClaimNext is the claim of an adaptive sweep: as Claim, and when
	// nothing is claimable it calls decide with every trial of the sweep
	// and applies the Plan in the same transaction, serialised with every
	// other ClaimNext, Prune and EnsureSweep of the sweep (see boltstore's
	// documentation for the whole contract, which both stores keep).
	ClaimNext(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool, decide func(trials []Trial) (Plan, error)) (*Trial, *Checkpoint, error)
	// Prune marks pruned the paused trials that choose names, given every
	// trial of the sweep, in one transaction serialised as ClaimNext's.
	Prune(ctx context.Context, sweep string, now time.Time, choose func(trials []Trial) ([]Pruning, error)) (pruned []int, err error)
	// SaveCheckpoint stores ck as the trial's latest checkpoint with the
	// history so far, records its progress and refreshes the heartbeat.
	SaveCheckpoint(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck Checkpoint, hist []Epoch) error
	// SaveCheckpoints is SaveCheckpoint for several trials (a group's
	// members) in one transaction: every checkpoint is written, or none.
	// Each is fenced by owner with its own TrialCheckpoint.Attempt (when
	// not 0); when one trial is no longer held the call writes nothing
	// and returns an error wrapping ErrLeaseLost that names it.
	SaveCheckpoints(ctx context.Context, sweep string, owner Owner, now time.Time, cks []TrialCheckpoint) error
	// Heartbeat refreshes the heartbeat of each listed trial still running
	// under owner; the others are named in an error wrapping ErrLeaseLost.
	Heartbeat(ctx context.Context, sweep string, trials []int, owner Owner, now time.Time) error
	// Finish records how the trial's attempt ended (o.Status finished),
	// clears its lease, deletes its checkpoint, and keeps o.Model while the
	// trial ranks within the sweep's best Keep done trials.
	Finish(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, o Outcome) error
	// Release gives the trial back after an interruption: Interrupted,
	// lease cleared, Duration += duration; ck and hist, when given, replace
	// the stored ones.
	Release(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck *Checkpoint, hist []Epoch, duration float64) error
	// Pause stops the trial at a rung: ck, hist, eval appended to Evals,
	// Metrics, Paused, lease cleared, Duration += duration.
	Pause(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck Checkpoint, hist []Epoch, eval Eval, metrics Metrics, duration float64) error

	// Trials returns the sweep's trials that f selects, by number, without
	// histories or decisions.
	Trials(ctx context.Context, sweep string, f Filter) ([]Trial, error)
	// Trial returns one trial with its Decisions, and its history (nil if
	// none). ErrNoTrial if there is no such trial.
	Trial(ctx context.Context, sweep string, number int) (*Trial, []Epoch, error)
	// Running returns the sweep's running trials, by number, with their
	// leases; cheap on a large sweep.
	Running(ctx context.Context, sweep string) ([]Trial, error)
	// Model returns the kept final weights of a trial: ErrNotFound (listing
	// the kept trials) if they were not kept, ErrNoTrial if no such trial.
	Model(ctx context.Context, sweep string, number int) (*Model, error)

	// Check checks the whole database and reports every problem found
	// (ErrCorrupt); CheckWritable checks that a run could write to it,
	// writing nothing.
	Check(ctx context.Context) error
	CheckWritable(ctx context.Context) error

	// Dump reads the whole of one sweep, in one read transaction: what
	// `sweep copy` moves between stores.
	Dump(ctx context.Context, sweep string) (*Dump, error)
	// Load writes a dumped sweep, in one transaction, as it was: trial
	// numbers, statuses, leases, attempts, histories, checkpoints, kept
	// models and decisions. ErrExists if the store has a sweep of that
	// name, unless replace is set: then that sweep is deleted first, in
	// the same transaction.
	Load(ctx context.Context, d *Dump, replace bool) error
}

// Dump is the whole of one sweep: its record (with Spec and Canonical) and
// every trial, by number, with what is stored apart from its record.
type Dump struct {
	Sweep  Sweep
	Trials []TrialDump
}

// TrialDump is one trial of a Dump: its record with Decisions, its history,
// its checkpoint (an unfinished trial's) and its kept weights (nil when
// none).
type TrialDump struct {
	Trial      Trial
	History    []Epoch
	Checkpoint *Checkpoint
	Model      *Model
}

// GroupClaim is what ClaimGroup took: the group's number (0 for a trial of
// no group), its members now leased to the caller, by number, each with
// its latest checkpoint (Checkpoints[i] is Trials[i]'s, nil for none), and
// the group's members that had finished before (Done, Diverged, Failed or
// Pruned), by number, whose Metrics say when each left the group.
type GroupClaim struct {
	Group       int
	Trials      []*Trial
	Checkpoints []*Checkpoint
	Finished    []Trial
}

// TrialCheckpoint is one trial's part of SaveCheckpoints: the trial, the
// attempt that writes (the fencing token, as Owner.Attempt), its checkpoint
// and its history so far.
type TrialCheckpoint struct {
	Trial      int
	Attempt    int
	Checkpoint Checkpoint
	History    []Epoch
}
