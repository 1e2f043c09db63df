package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// This file is the field contract of the CLI's JSON and CSV outputs
// (DESIGN.md, "CLI contract"): scripts and notebooks read these names, in
// this order. Add fields; never rename, reorder or drop one.

// TrialRecord is a trial as export, leaderboard, best and show write it.
// Metrics are null when the trial was not trained to an outcome
// (HasMetrics), or when they are NaN or infinite; for an unfinished trial,
// iterations and epochs are the progress of its last checkpoint.
type TrialRecord struct {
	Rank        int            `json:"rank,omitempty"` // leaderboard only
	Trial       int            `json:"trial"`
	Key         string         `json:"key"`
	Status      results.Status `json:"status"`
	Params      results.Params `json:"params"` // {} when none
	ValAcc      *float64       `json:"val_acc"`
	ValLoss     *float64       `json:"val_loss"`
	TrainAcc    *float64       `json:"train_acc"`
	FinalValAcc *float64       `json:"final_val_acc"`
	TestAcc     *float64       `json:"test_acc,omitempty"` // trials evaluated on the test set only
	Iterations  int            `json:"iterations"`
	Epochs      float64        `json:"epochs"`
	Rung        int            `json:"rung,omitempty"` // adaptive sweeps: rungs reached
	DivergedAt  int            `json:"diverged_at,omitempty"`
	BestEpoch   float64        `json:"best_epoch,omitempty"`    // when val_acc was reached
	Early       bool           `json:"early_stopped,omitempty"` // done, ended by its patience
	Duration    float64        `json:"duration_s"`
	Seed        uint64         `json:"seed"`
	Attempts    int            `json:"attempts"`
	Started     *time.Time     `json:"started"`         // UTC; null before the first claim
	Finished    *time.Time     `json:"finished"`        // UTC; null until finished
	Error       string         `json:"error"`           // always present, "" when none: a field of the CLI contract
	Group       int            `json:"group,omitempty"` // fused trials: the group it trained in
}

// NewTrialRecord returns t's record, with rank when it is not 0.
func NewTrialRecord(t *results.Trial, rank int) TrialRecord {
	m := HasMetrics(t)
	r := TrialRecord{
		Rank: rank, Trial: t.Number, Key: t.Key, Status: t.Status, Params: t.Params,
		ValAcc: Finite(t.ValAcc, m), ValLoss: Finite(t.ValLoss, m), TrainAcc: Finite(t.TrainAcc, m),
		FinalValAcc: Finite(t.FinalValAcc, m), Iterations: t.Iterations, Epochs: t.Epochs, Rung: t.Rung,
		DivergedAt: t.DivergedAt, BestEpoch: t.BestEpoch, Early: t.EarlyStopped, Duration: t.Duration, Seed: t.Seed, Attempts: t.Attempts,
		Started: timePtr(t.Started), Finished: timePtr(t.Finished), Error: t.Error, Group: t.Group,
	}
	if t.TestAcc != nil {
		r.TestAcc = Finite(*t.TestAcc, true)
	}
	if !t.Status.Finished() {
		r.Iterations, r.Epochs = t.Iteration, t.Epoch
	}
	if r.Params == nil {
		r.Params = results.Params{}
	}
	return r
}

