package trial

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// Self returns the identity of this process as a lease owner: host name,
// pid, the process's start time (so a reused pid is not mistaken for it),
// the boot and pid namespace it runs in, and a random id.
func Self() results.Owner {
	host, _ := os.Hostname()
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24+)
	pid := os.Getpid()
	return results.Owner{Host: host, PID: pid, Start: processStart(pid), NS: pidNamespace(), ID: hex.EncodeToString(id)}
}

// pidNamespace names where this process's pid means something: the
// kernel's boot id and the inode of its pid namespace (Linux), "" where
// they cannot be read. Containers can share a host name across pid
// namespaces (pods with hostNetwork, same-named pods in two namespaces,
// two machines cloned from one image): a pid is only checked for life in
// the namespace it belongs to.
func pidNamespace() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

// processStart returns the start time of process pid in clock ticks since
// boot (field 22 of /proc/PID/stat), or 0 where /proc is not available.
func processStart(pid int) int64 {
	_, start, _ := procStat(pid)
	return start
}

// procStat returns the state letter (field 3: R running, S sleeping, T
// stopped, Z zombie, ...) and the start time (field 22) of process pid from
// /proc/PID/stat; ok is false where /proc is not available (darwin,
// windows) or the process does not exist.
func procStat(pid int) (state byte, start int64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	start, _ = strconv.ParseInt(fields[19], 10, 64)
	return fields[0][0], start, true
}

// ProcessState is what this process can tell about the process that owns a
// lease.
type ProcessState int

const (
	// ProcessUnknown: the owner runs on another host, or this OS offers no
	// liveness check (windows, plan9, wasm): only its heartbeat tells.
	ProcessUnknown ProcessState = iota
	// ProcessAlive: the owner is a process on this host that exists.
	ProcessAlive
	// ProcessStopped: the owner is a process on this host that exists but
	// is stopped (SIGSTOP, SIGTSTP, a debugger: state T or t in /proc). It
	// keeps its lease but sends no heartbeats until it is continued. Only
	// reported where /proc is available (Linux); elsewhere a stopped
	// process is ProcessAlive.
	ProcessStopped
	// ProcessGone: the owner was a process on this host that has exited
	// (or is a zombie), or whose pid now belongs to another process.
	ProcessGone
)

// String returns "unknown", "alive", "stopped" or "gone".
func (s ProcessState) String() string {
	switch s {
	case ProcessUnknown:
		return "unknown"
	case ProcessAlive:
		return "alive"
	case ProcessStopped:
		return "stopped"
	case ProcessGone:
		return "gone"
	}
	return "ProcessState(" + strconv.Itoa(int(s)) + ")"
}

// OwnerState reports what self, a process on this host, can tell about o,
// the owner of a lease: ProcessUnknown when o is on another host, or in
// another boot or pid namespace of a host of the same name (when both
// recorded theirs), or this OS cannot check processes; otherwise whether
// o's process is alive, stopped or gone. The host names are compared as
// stored; o's start time, when known, tells a reused pid from o.
func OwnerState(self, o results.Owner) ProcessState {
	if o.Host != self.Host || o.NS != "" && self.NS != "" && o.NS != self.NS {
		return ProcessUnknown
	}
	return processState(o.PID, o.Start)
}

// Staleness returns the rule by which a running trial's lease counts as
// abandoned: at once when its owner was a process on this host that is gone
// (OwnerState), otherwise when its last heartbeat is older than ttl. A
// stopped owner's lease expires like any other.
func Staleness(self results.Owner, now time.Time, ttl time.Duration) func(results.Lease) bool {
	return func(l results.Lease) bool {
		if l.Owner.ID == self.ID {
			return false
		}
		if OwnerState(self, l.Owner) == ProcessGone {
			return true
		}
		return now.Sub(l.Heartbeat) > ttl
	}
}
