package trial

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// ErrLeaseExpired: the database stayed locked by another process
// (results.ErrLocked) until the trial's lease was about to expire, so the
// pool gave up writing it. The trial is left running in the store, to
// whichever process reclaims it once its lease has expired.
var ErrLeaseExpired = errors.New("lease expired while the database was locked or unreachable")

// A write the database's lock refused is tried again after retryFirst,
// then twice as long each time up to retryMax, each wait shortened by up to
// a half at random so that workers do not retry in step. Short leases
// (tests) shorten both: to a hundredth and a twelfth of the lease's time to
// live, so that a lease sees many attempts before it expires.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = 5 * time.Second
)

// backoff yields the waits between attempts. Its jitter comes from its own
// source, seeded from crypto/rand when first needed.
type backoff struct {
	first, next, max time.Duration
	rng              *rand.Rand
}

func newBackoff(ttl time.Duration) backoff {
	first := max(min(retryFirst, ttl/100), time.Millisecond)
	return backoff{first: first, next: first, max: max(min(retryMax, ttl/12), first)}
}

// wait returns the next wait, in [d/2, d] for the current step d, and
// doubles the step.
func (b *backoff) wait() time.Duration {
	if b.rng == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // never fails (Go 1.24+)
		b.rng = rand.New(rand.NewChaCha8(seed))
	}
	d := b.next
	b.next = min(2*b.next, b.max)
	return d - d/2 + time.Duration(b.rng.Int64N(int64(d/2)+1))
}

func (b *backoff) reset() { b.next = b.first }

// sleep waits d, or until ctx is done (reported false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// busy reports whether err is a write the database did not take for now,
// to be tried again: its lock was held by another process past the
// store's timeout (results.ErrLocked, a file), or the server could not be
// reached or lost the connection through the store's own retries
// (results.ErrUnavailable, PostgreSQL).
func busy(err error) bool {
	return errors.Is(err, results.ErrLocked) || errors.Is(err, results.ErrUnavailable)
}

// lost reports whether err means the trial is no longer this process's:
// another process reclaimed it, or its lease expired while the database was
// locked.
func lost(err error) bool {
	return errors.Is(err, results.ErrLeaseLost) || errors.Is(err, ErrLeaseExpired)
}

// retrier runs one kind of store write of a worker (a claim when trial is
// nil, else a write of the held trial) and decides, after an attempt the
// database's lock refused, whether and when to try again. It is used by
// one goroutine at a time.
//
// The lease's deadline bounds only the retries: a first attempt is always
// made (under the store's own lock timeout), since the store, not this
// process's clock, says whether the lease is still held.
type retrier struct {
	p       *Pool
	worker  int
	trial   *results.Trial
	b       backoff
	refused bool  // an attempt was refused by the lock since the last success
	locked  error // the last refusal
	// also: the other members of trial's group, whose leases a successful
	// write refreshes too (a group's writes name them all); the write's
	// deadline is that of the earliest lease still held among them all
	// (trial may have left the group).
	also []int
}

// deadline returns when the retrier stops retrying: a margin before the
// lease of its trial (or the earliest of its group's still held) expires.
func (r *retrier) deadline() (time.Time, bool) {
	dl, ok := r.p.deadline(r.trial.Number)
	for _, n := range r.also {
		if d, held := r.p.deadline(n); held && (!ok || d.Before(dl)) {
			dl, ok = d, true
		}
	}
	return dl, ok
}

func (p *Pool) retrier(worker int, t *results.Trial) *retrier {
	return &retrier{p: p, worker: worker, trial: t, b: newBackoff(p.ttl())}
}

// attempt runs op once, with the current time; when retrying a refused
// write of a held trial, under ctx ended at the lease's deadline. On
// success the lease counts as refreshed at that time (every write of a
// held trial refreshes its heartbeat).
func (r *retrier) attempt(ctx context.Context, op func(ctx context.Context, now time.Time) error) error {
	now := r.p.now()
	if r.refused && r.trial != nil {
		if dl, ok := r.deadline(); ok {
			if !now.Before(dl) {
				return r.expired()
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, dl.Sub(now))
			defer cancel()
		}
	}
	err := op(ctx, now)
	if busy(err) {
		r.refused, r.locked = true, err
	}
	if err != nil {
		return err
	}
	r.refused = false
	r.b.reset()
	if r.trial != nil {
		r.p.refresh(now, append([]int{r.trial.Number}, r.also...)...)
	}
	return nil
}

// again is told of a failed attempt's error. It returns nil, after the
// backoff's wait, when the write should be tried again: the database was
// locked, ctx is not done and the lease will not have expired by then.
// Otherwise it returns the error to end with: err itself, or one wrapping
// ErrLeaseExpired and err.
func (r *retrier) again(ctx context.Context, err error) error {
	if errors.Is(err, ErrLeaseExpired) {
		return err
	}
	var dl time.Time
	leased := false
	if r.trial != nil {
		dl, leased = r.deadline()
	}
	if leased && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && !r.p.now().Before(dl) {
		return r.expired() // the wait for the lock ran into the deadline
	}
	if !busy(err) || ctx.Err() != nil {
		return err
	}
	d := r.b.wait()
	if leased && !r.p.now().Add(d).Before(dl) {
		return r.expired()
	}
	r.p.emit(Event{Kind: Retrying, Worker: r.worker, Trial: r.trial, Err: err})
	if !sleep(ctx, d) {
		return err
	}
	return nil
}

// expired returns the error of a write given up at the lease's deadline:
// it wraps ErrLeaseExpired and the lock's last refusal.
func (r *retrier) expired() error {
	err := fmt.Errorf("trial %d of %q: %w: no write landed for %v", r.trial.Number, r.p.Sweep, ErrLeaseExpired, r.p.ttl()-r.p.leaseMargin())
	if r.locked != nil {
		err = fmt.Errorf("%w: %w", err, r.locked)
	}
	return err
}

// write runs op until it succeeds, retrying while the database is locked
// by another process (see again). Retries stop when ctx is done; each
// attempt runs under wctx (bounded by the lease's deadline).
func (p *Pool) write(ctx, wctx context.Context, worker int, t *results.Trial, op func(ctx context.Context, now time.Time) error) error {
	r := p.retrier(worker, t)
	for {
		err := r.attempt(wctx, op)
		if err == nil {
			return nil
		}
		if err = r.again(ctx, err); err != nil {
			return err
		}
	}
}
