//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockFile takes bbolt's lock on f before bbolt does: an exclusive flock for
// a file opened for writing, a shared one otherwise. bbolt's own flock then
// finds the lock already held by this open file and returns at once.
//
// bbolt waits for a held lock by retrying every 50 ms, so a reader can
// starve behind a stream of short writes. Here a contended lock is waited
// for with a blocking flock, which the kernel wakes as soon as the holder
// unlocks, and every attempt passes a turnstile first (see turnstile) so
// that a writer that has just unlocked cannot take the lock again ahead of
// a waiting reader. The wait
// ends early on ctx's cancellation, or after timeout with ErrLocked.
// On any error f is closed (possibly later, by the goroutine still waiting).
func lockFile(ctx context.Context, f *os.File, exclusive bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	release, err := turnstile(ctx, f, exclusive, deadline, timeout)
	if err != nil {
		return err
	}
	fd := int(f.Fd())
	err = retry(func() error { return syscall.Flock(fd, how|syscall.LOCK_NB) })
	if errors.Is(err, syscall.EWOULDBLOCK) {
		err = wait(ctx, f, deadline, timeout, func() error { return syscall.Flock(fd, how) })
		if err != nil {
			return err // f is closed, or will be: that drops the turnstile
		}
	} else if err != nil {
		f.Close()
		return err
	}
	release()
	return nil
}

// wait runs the blocking call lock until it returns, the deadline passes or
// ctx is done. Unless lock succeeded, f is closed: at once if lock returned,
// else once it returns (it still uses f's descriptor), which also drops
// whatever lock it was granted meanwhile.
func wait(ctx context.Context, f *os.File, deadline time.Time, timeout time.Duration, lock func() error) error {
	done := make(chan error, 1)
	go func() { done <- retry(lock) }()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
		if err != nil {
			f.Close()
		}
		return err
	case <-timer.C:
		err = fmt.Errorf("%w (waited %v)", ErrLocked, timeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	go func() {
		<-done
		f.Close()
	}()
	return err
}

// retry calls f until it fails with something other than EINTR.
func retry(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

// unlockFile drops f's flock. Closing f is not enough where a memory map of
// it remains: the map holds the open file, and so its lock.
func unlockFile(f *os.File) {
	_ = retry(func() error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) })
}
