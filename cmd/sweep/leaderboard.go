package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

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
	for _, v := range strings.Split(s, ",") {
		st := results.Status(strings.TrimSpace(v))
		if !st.Valid() {
			return fmt.Errorf("unknown status %q (valid: %s)", v, statusNames())
		}
		*f = append(*f, st)
	}
	return nil
}

func statusNames() string {
	s := make([]string, len(results.Statuses))
	for i, v := range results.Statuses {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// boardOptions say which trials a leaderboard shows, in which order.
type boardOptions struct {
	top    int
	sort   string // "" (the sweep's ranking), KEY (ascending) or -KEY (descending)
	status statusFlag
	format string
}

func runLeaderboard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("leaderboard", "leaderboard NAME [--top K] [--sort [-]KEY] [--status S]... [--format table|csv|json] [--watch] [--db PATH]", stderr)
	var o boardOptions
	fs.IntVar(&o.top, "top", 0, "show the first `K` trials only (0: all)")
	fs.StringVar(&o.sort, "sort", "", "order by `KEY`, a metric or a parameter, ascending; -KEY for descending (default: best first by the sweep's metric)")
	fs.Var(&o.status, "status", "show trials of status `S` only (repeatable, or comma-separated)")
	fs.StringVar(&o.format, "format", "table", "output format: table, csv or json")
	watch := fs.Bool("watch", false, "redraw every 2 s while the sweep runs; exit when it ends")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	err := checkFormat(o.format, "table", "csv", "json")
	switch {
	case err != nil:
	case o.top < 0:
		err = usagef("--top %d: want 0 (all) or more", o.top)
	case *watch && o.format != "table":
		err = usagef("--watch draws a table; it does not combine with --format %s", o.format)
	}
	if err != nil {
		return fail(stderr, "leaderboard", err)
	}
	st, err := results.OpenExisting(*db, results.Options{})
	if err != nil {
		return fail(stderr, "leaderboard", err)
	}
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
func board(ctx context.Context, st *results.Store, name string, o boardOptions, w io.Writer) (finished bool, err error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return false, err
	}
	all, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return false, err
	}
	finished = true
	for _, t := range all {
		finished = finished && t.Status.Finished()
	}
	results.Rank(all, sw.Maximize())
	sel := sw.Selected(all)
	if o.sort != "" {
		if err := sortTrials(all, o.sort, paramNames(all)); err != nil {
			return false, err
		}
	}
	shown := all
	if len(o.status) > 0 {
		shown = slices.DeleteFunc(slices.Clone(all), func(t results.Trial) bool { return !slices.Contains(o.status, t.Status) })
	}
	if o.top > 0 && o.top < len(shown) {
		shown = shown[:o.top]
	}
	switch o.format {
	case "json":
		return finished, writeTrialsJSON(w, shown, true)
	case "csv":
		return finished, writeTrialsCSV(w, shown, true)
	}
	fmt.Fprintln(w, countsLine(name, all))
	if len(shown) == 0 {
		fmt.Fprintln(w, "no trial matches")
		return finished, nil
	}
	if err := writeLeaderboard(w, shown, sel); err != nil {
		return false, err
	}
	switch {
	case sel != nil:
		fmt.Fprintf(w, "* selected best: trial %d, val_acc %s, test_acc %s%s\n", sel.Trial, metric(sel.ValAcc), metric(sel.TestAcc), testUses(sw))
	case sw.Best != nil:
		fmt.Fprintf(w, "no trial is selected now: the sweep changed since trial %d was (test_acc %s)%s\n", sw.Best.Trial, metric(sw.Best.TestAcc), testUses(sw))
	}
	return finished, nil
}

// metricKeys are the sort keys besides the parameters.
var metricKeys = []string{"trial", "status", "val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc",
	"iterations", "epochs", "rung", "diverged_at", "duration_s", "seed", "attempts"}

// sortTrials sorts ts stably by key (ascending; descending when it starts
// with -), a metric or one of params. Trials without a value for the key
// (metrics of untrained trials, NaN) come last either way.
func sortTrials(ts []results.Trial, key string, params []string) error {
	name, desc := strings.CutPrefix(key, "-")
	if !slices.Contains(metricKeys, name) && !slices.Contains(params, name) {
		return usagef("unknown sort key %q (valid: %s; -KEY sorts descending)", key, strings.Join(append(slices.Clone(metricKeys), params...), ", "))
	}
	param := !slices.Contains(metricKeys, name)
	// Sort keys, not Trials: a Trial is hundreds of bytes to swap.
	type entry struct {
		v  any
		ok bool
		i  int
	}
	es := make([]entry, len(ts))
	for i := range ts {
		v, ok := sortValue(&ts[i], name, param)
		es[i] = entry{v, ok, i}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		switch {
		case !a.ok || !b.ok:
			return boolCmp(!a.ok, !b.ok)
		case desc:
			return compareValues(b.v, a.v)
		}
		return compareValues(a.v, b.v)
	})
	sorted := make([]results.Trial, len(ts))
	for k, e := range es {
		sorted[k] = ts[e.i]
	}
	copy(ts, sorted)
	return nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sortValue is t's value of key, and whether it has one.
func sortValue(t *results.Trial, key string, param bool) (any, bool) {
	if param {
		return t.Params.Get(key)
	}
	num := func(v float64, ok bool) (any, bool) { return v, ok && !math.IsNaN(v) }
	m := hasMetrics(t)
	switch key {
	case "trial":
		return float64(t.Number), true
	case "status":
		return float64(slices.Index(results.Statuses, t.Status)), true
	case "val_acc":
		return num(t.ValAcc, m)
	case "val_loss":
		return num(t.ValLoss, m)
	case "train_acc":
		return num(t.TrainAcc, m)
	case "final_val_acc":
		return num(t.FinalValAcc, m)
	case "test_acc":
		if t.TestAcc == nil {
			return nil, false
		}
		return num(*t.TestAcc, true)
	case "iterations":
		if !t.Status.Finished() {
			return float64(t.Iteration), true
		}
		return float64(t.Iterations), true
	case "epochs":
		return epochsDone(t), true
	case "rung":
		return float64(t.Rung), true
	case "diverged_at":
		return float64(t.DivergedAt), t.DivergedAt > 0
	case "duration_s":
		return t.Duration, true
	case "seed":
		return float64(t.Seed), true
	}
	return float64(t.Attempts), true // attempts
}

// compareValues orders parameter and metric values: numbers numerically,
// lists element by element, anything else by its text.
func compareValues(a, b any) int {
	switch a := a.(type) {
	case float64:
		if b, ok := b.(float64); ok {
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		}
	case []any:
		if b, ok := b.([]any); ok {
			for i := range min(len(a), len(b)) {
				if c := compareValues(a[i], b[i]); c != 0 {
					return c
				}
			}
			return len(a) - len(b)
		}
	}
	return strings.Compare(results.Param{Value: a}.String(), results.Param{Value: b}.String())
}

// watchBoard redraws the leaderboard every watchEvery until every trial has
// finished or no process has run the sweep for two draws in a row (a run
// between two trials holds none for a moment). On a terminal it redraws in
// place; otherwise it writes the table again when it changes.
func watchBoard(ctx context.Context, st *results.Store, name string, o boardOptions, stdout, stderr io.Writer) int {
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
			fmt.Fprintf(stdout, "no process is running sweep %q; resume it with: sweep resume %s --db %s\n", name, shellQuote(name), dbArg(st))
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
