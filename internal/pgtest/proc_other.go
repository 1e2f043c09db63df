//go:build !linux

package pgtest

import "os/exec"

// asUser runs cmd as this process's user: the servers' tests run on Linux
// (Debian's postgresql); elsewhere a root user must start them by hand.
func asUser(cmd *exec.Cmd, root bool) {}

// dieWithParent does nothing where there is no parent-death signal: Main
// stops the shared server, and each test's cleanup its own.
func dieWithParent(cmd *exec.Cmd) {}
