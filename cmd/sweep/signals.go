package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals end a run after its running trials are checkpointed: Ctrl-C,
// a scheduler's SIGTERM (Slurm, Kubernetes, systemd), and SIGHUP from a
// closed terminal or ssh session. A second one takes the signal's default
// action and ends the process at once.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalCause is the cause of the context that a stop signal cancelled.
type signalCause struct{ sig os.Signal }

func (c signalCause) Error() string {
	switch c.sig {
	case os.Interrupt:
		return "interrupted (Ctrl-C)"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	case syscall.SIGHUP:
		return "stopped by SIGHUP (terminal closed)"
	}
	return "stopped by " + c.sig.String()
}

// stopReason says what stopped a command whose context was cancelled.
func stopReason(ctx context.Context) string {
	var c signalCause
	if errors.As(context.Cause(ctx), &c) {
		return c.Error()
	}
	return "interrupted"
}

// mainWithSignals runs the CLI with a context that the first stop signal
// cancels, and returns its exit code: 128+n when signal n stopped it (130
// for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as shells and schedulers
// expect. SIGPIPE is ignored, so that a closed stdout (`sweep run x.toml |
// head`) makes writes fail instead of killing the process: training goes
// on, checkpoints and results are still written.
func mainWithSignals(args []string, stdout, stderr io.Writer) int {
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	go func() {
		select {
		case sig := <-sigs:
			signal.Reset(stopSignals...)
			cancel(signalCause{sig})
		case <-ctx.Done():
		}
	}()
	code := run(ctx, args, stdout, stderr)
	signal.Stop(sigs)
	if code == exitInterrupted {
		code = interruptedCode(ctx) // 128+n for whichever signal it was
	}
	return code
}

// interruptedCode is the exit code of a command that ctx's cancellation
// stopped: 128+n for signal n, else 130 (as for Ctrl-C).
func interruptedCode(ctx context.Context) int {
	var c signalCause
	if errors.As(context.Cause(ctx), &c) {
		if s, ok := c.sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return exitInterrupted
}
