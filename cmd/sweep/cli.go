package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"syscall"
)

// Exit codes: the CLI contract of DESIGN.md. Scripts rely on them.
const (
	exitOK          = 0   // success
	exitRuntime     = 1   // a runtime error
	exitUsage       = 2   // bad usage, spec or data
	exitTrialFailed = 3   // finished, but some trials failed or diverged
	exitInterrupted = 130 // interrupted by Ctrl-C; 128+n for signal n (143 SIGTERM, 129 SIGHUP)
	exitBrokenPipe  = 141 // 128+SIGPIPE: stdout was closed by its reader
)

// command is one subcommand. Each lives in its own file.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is filled by the init functions of the subcommand files.
var commands = map[string]command{}

// run is the whole CLI, callable in-process by tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return commandHelp(ctx, args[1], stdout, stderr)
		}
		usage(stdout)
		return exitOK
	case "--version", "-version":
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "sweep: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

// commandHelp prints one command's summary, usage and flags (`sweep help
// run`): the command's own -h, on stdout.
func commandHelp(ctx context.Context, name string, stdout, stderr io.Writer) int {
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "sweep help: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	fmt.Fprintf(stdout, "sweep %s: %s\n\n", name, cmd.summary)
	return cmd.run(ctx, []string{"-h"}, stdout, stdout)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sweep — hyperparameter sweeps of small neural networks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: sweep COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "  help [CMD]    this text, or one command's usage and flags")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit codes: 0 ok; 1 runtime error; 2 bad usage, spec or data;")
	fmt.Fprintln(w, "            3 finished but some trials failed or diverged;")
	fmt.Fprintln(w, "            128+n stopped by signal n after checkpointing (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)")
}

// usageError is a mistake in a command's arguments: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// fail reports err as sweep cmd's error and returns the exit code: 2 for
// a usageError, else exitCode's.
//
// A write to a stdout its reader closed (`sweep ls | head`) is no error to
// report: the command ends quietly with exitBrokenPipe, as it would have
// been killed by SIGPIPE had sweep not ignored it (see mainWithSignals).
func fail(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, syscall.EPIPE) {
		return exitBrokenPipe
	}
	fmt.Fprintf(stderr, "sweep %s: %v\n", cmd, err)
	if errors.As(err, new(usageError)) {
		return exitUsage
	}
	return exitCode(err)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
