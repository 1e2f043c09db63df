package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["show"] = command{summary: "one trial: params, status, history, error", run: runShow}
}

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("show", "show NAME TRIAL [--tail N] [--epochs] [--format table|json] [--db DB]", stderr)
	format := fs.String("format", "table", "output format: table or json")
	tail := fs.Int("tail", 0, "show only the last `N` epochs of the history (0: all)")
	epochsOnly := fs.Bool("epochs", false, "show only the per-epoch history")
	pos, code, ok := parseArgs(fs, args, 2, 2)
	if !ok {
		return code
	}
	if *tail < 0 {
		return fail(stderr, "show", usagef("--tail %d: want a number of epochs >= 0", *tail))
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return fail(stderr, "show", err)
	}
	n, err := trialNumber(pos[1], pos[0])
	if err != nil {
		return fail(stderr, "show", err)
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "show", err)
	}
	defer st.Close()
	t, hist, err := st.Trial(ctx, pos[0], n)
	if err != nil {
		return fail(stderr, "show", err)
	}
	shown := len(hist)
	if *tail > 0 && *tail < len(hist) {
		hist = hist[len(hist)-*tail:]
	}
	var lease *report.LeaseRecord
	if t.Status == results.Running && t.Lease != nil {
		l := t.Lease
		live := !staleLease()(*l)
		lease = &report.LeaseRecord{Owner: l.Owner.String(), Claimed: l.Claimed.UTC(), Heartbeat: l.Heartbeat.UTC(), Live: live,
			Process: trial.OwnerState(self(), l.Owner).String()}
	}
	if *format == "json" {
		r := report.ShowRecord{TrialRecord: report.NewTrialRecord(t, 0), Lease: lease, Stack: t.Stack, History: make([]report.EpochRecord, len(hist))}
		for i, e := range hist {
			r.History[i] = report.NewEpochRecord(e)
		}
		var v any = r
		if *epochsOnly {
			v = r.History
		}
		if err := report.WriteJSON(stdout, v); err != nil {
			return fail(stderr, "show", err)
		}
		return exitOK
	}
	if *epochsOnly {
		if err := report.HistoryTable(hist).Render(stdout, ""); err != nil {
			return fail(stderr, "show", err)
		}
		return exitOK
	}
	testNote := ""
	if t.TestAcc != nil {
		if testNote, err = testAccNote(ctx, st, pos[0], t.Number); err != nil {
			return fail(stderr, "show", err)
		}
	}
	if err := writeTrial(stdout, pos[0], t, hist, shown, lease, testNote); err != nil {
		return fail(stderr, "show", err)
	}
	return exitOK
}

// writeTrial writes one trial for people.
// hist may be the tail of the history's total epochs.
// testNote says what the trial's test accuracy is (testAccNote).
func writeTrial(w io.Writer, sweep string, t *results.Trial, hist []results.Epoch, total int, lease *report.LeaseRecord, testNote string) error {
	fmt.Fprintf(w, "sweep %q, trial %d: %s\n", sweep, t.Number, t.Status)
	tb := report.NewKV()
	kv := func(k, v string) { tb.Add(k, v) }
	kv("params", report.HumanParams(t.Params))
	kv("key", t.Key)
	kv("seed", strconv.FormatUint(t.Seed, 10))
	if t.Group != 0 {
		kv("group", fmt.Sprintf("%d (fused: trained side by side with its group's other trials, on the same minibatches)", t.Group))
	}
	status := string(t.Status)
	switch t.Status {
	case results.Diverged:
		status += fmt.Sprintf(" (the loss became NaN or infinite at iteration %d)", t.DivergedAt)
	case results.Done:
		if t.EarlyStopped {
			status += " " + earlyStopNote(t)
		}
	case results.Running, results.Interrupted:
		if t.Iteration > 0 {
			status += fmt.Sprintf(" (last checkpoint at epoch %s, iteration %d)", report.Human(t.Epoch), t.Iteration)
		} else {
			status += " (no checkpoint yet)"
		}
	}
	if t.Attempts > 0 {
		status += fmt.Sprintf(", attempt %d", t.Attempts)
	}
	kv("status", status)
	if lease != nil {
		ago := report.Seconds(clock().Sub(lease.Heartbeat).Seconds())
		kv("owner", lease.Owner+" since "+report.Stamp(lease.Claimed))
		kv("heartbeat", fmt.Sprintf("%s (%s ago, %s)", report.Stamp(lease.Heartbeat), ago, leaseState(lease)))
	}
	if report.HasMetrics(t) {
		kv("val_acc", fmt.Sprintf("%s  (best epoch; val_loss %s)", report.Metric(t.ValAcc), report.Metric(t.ValLoss)))
		kv("final", fmt.Sprintf("val_acc %s  train_acc %s", report.Metric(t.FinalValAcc), report.Metric(t.TrainAcc)))
		kv("trained", fmt.Sprintf("%d iterations, %s epochs", t.Iterations, report.Epoch(t.Epochs)))
	}
	if len(t.Evals) > 0 {
		rungs := make([]string, len(t.Evals))
		for i, e := range t.Evals {
			rungs[i] = fmt.Sprintf("%d: %s at %d", i+1, report.Metric(e.Value), e.Resource)
		}
		kv("rungs", strings.Join(rungs, ", "))
	}
	if t.TestAcc != nil {
		kv("test_acc", report.Metric(*t.TestAcc)+"  ("+testNote+")")
	}
	if t.Status == results.Pending {
		return tb.Render(w, "  ")
	}
	kv("started", report.Stamp(t.Started))
	if t.Status.Finished() {
		kv("finished", report.Stamp(t.Finished))
	}
	kv("time", report.Seconds(report.Trained(t, clock())))
	if err := tb.Render(w, "  "); err != nil {
		return err
	}
	if len(t.Decisions) > 0 {
		fmt.Fprintf(w, "\ndecisions (the scheduler's, in order):\n")
		for _, raw := range t.Decisions {
			var d trial.Decision
			if err := json.Unmarshal(raw, &d); err != nil || d.Reason == "" {
				fmt.Fprintf(w, "  %s\n", raw)
				continue
			}
			fmt.Fprintf(w, "  %s\n", d.Reason)
		}
	}
	if t.Error != "" {
		fmt.Fprintf(w, "\nerror:\n%s\n", indentText(t.Error, "  "))
	}
	if t.Stack != "" {
		fmt.Fprintf(w, "\nstack:\n%s\n", indentText(t.Stack, "  "))
	}
	if len(hist) == 0 {
		return nil
	}
	if len(hist) < total {
		fmt.Fprintf(w, "\nhistory (last %d of %d epochs):\n", len(hist), total)
	} else {
		fmt.Fprintf(w, "\nhistory (%s):\n", report.Count(len(hist), "epoch"))
	}
	return report.HistoryTable(hist).Render(w, "  ")
}

// testAccNote says why trial n of sweep has a test accuracy: it is the
// selected best, or it was when it was evaluated and the sweep has changed
// since (results.Sweep.Selected).
func testAccNote(ctx context.Context, st results.Store, sweep string, n int) (string, error) {
	sw, err := st.Sweep(ctx, sweep)
	if err != nil {
		return "", err
	}
	ts, err := st.Trials(ctx, sweep, results.Filter{})
	if err != nil {
		return "", err
	}
	switch sel := report.Rank(sw, ts); {
	case sel != nil && sel.Trial == n:
		return "the selected best trial", nil
	case sel != nil:
		return fmt.Sprintf("evaluated when it was selected; trial %d is selected now", sel.Trial), nil
	}
	return "evaluated when it was selected; the sweep has changed since, and no trial is selected now", nil
}

// leaseState says what is known of a running trial's lease (l.Live, by
// the rule `run` reclaims trials with: trial.Staleness) and of its owner's
// process.
func leaseState(l *report.LeaseRecord) string {
	stopped := l.Process == trial.ProcessStopped.String()
	switch {
	case l.Process == trial.ProcessGone.String():
		return "stale: its process is gone; the next run reclaims the trial"
	case stopped && !l.Live:
		return "lease expired: its process still exists but is stopped (SIGSTOP?); the next run reclaims the trial (if the process is continued first, it goes on)"
	case stopped:
		return "its process is stopped (SIGSTOP?) and sends no heartbeats: the lease expires unless it is continued"
	case l.Live:
		return "alive"
	case l.Process == trial.ProcessAlive.String():
		return "lease expired: its process still exists but sends no heartbeats (hung, or waiting for the database); the next run reclaims the trial"
	case l.Process == trial.ProcessUnknown.String() && l.Owner != "" && !strings.HasPrefix(l.Owner, self().Host+":"):
		return "lease expired: its process runs on another host, whether it still exists is unknown; the next run reclaims the trial"
	}
	return "lease expired: whether its process still exists is unknown here; the next run reclaims the trial"
}

// trialNumber parses the TRIAL argument of a command on sweep.
func trialNumber(arg, sweep string) (int, error) {
	n, err := strconv.Atoi(arg)
	if err != nil {
		return 0, usagef("trial %q: want a trial number (see sweep leaderboard %s)", arg, shellQuote(sweep))
	}
	return n, nil
}

// indentText indents every line of s.
func indentText(s, indent string) string {
	s = strings.TrimRight(s, "\n")
	return indent + strings.ReplaceAll(s, "\n", "\n"+indent)
}

// earlyStopNote says that a done trial stopped early and which epoch's
// weights it kept.
func earlyStopNote(t *results.Trial) string {
	return fmt.Sprintf("(stopped early at epoch %s: no better val_acc since epoch %s, whose weights it keeps)", report.Human(t.Epochs), report.Human(t.BestEpoch))
}
