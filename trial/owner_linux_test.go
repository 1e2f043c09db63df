package trial

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sweep-dev/sweep/results"
)

// TestOwnerStateZombie: a process that has exited but is not yet reaped
// by its parent (state Z) is gone: it holds no lock and sends no heartbeat.
func TestOwnerStateZombie(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	pid := cmd.Process.Pid
	o := results.Owner{Host: Self().Host, PID: pid, Start: processStart(pid), ID: "zombie"}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// An event: waitid returns once the child has exited; WNOWAIT leaves
	// it unreaped (a zombie).
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if state, _, _ := procStat(pid); state != 'Z' {
		t.Fatalf("child state %q, want a zombie", state)
	}
	if got := OwnerState(Self(), o); got != ProcessGone {
		t.Errorf("OwnerState of a zombie = %v, want gone", got)
	}
}
