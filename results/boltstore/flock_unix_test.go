//go:build unix

package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// probeLocked reports whether some open file holds path's flock (a call
// that left it locked would make every later write wait in vain).
func probeLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// holdLock takes the exclusive lock on path, as a writing process does,
// until the test ends.
func holdLock(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLockedByAnotherProcess: a database held by another process (here
// flock(1), which takes the same flock(2) lock bbolt does) past the timeout
// gives ErrLocked with a message naming the file, and leaves it unchanged.
func TestLockedByAnotherProcess(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 2, 3)
	before, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	// --close: only flock itself holds the lock, not the command it runs,
	// so killing its process group releases it. The command runs once the
	// lock is held, and says so.
	cmd := exec.Command("flock", "--exclusive", "--close", s.Path(), "sh", "-c", "echo held; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("flock(1) (util-linux): %v", err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		t.Fatalf("flock(1) did not take the lock: %q, %v", line, err)
	}
	_, err = OpenExisting(s.Path(), Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("open of a database another process holds: %v, want ErrLocked naming the file", err)
	}
	t.Log(err)
	after, err := os.ReadFile(s.Path())
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the held file changed (%v)", err)
	}
}

func TestLocked(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 2, 3)
	holdLock(t, s.Path())
	_, err := Open(s.Path(), Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a locked file: %v, want ErrLocked", err)
	}
	short := &Store{path: s.Path(), timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err = short.Trials(t.Context(), "g", Filter{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Trials on a locked file: %v, want ErrLocked", err)
	}
	// It waited for its timeout before giving up (how much longer depends
	// on the machine: not asserted).
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("gave up after %v, before its 100ms timeout", d)
	}
	t.Log(err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Trials(ctx, "g", Filter{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Trials with a cancelled context: %v", err)
	}
}
