package pgtest

import (
	"os/exec"
	"syscall"
)

// asUser makes cmd run as the unprivileged user when root is set.
func asUser(cmd *exec.Cmd, root bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if root {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: unprivileged, Gid: unprivileged}
	}
}

// dieWithParent has cmd killed when the thread that started it exits
// (see spawn).
func dieWithParent(cmd *exec.Cmd) { cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL }
