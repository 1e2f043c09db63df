package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

func init() {
	commands["export"] = command{summary: "every trial of a sweep as CSV or JSON", run: runExport}
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("export", "export NAME --format csv|json [--history] [-o FILE] [--db PATH]", stderr)
	format := fs.String("format", "csv", "output format: csv or json")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	history := fs.Bool("history", false, "per-epoch histories in long format: a row per trial and epoch (for pandas)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "csv", "json"); err != nil {
		return fail(stderr, "export", err)
	}
	st, err := results.OpenExisting(*db, results.Options{})
	if err != nil {
		return fail(stderr, "export", err)
	}
	trials, err := st.Trials(ctx, pos[0], results.Filter{})
	if err != nil {
		return fail(stderr, "export", err)
	}
	if *history {
		rows, err := historyRows(ctx, st, pos[0], trials)
		if err != nil {
			return fail(stderr, "export", err)
		}
		err = writeOutput(*out, stdout, func(w io.Writer) error {
			if *format == "json" {
				return writeJSON(w, rows)
			}
			return writeHistoryCSV(w, rows, paramNames(trials))
		})
		if err != nil {
			return fail(stderr, "export", err)
		}
		return exitOK
	}
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		if *format == "json" {
			return writeTrialsJSON(w, trials, false)
		}
		return writeTrialsCSV(w, trials, false)
	})
	if err != nil {
		return fail(stderr, "export", err)
	}
	return exitOK
}

// checkFormat returns an error listing the valid formats unless format is one.
func checkFormat(format string, valid ...string) error {
	if slices.Contains(valid, format) {
		return nil
	}
	return usagef("unknown format %q (valid: %s)", format, strings.Join(valid, ", "))
}

// writeOutput calls write with stdout when path is "" or "-", else with a
// temporary file beside path that replaces path once complete: a failed
// export never leaves a half-written file.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// trialRecord is a trial as export and leaderboard write it (JSON field
// names of DESIGN.md). Metrics are null when the trial was not trained to
// an outcome, or when they are NaN or infinite; for an unfinished trial,
// iterations and epochs are the progress of its last checkpoint.
type trialRecord struct {
	Rank        int            `json:"rank,omitempty"` // leaderboard only
	Trial       int            `json:"trial"`
	Key         string         `json:"key"`
	Status      results.Status `json:"status"`
	Params      results.Params `json:"params"`
	ValAcc      *float64       `json:"val_acc"`
	ValLoss     *float64       `json:"val_loss"`
	TrainAcc    *float64       `json:"train_acc"`
	FinalValAcc *float64       `json:"final_val_acc"`
	TestAcc     *float64       `json:"test_acc,omitempty"` // the selected best trial only
	Iterations  int            `json:"iterations"`
	Epochs      float64        `json:"epochs"`
	Rung        int            `json:"rung,omitempty"` // adaptive sweeps: rungs reached
	DivergedAt  int            `json:"diverged_at,omitempty"`
	BestEpoch   float64        `json:"best_epoch,omitempty"`    // when val_acc was reached
	Early       bool           `json:"early_stopped,omitempty"` // done, ended by its patience
	Duration    float64        `json:"duration_s"`
	Seed        uint64         `json:"seed"`
	Attempts    int            `json:"attempts"`
	Started     *time.Time     `json:"started"`
	Finished    *time.Time     `json:"finished"`
	Error       string         `json:"error"` // always present, "" when none: a field of the CLI contract
}

// finite returns &v, or nil when v is NaN or infinite or !ok.
func finite(v float64, ok bool) *float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func newRecord(t *results.Trial, rank int) trialRecord {
	m := hasMetrics(t)
	r := trialRecord{
		Rank: rank, Trial: t.Number, Key: t.Key, Status: t.Status, Params: t.Params,
		ValAcc: finite(t.ValAcc, m), ValLoss: finite(t.ValLoss, m), TrainAcc: finite(t.TrainAcc, m),
		FinalValAcc: finite(t.FinalValAcc, m), Iterations: t.Iterations, Epochs: t.Epochs, Rung: t.Rung,
		DivergedAt: t.DivergedAt, BestEpoch: t.BestEpoch, Early: t.EarlyStopped, Duration: t.Duration, Seed: t.Seed, Attempts: t.Attempts,
		Started: timePtr(t.Started), Finished: timePtr(t.Finished), Error: t.Error,
	}
	if t.TestAcc != nil {
		r.TestAcc = finite(*t.TestAcc, true)
	}
	if !t.Status.Finished() {
		r.Iterations, r.Epochs = t.Iteration, t.Epoch
	}
	if r.Params == nil {
		r.Params = results.Params{}
	}
	return r
}

