package trial

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// Self returns the identity of this process as a lease owner: host name,
// pid, the process's start time (so a reused pid is not mistaken for it) and
// a random id.
func Self() results.Owner {
	host, _ := os.Hostname()
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24+)
	pid := os.Getpid()
	return results.Owner{Host: host, PID: pid, Start: processStart(pid), ID: hex.EncodeToString(id)}
}

// processStart returns the start time of process pid in clock ticks since
// boot (field 22 of /proc/PID/stat), or 0 where /proc is not available.
func processStart(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 {
		return 0
	}
	v, _ := strconv.ParseInt(fields[19], 10, 64)
	return v
}

// alive reports whether the process o, on this host, is still running.
func alive(o results.Owner) bool {
	if o.PID <= 0 {
		return false
	}
	if err := syscall.Kill(o.PID, 0); err != nil && err != syscall.EPERM {
		return false
	}
	if o.Start != 0 {
		if st := processStart(o.PID); st != 0 && st != o.Start {
			return false // the pid was reused
		}
	}
	return true
}

// Staleness returns the rule by which a running trial's lease counts as
// abandoned: at once when its owner was a process on this host that is no
// longer alive, otherwise when its last heartbeat is older than ttl.
func Staleness(self results.Owner, now time.Time, ttl time.Duration) func(results.Lease) bool {
	return func(l results.Lease) bool {
		if l.Owner.ID == self.ID {
			return false
		}
		if l.Owner.Host == self.Host && !alive(l.Owner) {
			return true
		}
		return now.Sub(l.Heartbeat) > ttl
	}
}
