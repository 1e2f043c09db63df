package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// Options say which trials a leaderboard shows, in which order. The zero
// Options show every trial, best first.
type Options struct {
	Top    int              // show the first Top trials only; 0: all
	Sort   string           // "": the sweep's ranking; else a key of Sort (KEY ascending, -KEY descending)
	Status []results.Status // show trials of these statuses only; empty: all
}

// Board is a sweep's leaderboard: its trials ranked, and those shown.
type Board struct {
	Sweep *results.Sweep
	// All is every trial of the sweep, ranked best first (Rank), then
	// sorted by Options.Sort when given.
	All []results.Trial
	// Shown are the trials of All that Options select, in All's order. It
	// may share All's array.
	Shown []results.Trial
	// Selected is the sweep's selected best trial while its selection
	// stands (results.Sweep.Selected), nil otherwise.
	Selected *results.Best
	// Finished reports whether every trial has finished.
	Finished bool
}

// NewBoard ranks trials, every trial of sweep sw, in place and returns
// their leaderboard under o. An unknown o.Sort key is an error wrapping
// ErrUnknownSortKey.
func NewBoard(sw *results.Sweep, trials []results.Trial, o Options) (*Board, error) {
	b := &Board{Sweep: sw, All: trials, Finished: true}
	for i := range trials {
		b.Finished = b.Finished && trials[i].Status.Finished()
	}
	b.Selected = Rank(sw, trials)
	if o.Sort != "" {
		if err := Sort(trials, o.Sort); err != nil {
			return nil, err
		}
	}
	b.Shown = FilterStatus(trials, o.Status)
	if o.Top > 0 && o.Top < len(b.Shown) {
		b.Shown = b.Shown[:o.Top]
	}
	return b, nil
}

// WriteTable writes the leaderboard for people: the line of Counts (stale
// as there), the table of WriteLeaderboard at time now, and what is
// selected, with how often the test set was used.
func (b *Board) WriteTable(w io.Writer, now time.Time, stale func(results.Lease) bool) error {
	sw := b.Sweep
	if _, err := fmt.Fprintln(w, Counts(sw.Name, b.All, stale)); err != nil {
		return err
	}
	if len(b.Shown) == 0 {
		_, err := fmt.Fprintln(w, "no trial matches")
		return err
	}
	if err := WriteLeaderboard(w, b.Shown, b.Selected, now); err != nil {
		return err
	}
	var err error
	switch sel := b.Selected; {
	case sel != nil:
		_, err = fmt.Fprintf(w, "* selected best: trial %d, val_acc %s, test_acc %s%s\n", sel.Trial, Metric(sel.ValAcc), Metric(sel.TestAcc), testUses(sw))
	case sw.Best != nil:
		_, err = fmt.Fprintf(w, "no trial is selected now: the sweep changed since trial %d was (test_acc %s)%s\n", sw.Best.Trial, Metric(sw.Best.TestAcc), testUses(sw))
	}
	return err
}

// testUses is the leaderboard's note of how often the test set was used.
func testUses(sw *results.Sweep) string {
	if n := sw.TestSetUses(); n > 0 {
		return "; test set used " + Times(n) + " for this sweep"
	}
	return ""
}

// WriteLeaderboard writes trials, in their order, as an aligned table with
// a column per searched parameter; the selected best (sel, nil when none)
// is marked with *. Metrics are shown for trials trained to an outcome
// (HasMetrics), "-" otherwise; test_acc exists for trials that were
// evaluated on the test set (the selected best, and earlier selections of
// an extended sweep); a running trial's time is Trained at now.
func WriteLeaderboard(w io.Writer, trials []results.Trial, sel *results.Best, now time.Time) error {
	withTest, withRung := false, false
	for i := range trials {
		withTest = withTest || trials[i].TestAcc != nil
		withRung = withRung || trials[i].Rung > 0
	}
	var tb Table
	for _, c := range []string{"rank", "trial", "status", "val_acc", "val_loss", "train_acc"} {
		tb.Col(c, c != "status")
	}
	if withTest {
		tb.Col("test_acc", true)
	}
	names := ParamNames(trials)
	for _, n := range names {
		tb.Col(n, true)
	}
	tb.Col("epochs", true)
	if withRung {
		tb.Col("rung", true)
	}
	tb.Col("time", true)
	for i := range trials {
		t := &trials[i]
		mark := ""
		if sel != nil && sel.Trial == t.Number {
			mark = "*"
		}
		row := []string{strconv.Itoa(i + 1), mark + strconv.Itoa(t.Number), string(t.Status)}
		if HasMetrics(t) {
			row = append(row, Metric(t.ValAcc), Metric(t.ValLoss), Metric(t.TrainAcc))
		} else {
			row = append(row, "-", "-", "-")
		}
		if withTest {
			test := "-"
			if t.TestAcc != nil {
				test = Metric(*t.TestAcc)
			}
			row = append(row, test)
		}
		for _, n := range names {
			v, ok := t.Params.Get(n)
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, HumanValue(v))
		}
		epochs, took := "-", "-"
		if t.Status != results.Pending {
			epochs, took = Epoch(EpochsDone(t)), Seconds(Trained(t, now))
		}
		row = append(row, epochs)
		if withRung {
			row = append(row, strconv.Itoa(t.Rung))
		}
		tb.Add(append(row, took)...)
	}
	return tb.Render(w, "")
}
