//go:build !unix

package boltstore

import "time"

// probeLocked: no flock here; the lock tests run on unix.
func probeLocked(string) bool { return false }

// cpuTime: not measured here.
func cpuTime() time.Duration { return 0 }
