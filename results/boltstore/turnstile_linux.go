package boltstore

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// turnstileOffset is the byte of the database file whose open-file-
// description (OFD) lock is the turnstile. Locks are advisory: bbolt's
// reads and writes ignore it, and it lies far beyond any real file size.
const turnstileOffset = 1 << 62

// turnstile makes waiting for the file's flock fair between a stream of
// writers and a reader. Every opener first takes the turnstile (shared for
// readers, exclusive for writers) and holds it until it has the flock. A writer that has just unlocked and comes back finds a
// waiting reader's turnstile lock in its way and so waits behind the
// reader, instead of winning the flock again before the woken reader runs
// (Linux's flock hands a released lock to no one in particular).
//
// Where OFD locks are not available (old kernels, some file systems) the
// turnstile is skipped. release drops it; on error f is closed.
func turnstile(ctx context.Context, f *os.File, exclusive bool, deadline time.Time, timeout time.Duration) (release func(), err error) {
	fd := uintptr(f.Fd())
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: turnstileOffset, Len: 1}
	if exclusive {
		lk.Type = unix.F_WRLCK
	}
	setlk := func(cmd int) error {
		l := lk
		return unix.FcntlFlock(fd, cmd, &l)
	}
	release = func() {
		l := lk
		l.Type = unix.F_UNLCK
		_ = unix.FcntlFlock(fd, unix.F_OFD_SETLK, &l)
	}
	switch err := retry(func() error { return setlk(unix.F_OFD_SETLK) }); err {
	case nil:
		return release, nil
	case unix.EAGAIN, unix.EACCES:
		// Contended: wait below.
	default:
		return func() {}, nil // no OFD locks here: go without the turnstile
	}
	if err := wait(ctx, f, deadline, timeout, func() error { return setlk(unix.F_OFD_SETLKW) }); err != nil {
		return nil, err
	}
	return release, nil
}
