//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package boltstore

import (
	"context"
	"os"
	"time"
)

// lockFile leaves locking to bbolt (which retries every 50 ms until
// Options.Timeout) where flock(2) is not available.
func lockFile(ctx context.Context, f *os.File, exclusive bool, timeout time.Duration) error {
	return nil
}

// unlockFile leaves unlocking to the file's closing.
func unlockFile(f *os.File) {}
