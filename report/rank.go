package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// ErrUnknownSortKey is the error of Sort and NewBoard for a key that is
// neither a metric nor a parameter of the trials.
var ErrUnknownSortKey = errors.New("unknown sort key")

// ErrUnknownStatus is the error of ParseStatuses for a name that is not a
// trial status.
var ErrUnknownStatus = errors.New("unknown status")

// HasMetrics reports whether t's metrics mean something: it was trained
// to an outcome (done, diverged, or stopped at a rung: paused or pruned).
func HasMetrics(t *results.Trial) bool {
	switch t.Status {
	case results.Done, results.Paused, results.Pruned, results.Diverged:
		return true
	}
	return false
}

// EpochsDone is how far t trained: its epochs when finished, the progress
// of its last checkpoint otherwise.
func EpochsDone(t *results.Trial) float64 {
	if t.Status.Finished() {
		return t.Epochs
	}
	return t.Epoch
}

// Trained is the time in seconds t has trained at time now: its recorded
// duration, plus the time since it was claimed when it is running.
func Trained(t *results.Trial, now time.Time) float64 {
	if t.Status == results.Running && t.Lease != nil {
		return t.Duration + max(now.Sub(t.Lease.Claimed).Seconds(), 0)
	}
	return t.Duration
}

// ParamNames returns the names of the searched parameters of trials, in
// order of first appearance.
func ParamNames(trials []results.Trial) []string {
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

// Rank sorts trials, every trial of sweep sw, best first by the sweep's
// metric (results.Rank) and returns the sweep's selected best trial while
// its selection stands (results.Sweep.Selected), nil otherwise.
func Rank(sw *results.Sweep, trials []results.Trial) *results.Best {
	results.Rank(trials, sw.Maximize())
	return sw.Selected(trials)
}

// metricKeys are the sort keys besides the parameters, in the order the
// error of an unknown key lists them.
var metricKeys = []string{"trial", "status", "val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc",
	"iterations", "epochs", "rung", "diverged_at", "duration_s", "seed", "attempts"}

// SortKeys returns the keys Sort accepts for trials: the metrics (trial,
// status, val_acc, ... attempts), then the parameters of trials.
func SortKeys(trials []results.Trial) []string {
	return append(slices.Clone(metricKeys), ParamNames(trials)...)
}

// Sort sorts trials stably by key, a metric or a parameter of theirs
// (SortKeys): ascending, or descending when key starts with "-". Numbers
// compare numerically, lists element by element, anything else by its
// text (FormatValue). Trials without a value for the key (the metrics of
// a trial not trained to an outcome, NaN, a parameter it does not have)
// come last either way, in their order. An unknown key is an error that
// wraps ErrUnknownSortKey and lists the valid ones; trials are unchanged.
func Sort(trials []results.Trial, key string) error {
	name, desc := strings.CutPrefix(key, "-")
	param := !slices.Contains(metricKeys, name)
	if param && !slices.Contains(ParamNames(trials), name) {
		return fmt.Errorf("%w %q (valid: %s; -KEY sorts descending)", ErrUnknownSortKey, key, strings.Join(SortKeys(trials), ", "))
	}
	// Sort keys, not Trials: a Trial is hundreds of bytes to swap.
	type entry struct {
		v  any
		ok bool
		i  int
	}
	es := make([]entry, len(trials))
	for i := range trials {
		v, ok := sortValue(&trials[i], name, param)
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
	sorted := make([]results.Trial, len(trials))
	for k, e := range es {
		sorted[k] = trials[e.i]
	}
	copy(trials, sorted)
	return nil
}

// boolCmp orders false before true.
func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sortValue is t's value of key, a parameter when param, and whether it
// has one.
func sortValue(t *results.Trial, key string, param bool) (any, bool) {
	if param {
		return t.Params.Get(key)
	}
	num := func(v float64, ok bool) (any, bool) { return v, ok && !math.IsNaN(v) }
	m := HasMetrics(t)
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
		return EpochsDone(t), true
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
// lists element by element (a prefix first), anything else by its text.
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
	return strings.Compare(FormatValue(a), FormatValue(b))
}

// ParseStatuses parses a comma-separated list of statuses ("done,failed",
// spaces allowed around names). An unknown name is an error that wraps
// ErrUnknownStatus and lists the valid ones.
func ParseStatuses(s string) ([]results.Status, error) {
	var sts []results.Status
	for _, v := range strings.Split(s, ",") {
		st := results.Status(strings.TrimSpace(v))
		if !st.Valid() {
			names := make([]string, len(results.Statuses))
			for i, v := range results.Statuses {
				names[i] = string(v)
			}
			return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownStatus, v, strings.Join(names, ", "))
		}
		sts = append(sts, st)
	}
	return sts, nil
}

// FilterStatus returns the trials whose status is one of statuses, in
// their order, in a new slice; all of them (trials itself) when statuses
// is empty.
func FilterStatus(trials []results.Trial, statuses []results.Status) []results.Trial {
	if len(statuses) == 0 {
		return trials
	}
	return slices.DeleteFunc(slices.Clone(trials), func(t results.Trial) bool { return !slices.Contains(statuses, t.Status) })
}

// Counts is the line that counts a sweep's trials by status:
//
//	sweep "grid": 6 trials: 2 done, 1 diverged, 1 failed, 1 running, 1 pending
//
// A running trial without a lease, or whose lease stale (when not nil)
// reports dead, counts as stale rather than running.
func Counts(name string, trials []results.Trial, stale func(results.Lease) bool) string {
	counts := map[results.Status]int{}
	nStale := 0
	for _, t := range trials {
		if t.Status == results.Running && (t.Lease == nil || stale != nil && stale(*t.Lease)) {
			nStale++
			continue
		}
		counts[t.Status]++
	}
	s := fmt.Sprintf("sweep %q: %s:", name, Count(len(trials), "trial"))
	for _, st := range []results.Status{results.Done, results.Diverged, results.Failed, results.Pruned,
		results.Paused, results.Interrupted, results.Running} {
		if counts[st] > 0 {
			s += fmt.Sprintf(" %d %s,", counts[st], st)
		}
	}
	if nStale > 0 {
		s += fmt.Sprintf(" %d stale,", nStale)
	}
	if counts[results.Pending] > 0 {
		s += fmt.Sprintf(" %d %s,", counts[results.Pending], results.Pending)
	}
	return s[:len(s)-1]
}
