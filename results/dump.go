package results

import "fmt"

// CheckDump refuses a Dump that no store could hold as it is: an empty
// name, a metric other than val_acc or val_loss, trial numbers other than
// 1..N in order, an empty or repeated key, a status that is not one, a
// running trial without a lease (or another with one), a paused trial
// without a checkpoint, weights of a trial that is not done, more than
// MaxDecisions decision records or one that is not valid JSON. Stores
// call it before Load writes anything.
func CheckDump(d *Dump) error {
	sw := &d.Sweep
	switch {
	case sw.Name == "":
		return fmt.Errorf("dump: empty sweep name")
	case sw.Metric != "val_acc" && sw.Metric != "val_loss":
		return fmt.Errorf("dump of sweep %q: metric %q is not val_acc or val_loss", sw.Name, sw.Metric)
	case sw.Keep < 0:
		return fmt.Errorf("dump of sweep %q: keep %d < 0", sw.Name, sw.Keep)
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
		case td.Model != nil && t.Status != Done:
			return fmt.Errorf("%s: weights of a trial that is %s", where, t.Status)
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
	return nil
}
