package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

func init() {
	commands["leaderboard"] = command{summary: "the trials of a sweep, best first", run: runLeaderboard}
}

// watchEvery is how often --watch redraws (tests shorten it).
var watchEvery = 2 * time.Second

// statusFlag is a repeatable --status.
type statusFlag []results.Status

func (f *statusFlag) String() string { return fmt.Sprint(*f) }

func (f *statusFlag) Set(s string) error {
	sts, err := report.ParseStatuses(s)
	*f = append(*f, sts...)
	return err
}

// boardOptions say which trials a leaderboard shows, in which order, and
// how.
type boardOptions struct {
	report.Options
	format string
}

func runLeaderboard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("leaderboard", "leaderboard NAME [--top K] [--sort [-]KEY] [--status S]... [--format table|csv|json] [--watch] [--db DB]", stderr)
	var o boardOptions
	fs.IntVar(&o.Top, "top", 0, "show the first `K` trials only (0: all)")
	fs.StringVar(&o.Sort, "sort", "", "order by `KEY`, a metric or a parameter, ascending; -KEY for descending (default: best first by the sweep's metric)")
	fs.Var((*statusFlag)(&o.Status), "status", "show trials of status `S` only (repeatable, or comma-separated)")
	fs.StringVar(&o.format, "format", "table", "output format: table, csv or json")
	watch := fs.Bool("watch", false, "redraw every 2 s while the sweep runs; exit when it ends")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	err := checkFormat(o.format, "table", "csv", "json")
	switch {
	case err != nil:
	case o.Top < 0:
		err = usagef("--top %d: want 0 (all) or more", o.Top)
	case *watch && o.format != "table":
		err = usagef("--watch draws a table; it does not combine with --format %s", o.format)
	}
	if err != nil {
		return fail(stderr, "leaderboard", err)
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "leaderboard", err)
	}
	defer st.Close()
	if *watch {
		return watchBoard(ctx, st, pos[0], o, stdout, stderr)
	}
	var buf bytes.Buffer
	if _, err := board(ctx, st, pos[0], o, &buf); err != nil {
		return fail(stderr, "leaderboard", err)
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return fail(stderr, "leaderboard", err)
	}
	return exitOK
}

// board writes the leaderboard of sweep name to w and reports whether every
// trial has finished.
func board(ctx context.Context, st results.Store, name string, o boardOptions, w io.Writer) (finished bool, err error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return false, err
	}
	all, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return false, err
	}
	b, err := report.NewBoard(sw, all, o.Options)
	if errors.Is(err, report.ErrUnknownSortKey) {
		return false, usageError{err.Error()}
	}
	if err != nil {
		return false, err
	}
	switch o.format {
	case "json":
		return b.Finished, report.WriteTrialsJSON(w, b.Shown, true)
	case "csv":
		return b.Finished, report.WriteTrialsCSV(w, b.Shown, true)
	}
	return b.Finished, b.WriteTable(w, clock(), staleLease())
}

// watchBoard redraws the leaderboard every watchEvery until every trial has
// finished or no process has run the sweep for two draws in a row (a run
// between two trials holds none for a moment). On a terminal it redraws in
// place; otherwise it writes the table again when it changes.
func watchBoard(ctx context.Context, st results.Store, name string, o boardOptions, stdout, stderr io.Writer) int {
	term := isTerminal(stdout)
	var last string
	idle := 0
	for {
		var buf bytes.Buffer
		finished, err := board(ctx, st, name, o, &buf)
		var owners []string
		if err == nil {
			owners, _, err = liveOwners(ctx, st, name)
		}
		if err != nil {
			if ctx.Err() != nil {
				return interruptedCode(ctx)
			}
			return fail(stderr, "leaderboard", err)
		}
		text := buf.String()
		switch {
		case term:
			state := "not running"
			if len(owners) > 0 {
				state = "running on " + strings.Join(owners, ", ")
			}
			_, err = fmt.Fprintf(stdout, "\x1b[H\x1b[2J%s  (%s; every %s, Ctrl-C to stop)\n%s", clock().Format("15:04:05"), state, watchEvery, text)
		case text != last:
			if last != "" {
				text = "\n" + text
			}
			_, err = fmt.Fprint(stdout, text)
		}
		if err != nil {
			// Nobody reads any more (`... --watch | head`): stop as a
			// process killed by SIGPIPE would, without a message.
			return exitBrokenPipe
		}
		last = text
		if finished {
			return exitOK
		}
		if len(owners) == 0 {
			idle++
		} else {
			idle = 0
		}
		if idle >= 2 {
			fmt.Fprintf(stdout, "no process is running sweep %q; resume it with: sweep resume %s%s\n", name, shellQuote(name), dbFlag(st))
			return exitOK
		}
		select {
		case <-ctx.Done():
			return interruptedCode(ctx)
		case <-time.After(watchEvery):
		}
	}
}

// itoa is strconv.Itoa, for brevity in tables.
func itoa(n int) string { return strconv.Itoa(n) }
