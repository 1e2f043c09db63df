//go:build !unix

package results

import (
	"testing"
	"time"
)

// probeLocked: no flock here; the lock tests run on unix.
func probeLocked(string) bool { return false }

// holdLock: no flock here.
func holdLock(t *testing.T, _ string) { t.Skip("flock(2) is unix's") }

// cpuTime: not measured here.
func cpuTime() time.Duration { return 0 }
