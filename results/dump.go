package results

import "fmt"

// CheckDump refuses a Dump that no store could hold as it is, checking
// every invariant a store's Check checks: an empty name, a metric other
// than val_acc or val_loss, a negative Keep or Elapsed, trial numbers
// other than 1..N in order, an empty or repeated key, a status that is not
// one, a running trial without a lease (or another with one), a paused
// trial without a checkpoint or a finished one with one, weights of a
// trial that is not done, adaptive state out of order (Rung not
// len(Evals), evaluations not increasing, a promoted trial at no rung, a
// paused one promoted), more than MaxDecisions decision records or one
// that is not valid JSON, a Best or test evaluation naming a trial that is
// not done. Stores call it before Load writes anything.
//
// It sets the defaults EnsureSweep sets: Metric "" becomes val_acc, Keep 0
// DefaultKeep.
func CheckDump(d *Dump) error {
	sw := &d.Sweep
	if sw.Metric == "" {
		sw.Metric = "val_acc"
	}
	if sw.Keep == 0 {
		sw.Keep = DefaultKeep
	}
	switch {
	case sw.Name == "":
		return fmt.Errorf("dump: empty sweep name")
	case sw.Metric != "val_acc" && sw.Metric != "val_loss":
		return fmt.Errorf("dump of sweep %q: metric %q is not val_acc or val_loss", sw.Name, sw.Metric)
	case sw.Keep < 0:
		return fmt.Errorf("dump of sweep %q: keep %d < 0", sw.Name, sw.Keep)
	case sw.Elapsed < 0 || sw.Elapsed != sw.Elapsed:
		return fmt.Errorf("dump of sweep %q: elapsed time %v", sw.Name, sw.Elapsed)
	}
	keys := make(map[string]int, len(d.Trials))
	for i := range d.Trials {
		td := &d.Trials[i]
		t := &td.Trial
		where := fmt.Sprintf("dump of sweep %q trial %d", sw.Name, t.Number)
		switch {
		case t.Number != i+1:
			return fmt.Errorf("dump of sweep %q: trial %d is number %d", sw.Name, i+1, t.Number)
		case t.Key == "":
			return fmt.Errorf("%s: empty key", where)
		case keys[t.Key] != 0:
			return fmt.Errorf("%s: key %q is trial %d's too", where, t.Key, keys[t.Key])
		case !t.Status.Valid():
			return fmt.Errorf("%s: status %q is not a status", where, t.Status)
		case (t.Status == Running) != (t.Lease != nil):
			return fmt.Errorf("%s: status %s with lease %v", where, t.Status, t.Lease != nil)
		case t.Status == Paused && td.Checkpoint == nil:
			return fmt.Errorf("%s: paused without a checkpoint", where)
		case td.Checkpoint != nil && t.Status.Finished():
			return fmt.Errorf("%s: a checkpoint of a trial that is %s", where, t.Status)
		case td.Model != nil && t.Status != Done:
			return fmt.Errorf("%s: weights of a trial that is %s", where, t.Status)
		case t.Rung != len(t.Evals):
			return fmt.Errorf("%s: rung %d, but %d evaluations", where, t.Rung, len(t.Evals))
		case t.Target < 0 || t.Bracket < 0:
			return fmt.Errorf("%s: target %d or bracket %d < 0", where, t.Target, t.Bracket)
		case t.Promoted && (t.Rung == 0 || t.Status == Paused):
			return fmt.Errorf("%s: promoted while %s at rung %d", where, t.Status, t.Rung)
		case t.Status == Paused && t.Rung == 0:
			return fmt.Errorf("%s: paused at no rung", where)
		case len(t.Decisions) > MaxDecisions:
			return fmt.Errorf("%s: %d decision records (at most %d)", where, len(t.Decisions), MaxDecisions)
		}
		prev := 0
		for _, e := range t.Evals {
			if e.Resource <= prev {
				return fmt.Errorf("%s: evaluation at %d is not beyond the one before (at %d)", where, e.Resource, prev)
			}
			prev = e.Resource
		}
		keys[t.Key] = t.Number
		for _, dec := range t.Decisions {
			if len(dec) == 0 {
				return fmt.Errorf("%s: an empty decision record", where)
			}
			if err := CheckDecision(dec); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	evals := sw.Evaluations
	if sw.Best != nil {
		evals = append(evals[:len(evals):len(evals)], *sw.Best)
	}
	for _, b := range evals {
		if b.Trial < 1 || b.Trial > len(d.Trials) || d.Trials[b.Trial-1].Trial.Status != Done {
			return fmt.Errorf("dump of sweep %q: a test evaluation of trial %d, which is not a done trial", sw.Name, b.Trial)
		}
	}
	return nil
}
