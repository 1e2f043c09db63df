package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["best"] = command{summary: "the selected best trial of a sweep and its test accuracy", run: runBest}
}

func runBest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("best", "best NAME [--format table|json] [--db DB]", stderr)
	format := fs.String("format", "table", "output format: table or json")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return fail(stderr, "best", err)
	}
	name := pos[0]
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "best", err)
	}
	defer st.Close()
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return fail(stderr, "best", err)
	}
	trials, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return fail(stderr, "best", err)
	}
	sel := report.Rank(sw, trials)
	rec := report.BestRecord{Metric: sw.Metric}
	for _, t := range trials {
		if !t.Status.Finished() {
			rec.Unfinished++
		}
	}
	var top *results.Trial
	if len(trials) > 0 && trials[0].Status == results.Done {
		top = &trials[0]
	}
	switch {
	case rec.Unfinished > 0:
		// No selection before the sweep ends: the leader may still change.
	case top == nil:
		fmt.Fprintf(stderr, "sweep best: no trial of sweep %q finished training (%s)\n", name, strings.TrimPrefix(countsLine(name, trials), fmt.Sprintf("sweep %q: ", name)))
		return exitRuntime
	case sel == nil:
		// Finished, and its leader's test accuracy not recorded yet:
		// evaluate once.
		fmt.Fprintf(stderr, "sweep best: evaluating trial %d on the test set (once; the result is recorded)\n", top.Number)
		best, bt, err := selectBest(ctx, st, sw)
		if err != nil {
			return fail(stderr, "best", err)
		}
		if sw, err = st.Sweep(ctx, name); err != nil { // with the evaluation recorded
			return fail(stderr, "best", err)
		}
		sel, top = best, bt
	}
	if top != nil {
		r := report.NewTrialRecord(top, 0)
		rec.TrialRecord = &r
	}
	rec.TestUses = sw.TestSetUses()
	if sel != nil {
		rec.Final = true
		rec.TestLoss = report.Finite(sel.TestLoss, true)
	}
	if *format == "json" {
		if err := report.WriteJSON(stdout, rec); err != nil {
			return fail(stderr, "best", err)
		}
		return exitOK
	}
	if err := writeBest(stdout, sw, sel, trials, top, rec); err != nil {
		return fail(stderr, "best", err)
	}
	return exitOK
}

// selectBest loads the sweep's data from its stored spec and selects (and
// records) its best trial.
func selectBest(ctx context.Context, st results.Store, sw *results.Sweep) (*results.Best, *results.Trial, error) {
	spec, err := storedSpec(sw)
	if err != nil {
		return nil, nil, err
	}
	ds, err := loadData(ctx, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("data of %q: %w", sw.Name, err)
	}
	return trial.SelectBest(ctx, st, sw.Name, ds)
}

func writeBest(w io.Writer, sw *results.Sweep, sel *results.Best, trials []results.Trial, top *results.Trial, rec report.BestRecord) error {
	if rec.Unfinished > 0 {
		fmt.Fprintf(w, "sweep %q is not finished: %d of %d trials have not finished, so no best trial is selected yet.\n",
			sw.Name, rec.Unfinished, len(trials))
		if top == nil {
			fmt.Fprintln(w, "No trial has finished training yet.")
			return nil
		}
		fmt.Fprintf(w, "Current leader by %s (NOT FINAL: it may change, and has no test accuracy until the sweep ends):\n", sw.Metric)
	} else {
		fmt.Fprintf(w, "sweep %q: best trial %d of %d, selected on %s; the test set measures the selected trial only\n",
			sw.Name, top.Number, len(trials), sw.Metric)
	}
	tb := report.NewKV()
	tb.Add("trial", itoa(top.Number))
	tb.Add("params", report.HumanParams(top.Params))
	tb.Add("val_acc", fmt.Sprintf("%s  (val_loss %s)", report.Metric(top.ValAcc), report.Metric(top.ValLoss)))
	if rec.Final {
		tb.Add("test_acc", fmt.Sprintf("%s  (test_loss %s)", report.Metric(sel.TestAcc), report.Metric(sel.TestLoss)))
	}
	tb.Add("train_acc", report.Metric(top.TrainAcc))
	tb.Add("trained", fmt.Sprintf("%d iterations, %s epochs, %s", top.Iterations, report.Epoch(top.Epochs), report.Seconds(top.Duration)))
	tb.Add("seed", fmt.Sprint(top.Seed))
	if rec.TestUses > 0 {
		tb.Add("test set", fmt.Sprintf("used %s for this sweep%s", report.Times(rec.TestUses), testUsesWhy(rec.TestUses)))
	}
	if err := tb.Render(w, "  "); err != nil {
		return err
	}
	if rec.Final {
		_, err := fmt.Fprintf(w, "Its weights: sweep export-model %s -o best.npz\n", shellQuote(sw.Name))
		return err
	}
	return nil
}

// testUsesWhy explains a test set used more than once.
func testUsesWhy(n int) string {
	if n > 1 {
		return " (an extended sweep selected a new best: each selection was evaluated on the test set)"
	}
	return ""
}
