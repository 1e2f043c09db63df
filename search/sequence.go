package search

import (
	"errors"
	"fmt"
	"slices"
)

// Fixed is the scheduler of a search whose trials do not depend on results:
// the trials of Spec.Trials (a grid, or random trials drawn up front), each
// trained to the end. Next starts the first of them, in spec order, whose
// configuration no trial of the history has, so an extended spec (more grid
// values, more random trials) starts only its new trials.
type Fixed struct {
	trials []Trial
}

var _ Scheduler = (*Fixed)(nil)

// NewFixed returns the scheduler of spec's trials; it fails as Spec.Trials
// does.
func NewFixed(spec *Spec) (*Fixed, error) {
	trials, err := spec.Trials()
	if err != nil {
		return nil, err
	}
	return &Fixed{trials: trials}, nil
}

// Next starts the first trial of the spec that h does not have; else it
// waits while trials are in flight; else the sweep is finished.
func (f *Fixed) Next(h []TrialRecord) (Decision, error) {
	have := make(map[string]bool, len(h))
	for i := range h {
		have[h[i].Key] = true
	}
	for i := range f.trials {
		if t := &f.trials[i]; !have[t.Key] {
			n := NextNumber(h)
			return Decision{Action: Start, Number: n, Trial: t.clone(), Target: resourceOf(t.Config), Reason: Reason{
				Text: fmt.Sprintf("start trial %d: trial %d of the spec's %d, the first not yet in the sweep", n, t.Index+1, len(f.trials)),
			}}, nil
		}
	}
	return waitOrFinish(h, fmt.Sprintf("all %d trials of the spec are in the sweep", len(f.trials))), nil
}

// End prunes paused trials, of which Fixed has none of its own.
func (f *Fixed) End(h []TrialRecord) []Decision { return endPaused(h) }

// Random is the scheduler of random search with any sampler: it draws new
// trials one at a time, each seeing the results of those before it (TPE),
// until the sweep has Trials trials, and trains each to the end.
type Random struct {
	spec   *Spec
	smp    Sampler
	trials int
}

var _ Scheduler = (*Random)(nil)

// NewRandom returns the scheduler that draws trials for spec from smp until
// the sweep has trials of them (for a spec with a budget and no trials, the
// spec's max_trials). With NewRandomSampler(spec) it starts, in a new
// sweep, the trials of Spec.Trials in order.
func NewRandom(spec *Spec, smp Sampler, trials int) *Random {
	return &Random{spec: spec, smp: smp, trials: trials}
}

// Next starts a trial drawn by the sampler while the sweep has fewer than
// its trials; else it waits while trials are in flight; else the sweep is
// finished.
func (r *Random) Next(h []TrialRecord) (Decision, error) {
	if len(h) < r.trials {
		n := NextNumber(h)
		t, err := r.spec.Draw(h, n, r.smp)
		switch {
		case errors.Is(err, ErrTooManyTrials):
			return waitOrFinish(h, "every configuration of the space is in the sweep"), nil
		case err != nil:
			return Decision{}, err
		}
		return Decision{Action: Start, Number: n, Trial: t, Target: resourceOf(t.Config), Reason: Reason{
			Text: fmt.Sprintf("start trial %d: %d of %d trials drawn", n, len(h)+1, r.trials),
		}}, nil
	}
	return waitOrFinish(h, fmt.Sprintf("all %d trials drawn", r.trials)), nil
}

// End prunes paused trials, of which Random has none of its own.
func (r *Random) End(h []TrialRecord) []Decision { return endPaused(h) }

// waitOrFinish is the decision of a scheduler with nothing new to start:
// wait for the trials in flight, or finish.
func waitOrFinish(h []TrialRecord, why string) Decision {
	n := 0
	for i := range h {
		if h[i].Status.InFlight() {
			n++
		}
	}
	if n > 0 {
		return Decision{Action: Wait, Reason: Reason{Text: fmt.Sprintf("%s; waiting for %d in flight", why, n)}}
	}
	return Decision{Action: Finished, Reason: Reason{Text: why + "; none in flight"}}
}

// clone returns a copy of t that shares no slice with it.
func (t *Trial) clone() Trial {
	c := *t
	c.Config = t.Config.Clone()
	c.Params = slices.Clone(t.Params)
	for i, p := range c.Params {
		c.Params[i].Value = cloneValue(p.Value)
	}
	return c
}
