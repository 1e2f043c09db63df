//go:build unix

package trial

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// startChild starts a process that sleeps until killed; cleanup kills and
// reaps it.
func startChild(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// hasProc reports whether /proc tells process states (Linux).
func hasProc() bool {
	_, _, ok := procStat(os.Getpid())
	return ok
}

func TestOwnerState(t *testing.T) {
	self := Self()
	owner := func(pid int) results.Owner {
		return results.Owner{Host: self.Host, PID: pid, Start: processStart(pid), ID: "child"}
	}

	running := startChild(t)
	stopped := startChild(t)
	if err := stopped.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// An event, not a wait: wait4 returns once the child has stopped.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(stopped.Process.Pid, &ws, syscall.WUNTRACED, nil); err != nil || !ws.Stopped() {
		t.Fatalf("wait for the child to stop: %v, status %v", err, ws)
	}
	exited := startChild(t)
	exitedOwner := owner(exited.Process.Pid)
	_ = exited.Process.Kill()
	_ = exited.Wait()

	wantStopped := ProcessStopped
	reused := ProcessGone
	if !hasProc() {
		wantStopped = ProcessAlive // no /proc (darwin): stopped is not told apart
		reused = ProcessAlive      // nor a reused pid
	}
	tests := []struct {
		name  string
		owner results.Owner
		want  ProcessState
	}{
		{"this process", self, ProcessAlive},
		{"a running child", owner(running.Process.Pid), ProcessAlive},
		{"a stopped child (SIGSTOP)", owner(stopped.Process.Pid), wantStopped},
		{"a child that exited", exitedOwner, ProcessGone},
		{"no pid", results.Owner{Host: self.Host, ID: "x"}, ProcessGone},
		{"a reused pid", results.Owner{Host: self.Host, PID: self.PID, Start: self.Start + 1, ID: "x"}, reused},
		{"another host's process", results.Owner{Host: "elsewhere", PID: running.Process.Pid, ID: "x"}, ProcessUnknown},
		{"another host's, with a pid unused here", results.Owner{Host: "elsewhere", PID: 1 << 30, ID: "x"}, ProcessUnknown},
		// A host of the same name in another pid namespace (a container):
		// its pids are not ours, even one that is gone here.
		{"another namespace's, with a pid unused here", results.Owner{Host: self.Host, NS: "other-boot/pid:[1]", PID: 1 << 30, ID: "x"}, ProcessUnknown},
		{"this namespace's, recorded", results.Owner{Host: self.Host, NS: self.NS, PID: 1 << 30, ID: "x"}, ProcessGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OwnerState(self, tt.owner); got != tt.want {
				t.Errorf("OwnerState = %v, want %v", got, tt.want)
			}
		})
	}

	// Staleness's rule is unchanged: a stopped owner on this host keeps a
	// fresh lease and loses an expired one like anyone else; a gone owner
	// loses it at once.
	now := time.Now()
	stale := Staleness(self, now, time.Minute)
	leases := []struct {
		name string
		l    results.Lease
		want bool
	}{
		{"stopped, fresh heartbeat", results.Lease{Owner: owner(stopped.Process.Pid), Heartbeat: now}, false},
		{"stopped, expired heartbeat", results.Lease{Owner: owner(stopped.Process.Pid), Heartbeat: now.Add(-2 * time.Minute)}, true},
		{"exited, fresh heartbeat", results.Lease{Owner: exitedOwner, Heartbeat: now}, true},
		{"another host, fresh heartbeat", results.Lease{Owner: results.Owner{Host: "elsewhere", PID: 1 << 30, ID: "x"}, Heartbeat: now}, false},
	}
	for _, tt := range leases {
		if got := stale(tt.l); got != tt.want {
			t.Errorf("%s: stale = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProcessStateString(t *testing.T) {
	for s, want := range map[ProcessState]string{ProcessUnknown: "unknown", ProcessAlive: "alive",
		ProcessStopped: "stopped", ProcessGone: "gone", 9: "ProcessState(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}
