package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

// paramsText formats a trial's searched values: "learning_rate=0.001 reg=0.25".
func paramsText(ps []results.Param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + p.String()
	}
	return strings.Join(parts, " ")
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

// table is a text table whose columns are aligned: numbers to the right,
// text to the left, two spaces apart, no trailing blanks.
type table struct {
	head  []string
	right []bool // per column: align right
	rows  [][]string
}

// col adds a column.
func (t *table) col(name string, right bool) {
	t.head = append(t.head, name)
	t.right = append(t.right, right)
}

// add adds a row of cells, one per column.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write writes the table, with its header when it has one, each line
// prefixed with indent.
func (t *table) write(w io.Writer, indent string) error {
	width := make([]int, len(t.right))
	all := t.rows
	if t.head != nil {
		all = append([][]string{t.head}, t.rows...)
	}
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range all {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		if _, err := io.WriteString(w, indent+strings.TrimRight(b.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// kvTable returns a table of names and values: two left-aligned columns,
// no header.
func kvTable() *table { return &table{right: []bool{false, false}} }

// humanParams formats a trial's searched values for people:
// "learning_rate=1.0e-03  reg=0.25".
func humanParams(ps results.Params) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + humanValue(p.Value)
	}
	return strings.Join(parts, "  ")
}

// human formats a number for people: 0.513, 0.25, 50, 1.0e-03, 2.5e+05.
func human(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return nonFinite(v)
	case v == math.Trunc(v) && a < 1e5:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case a < 1e-2 || a >= 1e5:
		return strconv.FormatFloat(v, 'e', 1, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// nonFinite formats NaN and the infinities as pandas reads them.
func nonFinite(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v > 0:
		return "inf"
	}
	return "-inf"
}

// humanValue formats a parameter's value for people: numbers by human,
// lists as [50,50].
func humanValue(v any) string {
	switch v := v.(type) {
	case float64:
		return human(v)
	case []any:
		s := make([]string, len(v))
		for i, e := range v {
			s[i] = humanValue(e)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return results.Param{Value: v}.String()
}

// metric formats an accuracy or a loss with three decimals: 0.513; a huge
// finite loss of a diverging trial in three significant digits (5.51e+15),
// so that it does not stretch a table.
func metric(v float64) string { return metricPrec(v, 3) }

// metric4 is metric with four decimals, for progress lines: 0.5130.
func metric4(v float64) string { return metricPrec(v, 4) }

func metricPrec(v float64, decimals int) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return nonFinite(v)
	case math.Abs(v) >= 1e5:
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// trials says "1 trial" or "n trials".
func trials(n int) string { return strconv.Itoa(n) + " trial" + plural(n) }

// seconds formats a duration for people: 0.4s, 41.2s, 3m05s, 2h07m.
func seconds(s float64) string {
	switch {
	case s < 60:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	case s < 3600:
		m := int(s) / 60
		return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
	}
	h := int(s) / 3600
	return fmt.Sprintf("%dh%02dm", h, (int(s)-3600*h)/60)
}

// stamp formats a time for people, in UTC: 2026-11-26 12:00:05 UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// hasMetrics reports whether t's metrics mean something: it was trained to
// an outcome (done, pruned or diverged).
func hasMetrics(t *results.Trial) bool {
	switch t.Status {
	case results.Done, results.Paused, results.Pruned, results.Diverged:
		return true
	}
	return false
}

// epochsDone is how far t trained: its epochs when finished, the progress
// of its last checkpoint otherwise.
func epochsDone(t *results.Trial) float64 {
	if t.Status.Finished() {
		return t.Epochs
	}
	return t.Epoch
}

// trained is the time t has trained: its recorded duration, plus the time
// since it was claimed when it is running.
func trained(t *results.Trial) float64 {
	if t.Status == results.Running && t.Lease != nil {
		return t.Duration + max(clock().Sub(t.Lease.Claimed).Seconds(), 0)
	}
	return t.Duration
}

// paramNames returns the names of the parameters of trials, in order of
// first appearance.
func paramNames(trials []results.Trial) []string {
	var names []string
	seen := map[string]bool{}
	for _, t := range trials {
		for _, p := range t.Params {
			if !seen[p.Name] {
				seen[p.Name] = true
				names = append(names, p.Name)
			}
		}
	}
	return names
}

// writeLeaderboard writes trials as an aligned table with a column per
// searched parameter; the selected best (sel, nil when none) is marked
// with *. Metrics are shown for trials trained to an outcome, "-"
// otherwise; test_acc exists for trials that were evaluated on the test
// set (the selected best, and earlier selections of an extended sweep).
func writeLeaderboard(w io.Writer, trials []results.Trial, sel *results.Best) error {
	var tb table
	tb.col("rank", true)
	tb.col("trial", true)
	tb.col("status", false)
	tb.col("val_acc", true)
	tb.col("val_loss", true)
	tb.col("train_acc", true)
	withTest := false
	for _, t := range trials {
		withTest = withTest || t.TestAcc != nil
	}
	if withTest {
		tb.col("test_acc", true)
	}
	names := paramNames(trials)
	for _, n := range names {
		tb.col(n, true)
	}
	withRung := false
	for _, t := range trials {
		withRung = withRung || t.Rung > 0
	}
	tb.col("epochs", true)
	if withRung {
		tb.col("rung", true)
	}
	tb.col("time", true)
	for i, t := range trials {
		mark := ""
		if sel != nil && sel.Trial == t.Number {
			mark = "*"
		}
		row := []string{strconv.Itoa(i + 1), mark + strconv.Itoa(t.Number), string(t.Status)}
		if hasMetrics(&t) {
			row = append(row, metric(t.ValAcc), metric(t.ValLoss), metric(t.TrainAcc))
		} else {
			row = append(row, "-", "-", "-")
		}
		if withTest {
			test := "-"
			if t.TestAcc != nil {
				test = metric(*t.TestAcc)
			}
			row = append(row, test)
		}
		for _, n := range names {
			v, ok := t.Params.Get(n)
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, humanValue(v))
		}
		switch {
		case t.Status == results.Pending:
			row = append(row, "-")
		default:
			row = append(row, human(math2(epochsDone(&t))))
		}
		if withRung {
			row = append(row, itoa(t.Rung))
		}
		if t.Status == results.Pending {
			row = append(row, "-")
		} else {
			row = append(row, seconds(trained(&t)))
		}
		tb.add(row...)
	}
	return tb.write(w, "")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// times says "once", "twice" or "n times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// testUsesWhy explains a test set used more than once.
func testUsesWhy(n int) string {
	if n > 1 {
		return " (an extended sweep selected a new best: each selection was evaluated on the test set)"
	}
	return ""
}

// testUses is the leaderboard's note of how often the test set was used.
func testUses(sw *results.Sweep) string {
	if n := sw.TestSetUses(); n > 0 {
		return "; test set used " + times(n) + " for this sweep"
	}
	return ""
}

// dbArg is the --db argument of a command printed for the user to run,
// quoted for a shell: the database's absolute path, so that the command
// works from any directory.
func dbArg(st *results.Store) string {
	p := st.Path()
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return shellQuote(p)
}

// self is this process as a lease owner, for the query commands' judgement
// of leases (one identity per process: trial.Self draws a random id).
var self = sync.OnceValue(trial.Self)

// staleLease is the rule by which the query commands tell a running trial
// whose lease is dead from one that runs: the rule `run` reclaims trials by
// (trial.Staleness), at the commands' clock.
func staleLease() func(results.Lease) bool {
	return trial.Staleness(self(), clock(), trial.DefaultLeaseTTL)
}
