package results

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error of this package wraps at most one of them
// (ErrWait being a kind of ErrNoWork), with the operation and its
// identifiers in front; test with errors.Is.
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
	// ErrCorrupt: the file is not a bbolt database, its pages are damaged,
	// or a record has bad bytes. Such an error is a *CorruptError, whose
	// text reads "corrupt results database FILE: what is wrong".
	ErrCorrupt = errors.New("corrupt results database")
	// ErrSchema: the file was written by a newer sweep, or is a bbolt file
	// that is not a results database.
	ErrSchema = errors.New("unsupported results database")
	// ErrLeaseLost: the trial is no longer running under the caller's lease.
	ErrLeaseLost = errors.New("lease lost")
	// ErrNoWork: Claim found no claimable trial; ClaimNext found none and
	// its scheduler said the sweep is finished (or to wait: ErrWait).
	ErrNoWork = errors.New("no claimable trial")
	// ErrWait: ClaimNext found no claimable trial and its scheduler
	// decided to wait: trials in flight may free work (a promotion) when
	// they pause or end, so ask again then. It is a kind of ErrNoWork:
	// errors.Is(err, ErrNoWork) holds too.
	ErrWait = fmt.Errorf("%w: nothing to claim now; trials in flight may free work", ErrNoWork)
	// ErrDuplicateKey: ClaimNext was asked to start a trial whose key the
	// sweep has already.
	ErrDuplicateKey = errors.New("duplicate trial key")
	// ErrUnavailable: the database server could not be reached, or its
	// connection was lost mid-transaction (a restart, a network fault),
	// and retries with backoff did not get through before the call gave
	// up. Callers may retry later, as for ErrLocked: a store whose commit
	// can be lost in flight (PostgreSQL) recognises a write it already
	// made when it is made again (see results/pgstore).
	ErrUnavailable = errors.New("database unavailable")
	// ErrExists: Load was given a sweep the store already has.
	ErrExists = errors.New("sweep exists")
	// ErrDiskFull: a write failed for lack of room, on the device (ENOSPC)
	// or under a file size limit (EFBIG: RLIMIT_FSIZE, the file system's
	// largest file). The transaction was rolled back, so the database is
	// as it was before the write; the error also wraps the system's.
	ErrDiskFull = errors.New("disk full")
)

// CorruptError is the error of a method that found the database damaged:
// the file's bbolt pages, or this package's buckets and records (see
// schema.go). It wraps ErrCorrupt. Its text is "corrupt results database
// FILE: PROBLEM", or a count followed by one problem a line when there are
// several (Check reports every problem it finds).
type CorruptError struct {
	Path     string   // the file, as given to Open
	Problems []string // what is wrong, each naming the sweep, trial and page concerned
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", ErrCorrupt, e.Path)
	switch len(e.Problems) {
	case 0:
		b.WriteString("damaged")
	case 1:
		b.WriteString(e.Problems[0])
	default:
		fmt.Fprintf(&b, "%d problems:", len(e.Problems))
		for _, p := range e.Problems {
			b.WriteString("\n\t")
			b.WriteString(p)
		}
	}
	return b.String()
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// corruption is a problem found inside a transaction, before the file's
// path is at hand; the Store's boundary (Store.fail) turns it, and what
// wraps it, into a *CorruptError. Its text is the problem alone.
type corruption struct{ msg string }

func (c *corruption) Error() string        { return c.msg }
func (c *corruption) Is(target error) bool { return target == ErrCorrupt }

// Corruptf returns a corruption error described by format and args.
func Corruptf(format string, args ...any) error {
	return &corruption{msg: fmt.Sprintf(format, args...)}
}
