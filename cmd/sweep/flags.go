package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// defaultDB is the database of every command: $SWEEP_DB, else sweep.db in
// the working directory.
func defaultDB() string {
	if p := os.Getenv("SWEEP_DB"); p != "" {
		return p
	}
	return "sweep.db"
}

// newFlags returns a flag set for a subcommand, with --db and usage text.
func newFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The default is filled in after parsing (parseArgs), so that usage
	// text never prints $SWEEP_DB, which may hold a password.
	db := fs.String("db", "", "results database: a file, or a PostgreSQL URL such as postgres://user@host/sweeps (default $SWEEP_DB when set, else sweep.db)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sweep %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs, db
}

// parseArgs parses flags wherever they stand among the positional arguments
// (`sweep run spec.toml --workers 2` as well as `sweep run --workers 2
// spec.toml`) and checks the positional count is within [min, max]. It
// returns ok false with the exit code to use.
func parseArgs(fs *flag.FlagSet, args []string, min, max int) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < min || len(pos) > max {
		fs.Usage()
		return nil, exitUsage, false
	}
	if f := fs.Lookup("db"); f != nil && f.Value.String() == "" {
		if err := f.Value.Set(defaultDB()); err != nil {
			return nil, exitUsage, false
		}
	}
	return pos, exitOK, true
}
