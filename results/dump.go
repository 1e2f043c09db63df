package results

import "fmt"

// CheckDump refuses a Dump that no store could hold as it is, checking
// every invariant a store's Check checks: an empty name, a metric other
// than val_acc or val_loss, a negative Keep or Elapsed, trial numbers
// other than 1..N in order, an empty or repeated key, a status that is not
// one, a running trial without a lease (or another with one), a paused
// trial without a checkpoint or a finished one with one, weights of a
// trial that is not done, a negative Group, adaptive state out of order
// (Rung not len(Evals), evaluations not increasing, a promoted trial at no
// rung, a paused one promoted), more than MaxDecisions decision records or
// one that is not valid JSON, a Best or test evaluation naming a trial
// that is not done. Stores call it before Load writes anything.
//
// It sets the defaults EnsureSweep sets: Metric "" becomes val_acc, Keep 0
// DefaultKeep.
func CheckDump(d *Dump) error {
	sw := &d.Sweep
	err := checkSweep(sw)
	switch {
	case sw.Name == "":
		return fmt.Errorf("dump: %w", err)
	case err != nil:
		return fmt.Errorf("dump of sweep %q: %w", sw.Name, err)
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
		case t.Group < 0:
			return fmt.Errorf("%s: group %d < 0", where, t.Group)
		case len(AdaptiveProblems(t)) > 0:
			return fmt.Errorf("%s%s", where, AdaptiveProblems(t)[0])
		case len(t.Decisions) > MaxDecisions:
			return fmt.Errorf("%s: %d decision records (at most %d)", where, len(t.Decisions), MaxDecisions)
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

// checkSweep sets the defaults of sw (Metric "" is val_acc, Keep 0
// DefaultKeep) and refuses an empty name, another metric or a negative
// Keep: what CheckDump and CheckNewSweep both check of a sweep's record.
func checkSweep(sw *Sweep) error {
	if sw.Metric == "" {
		sw.Metric = "val_acc"
	}
	if sw.Keep == 0 {
		sw.Keep = DefaultKeep
	}
	switch {
	case sw.Name == "":
		return fmt.Errorf("empty sweep name")
	case sw.Metric != "val_acc" && sw.Metric != "val_loss":
		return fmt.Errorf("metric %q is not val_acc or val_loss", sw.Metric)
	case sw.Keep < 0:
		return fmt.Errorf("keep %d < 0", sw.Keep)
	}
	return nil
}

// CheckNewSweep sets the defaults of a sweep given to EnsureSweep (Metric
// "" is val_acc, Keep 0 DefaultKeep) and refuses an empty name, another
// metric, a negative Keep, or a trial with an empty key: what every store
// checks before it writes.
func CheckNewSweep(sw *Sweep, trials []Trial) error {
	if err := checkSweep(sw); err != nil {
		return err
	}
	for i := range trials {
		if trials[i].Key == "" {
			return fmt.Errorf("trial %d of %d has an empty key", i+1, len(trials))
		}
	}
	return nil
}

// AdaptiveProblems lists what is wrong with a trial's adaptive state: a
// Rung that is not len(Evals), evaluations whose resources do not increase
// from above 0, a negative Target or Bracket, a paused trial promoted or at
// no rung, a promoted one at no rung. Each problem reads after the trial's
// name ("trial 3 of sweep x: rung 2, but 1 evaluations"). Stores' checks
// and CheckDump use it.
func AdaptiveProblems(t *Trial) []string {
	var out []string
	if t.Rung != len(t.Evals) {
		out = append(out, fmt.Sprintf(": rung %d, but %d evaluations", t.Rung, len(t.Evals)))
	}
	prev := 0
	for i, e := range t.Evals {
		if e.Resource <= prev {
			out = append(out, fmt.Sprintf(": evaluation %d at %d is not beyond the one before (at %d)", i+1, e.Resource, prev))
		}
		prev = e.Resource
	}
	if t.Target < 0 || t.Bracket < 0 {
		out = append(out, fmt.Sprintf(": target %d or bracket %d < 0", t.Target, t.Bracket))
	}
	switch {
	case t.Status == Paused && t.Promoted:
		out = append(out, " is paused and promoted")
	case t.Status == Paused && len(t.Evals) == 0:
		out = append(out, " is paused but has reached no rung")
	case t.Promoted && len(t.Evals) == 0:
		out = append(out, " is promoted but has reached no rung")
	}
	return out
}
