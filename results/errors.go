package results

import "errors"

// Sentinel errors. Every error of this package wraps at most one of them,
// with the operation and its identifiers in front; test with errors.Is.
var (
	// ErrNotFound: the database file does not exist (OpenExisting and every
	// method of a Store whose file has gone), or a trial's weights were not kept.
	ErrNotFound = errors.New("not found")
	// ErrNoSweep: no sweep of that name; the message lists the sweeps that exist.
	ErrNoSweep = errors.New("no such sweep")
	// ErrNoTrial: no trial of that number; the message gives the valid range.
	ErrNoTrial = errors.New("no such trial")
	// ErrLocked: another process held the database past Options.Timeout.
	ErrLocked = errors.New("database is locked by another process")
	// ErrCorrupt: the file is not a bbolt database, or a record has bad bytes.
	ErrCorrupt = errors.New("corrupt results database")
	// ErrSchema: the file was written by a newer sweep, or is a bbolt file
	// that is not a results database.
	ErrSchema = errors.New("unsupported results database")
	// ErrLeaseLost: the trial is no longer running under the caller's lease.
	ErrLeaseLost = errors.New("lease lost")
	// ErrNoWork: Claim found no claimable trial.
	ErrNoWork = errors.New("no claimable trial")
)