// writeTrialsJSON writes trials as an indented JSON array of records, with
// their rank (position in trials) when ranked.
func writeTrialsJSON(w io.Writer, trials []results.Trial, ranked bool) error {
	recs := make([]trialRecord, len(trials))
	for i := range trials {
		recs[i] = newRecord(&trials[i], rankOf(i, ranked))
	}
	return writeJSON(w, recs)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func rankOf(i int, ranked bool) int {
	if ranked {
		return i + 1
	}
	return 0
}

// csvMetrics are the CSV columns after the parameters.
var csvMetrics = []string{"val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc",
	"iterations", "epochs", "best_epoch", "early_stopped", "rung", "diverged_at", "duration_s", "seed", "attempts", "started", "finished", "error"}

// writeTrialsCSV writes trials as CSV: one row per trial, one column per
// parameter (named after it, or param_NAME if a fixed column has its name),
// then every metric. Numbers keep full precision; absent values are empty,
// NaN and the infinities are NaN, inf and -inf (as pandas reads them).
func writeTrialsCSV(w io.Writer, trials []results.Trial, ranked bool) error {
	head := []string{"trial", "key", "status"}
	if ranked {
		head = append([]string{"rank"}, head...)
	}
	names := paramNames(trials)
	for _, n := range names {
		if slices.Contains(head, n) || slices.Contains(csvMetrics, n) || n == "rank" {
			n = "param_" + n
		}
		head = append(head, n)
	}
	head = append(head, csvMetrics...)
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	for i := range trials {
		t := &trials[i]
		r := newRecord(t, rankOf(i, ranked))
		row := make([]string, 0, len(head))
		if ranked {
			row = append(row, strconv.Itoa(r.Rank))
		}
		row = append(row, strconv.Itoa(r.Trial), r.Key, string(r.Status))
		for _, n := range names {
			v, ok := t.Params.Get(n)
			if ok {
				row = append(row, results.Param{Value: v}.String())
			} else {
				row = append(row, "")
			}
		}
		// NaN metrics of a trained trial are written as such.
		metricCell := func(p *float64, v float64) string {
			if p == nil && hasMetrics(t) && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return nonFinite(v)
			}
			return num(p)
		}
		diverged := ""
		if r.DivergedAt > 0 {
			diverged = strconv.Itoa(r.DivergedAt)
		}
		row = append(row,
			metricCell(r.ValAcc, t.ValAcc), metricCell(r.ValLoss, t.ValLoss), metricCell(r.TrainAcc, t.TrainAcc),
			metricCell(r.FinalValAcc, t.FinalValAcc), num(r.TestAcc),
			strconv.Itoa(r.Iterations), strconv.FormatFloat(r.Epochs, 'g', -1, 64),
			strconv.FormatFloat(r.BestEpoch, 'g', -1, 64), strconv.FormatBool(r.Early), strconv.Itoa(r.Rung), diverged,
			strconv.FormatFloat(r.Duration, 'g', -1, 64), strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Attempts),
			tm(r.Started), tm(r.Finished), r.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// historyRow is one epoch of one trial in `export --history`: the long
// format pandas pivots (df.pivot(index="epoch", columns="trial", values="val_acc")).
type historyRow struct {
	Trial  int            `json:"trial"`
	Status results.Status `json:"status"`
	Params results.Params `json:"params"`
	epochRecord
}

// historyRows reads every trial's per-epoch history.
func historyRows(ctx context.Context, st *results.Store, sweep string, trials []results.Trial) ([]historyRow, error) {
	rows := []historyRow{}
	for _, t := range trials {
		if t.Status == results.Pending {
			continue
		}
		_, hist, err := st.Trial(ctx, sweep, t.Number)
		if err != nil {
			return nil, err
		}
		for _, e := range hist {
			rows = append(rows, historyRow{Trial: t.Number, Status: t.Status, Params: t.Params, epochRecord: newEpochRecord(e)})
		}
	}
	return rows, nil
}

// historyColumns are the CSV columns of `export --history` after the
// parameters.
var historyColumns = []string{"epoch", "iteration", "loss", "train_acc", "val_acc", "val_loss", "learning_rate"}

// writeHistoryCSV writes history rows as CSV: trial, status, a column per
// parameter, then the epoch's values (full precision; NaN as pandas reads it).
func writeHistoryCSV(w io.Writer, rows []historyRow, names []string) error {
	cw := csv.NewWriter(w)
	head := []string{"trial", "status"}
	for _, n := range names {
		if slices.Contains(head, n) || slices.Contains(historyColumns, n) {
			n = "param_" + n
		}
		head = append(head, n)
	}
	if err := cw.Write(append(head, historyColumns...)); err != nil {
		return err
	}
	num := func(p *float64) string {
		if p == nil {
			return "NaN"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for _, r := range rows {
		row := []string{strconv.Itoa(r.Trial), string(r.Status)}
		for _, n := range names {
			v, ok := r.Params.Get(n)
			if ok {
				row = append(row, results.Param{Value: v}.String())
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.FormatFloat(r.Epoch, 'g', -1, 64), strconv.Itoa(r.Iteration),
			num(r.Loss), num(r.TrainAcc), num(r.ValAcc), num(r.ValLoss), strconv.FormatFloat(r.LearningRate, 'g', -1, 64))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