// Finite returns &v, or nil when v is NaN or infinite or !ok: a JSON
// number or null.
func Finite(v float64, ok bool) *float64 {
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

// EpochRecord is a row of a trial's history in JSON; a NaN or infinite
// value is null.
type EpochRecord struct {
	Epoch        float64  `json:"epoch"`
	Iteration    int      `json:"iteration"`
	LearningRate float64  `json:"learning_rate"`
	Loss         *float64 `json:"loss"`
	TrainAcc     *float64 `json:"train_acc"`
	ValAcc       *float64 `json:"val_acc"`
	ValLoss      *float64 `json:"val_loss"`
}

// NewEpochRecord returns e's record.
func NewEpochRecord(e results.Epoch) EpochRecord {
	return EpochRecord{Epoch: e.Epoch, Iteration: e.Iteration, LearningRate: e.LearningRate,
		Loss: Finite(e.Loss, true), TrainAcc: Finite(e.TrainAcc, true), ValAcc: Finite(e.ValAcc, true), ValLoss: Finite(e.ValLoss, true)}
}

// HistoryRow is one epoch of one trial in `export --history`: the long
// format pandas pivots (df.pivot(index="epoch", columns="trial",
// values="val_acc")).
type HistoryRow struct {
	Trial  int            `json:"trial"`
	Status results.Status `json:"status"`
	Params results.Params `json:"params"`
	EpochRecord
}

// HistoryRows returns a row per epoch of hist, trial t's history.
func HistoryRows(t *results.Trial, hist []results.Epoch) []HistoryRow {
	rows := make([]HistoryRow, len(hist))
	for i, e := range hist {
		rows[i] = HistoryRow{Trial: t.Number, Status: t.Status, Params: t.Params, EpochRecord: NewEpochRecord(e)}
	}
	return rows
}

// LeaseRecord is a running trial's lease in `show --format json`.
type LeaseRecord struct {
	Owner     string    `json:"owner"` // host:pid
	Claimed   time.Time `json:"claimed"`
	Heartbeat time.Time `json:"heartbeat"`
	Live      bool      `json:"live"`    // the owner still holds the lease: fresh heartbeat, or a live process on this host
	Process   string    `json:"process"` // what is known of the owner's process: alive, stopped, gone, unknown (another host)
}

// ShowRecord is `show --format json`: a trial, its lease while it runs,
// the stack of its panic, its history.
type ShowRecord struct {
	TrialRecord
	Lease   *LeaseRecord  `json:"lease,omitempty"`
	Stack   string        `json:"stack,omitempty"`
	History []EpochRecord `json:"history"`
}

// BestRecord is `best --format json`: the selected trial (Final), or on an
// unfinished sweep the current leader by the validation metric (not
// Final, no test_acc), or no trial at all.
type BestRecord struct {
	Final      bool     `json:"final"`
	Metric     string   `json:"metric"`     // the selection metric
	Unfinished int      `json:"unfinished"` // trials not finished yet
	TestUses   int      `json:"test_uses"`  // times the test set was evaluated for this sweep
	TestLoss   *float64 `json:"test_loss,omitempty"`
	*TrialRecord
}

// SweepRecord is a sweep's object in `ls --format json`, and its row in
// CSV.
type SweepRecord struct {
	results.Summary
	Stale     int      `json:"stale"`     // trials left running by a process that is gone or missed its heartbeats (not counted in running)
	Processes []string `json:"processes"` // host:pid of the processes running it now; [] when none
}

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteTrialsJSON writes trials as a JSON array of TrialRecords, with
// their rank (1 + position in trials) when ranked.
func WriteTrialsJSON(w io.Writer, trials []results.Trial, ranked bool) error {
	recs := make([]TrialRecord, len(trials))
	for i := range trials {
		recs[i] = NewTrialRecord(&trials[i], rankOf(i, ranked))
	}
	return WriteJSON(w, recs)
}

func rankOf(i int, ranked bool) int {
	if ranked {
		return i + 1
	}
	return 0
}

// WriteSweepsJSON writes recs as a JSON array, times in UTC.
func WriteSweepsJSON(w io.Writer, recs []SweepRecord) error {
	recs = slices.Clone(recs)
	for i := range recs {
		recs[i].Created = recs[i].Created.UTC()
	}
	return WriteJSON(w, recs)
}

// csvMetrics are the CSV columns of trials after the parameters.
var csvMetrics = []string{"val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc",
	"iterations", "epochs", "best_epoch", "early_stopped", "rung", "diverged_at", "duration_s", "seed", "attempts", "started", "finished", "error",
	"group"}

// WriteTrialsCSV writes trials as CSV: rank (when ranked), trial, key,
// status, a column per parameter (ParamNames; named after it, or
// param_NAME when a fixed column has its name), then every metric, named
// as in TrialRecord. Numbers keep full precision; absent values are empty;
// NaN and infinite metrics of a trained trial are NaN, inf and -inf (as
// pandas reads them).
func WriteTrialsCSV(w io.Writer, trials []results.Trial, ranked bool) error {
	head := []string{"trial", "key", "status"}
	if ranked {
		head = append([]string{"rank"}, head...)
	}
	names := ParamNames(trials)
	head = append(head, paramColumns(names, head, csvMetrics, []string{"rank"})...)
	head = append(head, csvMetrics...)
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	for i := range trials {
		t := &trials[i]
		r := NewTrialRecord(t, rankOf(i, ranked))
		row := make([]string, 0, len(head))
		if ranked {
			row = append(row, strconv.Itoa(r.Rank))
		}
		row = append(row, strconv.Itoa(r.Trial), r.Key, string(r.Status))
		row = append(row, paramCells(t.Params, names)...)
		// NaN metrics of a trained trial are written as such.
		metric := func(p *float64, v float64) string {
			if p == nil && HasMetrics(t) && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return NonFinite(v)
			}
			return numCell(p, "")
		}
		diverged := ""
		if r.DivergedAt > 0 {
			diverged = strconv.Itoa(r.DivergedAt)
		}
		row = append(row,
			metric(r.ValAcc, t.ValAcc), metric(r.ValLoss, t.ValLoss), metric(r.TrainAcc, t.TrainAcc),
			metric(r.FinalValAcc, t.FinalValAcc), numCell(r.TestAcc, ""),
			strconv.Itoa(r.Iterations), exact(r.Epochs),
			exact(r.BestEpoch), strconv.FormatBool(r.Early), strconv.Itoa(r.Rung), diverged,
			exact(r.Duration), strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Attempts),
			tm(r.Started), tm(r.Finished), r.Error, groupCell(r.Group))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// groupCell is a trial's fused group in CSV: empty when it trained on its
// own.
func groupCell(g int) string {
	if g == 0 {
		return ""
	}
	return strconv.Itoa(g)
}

// historyColumns are the CSV columns of `export --history` after the
// parameters.
var historyColumns = []string{"epoch", "iteration", "loss", "train_acc", "val_acc", "val_loss", "learning_rate"}

// WriteHistoryCSV writes history rows as CSV: trial, status, a column per
// parameter of names (named as in WriteTrialsCSV), then the epoch's values
// (full precision; NaN and infinite values as NaN, as pandas reads them).
func WriteHistoryCSV(w io.Writer, rows []HistoryRow, names []string) error {
	cw := csv.NewWriter(w)
	head := []string{"trial", "status"}
	head = append(head, paramColumns(names, head, historyColumns)...)
	if err := cw.Write(append(head, historyColumns...)); err != nil {
		return err
	}
	for _, r := range rows {
		row := append([]string{strconv.Itoa(r.Trial), string(r.Status)}, paramCells(r.Params, names)...)
		row = append(row, exact(r.Epoch), strconv.Itoa(r.Iteration),
			numCell(r.Loss, "NaN"), numCell(r.TrainAcc, "NaN"), numCell(r.ValAcc, "NaN"), numCell(r.ValLoss, "NaN"), exact(r.LearningRate))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSweepsCSV writes recs as CSV, a row per sweep, with the JSON field
// names as header; processes are space-separated.
func WriteSweepsCSV(w io.Writer, recs []SweepRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"name", "total", "done", "running", "stale", "paused", "pending", "interrupted", "diverged", "failed", "pruned", "best_val_acc", "active", "processes", "created"}); err != nil {
		return err
	}
	for _, r := range recs {
		row := append([]string{r.Name}, sweepCounts(&r)...)
		row = append(row, numCell(r.BestValAcc, ""), strconv.FormatBool(r.Active),
			strings.Join(r.Processes, " "), r.Created.UTC().Format(time.RFC3339Nano))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SweepColumns are the columns of the sweeps' table for people (`sweep
// ls`, the server's index): SweepRow's cells.
var SweepColumns = []string{"sweep", "trials", "done", "running", "stale", "paused", "pending", "interrupted", "diverged", "failed", "pruned", "best_val_acc", "state"}

// SweepRow is r's row of the sweeps' table for people: its name, its
// counts by status, its best val_acc and whether it runs. Every cell but
// the first and the last is a number.
func SweepRow(r *SweepRecord) []string {
	best := "-"
	if r.BestValAcc != nil {
		best = Metric(*r.BestValAcc)
	}
	state := "stopped"
	switch {
	case r.Active:
		state = "running on " + strings.Join(r.Processes, ", ")
	case r.Pending+r.Running+r.Stale+r.Paused+r.Interrupted == 0:
		state = "finished"
	}
	return append(append([]string{r.Name}, sweepCounts(r)...), best, state)
}

// WriteSweepsTable writes recs as a table for people, a row per sweep
// (SweepColumns, SweepRow).
func WriteSweepsTable(w io.Writer, recs []SweepRecord) error {
	var tb Table
	for i, c := range SweepColumns {
		tb.Col(c, i > 0 && i < len(SweepColumns)-1)
	}
	for i := range recs {
		tb.Add(SweepRow(&recs[i])...)
	}
	return tb.Render(w, "")
}

// sweepCounts are r's counts, in the order of the columns of sweeps: total,
// done, running, stale, paused, pending, interrupted, diverged, failed,
// pruned.
func sweepCounts(r *SweepRecord) []string {
	ns := []int{r.Total, r.Done, r.Running, r.Stale, r.Paused, r.Pending, r.Interrupted, r.Diverged, r.Failed, r.Pruned}
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return s
}

// HistoryTable returns a trial's per-epoch history as a table for people.
func HistoryTable(hist []results.Epoch) *Table {
	var tb Table
	for _, c := range historyColumns {
		tb.Col(c, true)
	}
	for _, e := range hist {
		tb.Add(Epoch(e.Epoch), strconv.Itoa(e.Iteration), Metric(e.Loss), Metric(e.TrainAcc), Metric(e.ValAcc), Metric(e.ValLoss), Human(e.LearningRate))
	}
	return &tb
}

// paramColumns returns the CSV column names of the parameters names: each
// name, or param_NAME when one of the fixed columns taken has it.
func paramColumns(names []string, taken ...[]string) []string {
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = n
		for _, t := range taken {
			if slices.Contains(t, n) {
				cols[i] = "param_" + n
				break
			}
		}
	}
	return cols
}

// paramCells returns the CSV cells of ps's values of the parameters names:
// FormatValue, or "" when ps has none.
func paramCells(ps results.Params, names []string) []string {
	cells := make([]string, len(names))
	for i, n := range names {
		if v, ok := ps.Get(n); ok {
			cells[i] = FormatValue(v)
		}
	}
	return cells
}

// exact formats v in full precision, shortest form: 41.66, 1e-05.
func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// numCell is a CSV cell of a number that may be absent: exact, or none.
func numCell(p *float64, none string) string {
	if p == nil {
		return none
	}
	return exact(*p)
}
