//go:build unix

package trial

import "syscall"

// processState reports whether process pid, on this host, exists (kill(2)
// with signal 0) and, where /proc is available, whether it is stopped, a
// zombie, or another process that reused the pid (its start time is not
// start; start 0 is not checked).
func processState(pid int, start int64) ProcessState {
	if pid <= 0 {
		return ProcessGone
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return ProcessGone
	}
	state, st, ok := procStat(pid)
	if !ok {
		return ProcessAlive // no /proc (darwin, BSDs), or it exited just now
	}
	if start != 0 && st != start {
		return ProcessGone // the pid was reused
	}
	switch state {
	case 'T', 't':
		return ProcessStopped
	case 'Z', 'X', 'x':
		return ProcessGone // exited; its parent has not reaped it yet
	}
	return ProcessAlive
}
