package results

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"
)

// PlanAction is what a Plan asks ClaimNext to do.
type PlanAction int

// The actions of a plan.
const (
	// PlanWait: nothing to run now; trials in flight may free work when
	// they pause or end. ClaimNext returns ErrWait.
	PlanWait PlanAction = iota
	// PlanStart: create Plan.Trial and claim it.
	PlanStart
	// PlanPromote: claim paused trial Plan.Number, to train to Plan.Target.
	PlanPromote
	// PlanFinished: nothing runs and nothing will. ClaimNext returns
	// ErrNoWork.
	PlanFinished
)

var planActionNames = [...]string{"wait", "start", "promote", "finished"}

// String returns the action's name: wait, start, promote or finished.
func (a PlanAction) String() string {
	if a < 0 || int(a) >= len(planActionNames) {
		return fmt.Sprintf("action(%d)", int(a))
	}
	return planActionNames[a]
}

// Plan is what a scheduler decided, for ClaimNext to apply.
type Plan struct {
	Action PlanAction
	// Trial is, for PlanStart, the new trial: its Key, Params, Config,
	// Seed, Bracket and Target are taken (every other field is set by
	// ClaimNext). Its Number is 0, or the number the new trial gets (the
	// sweep's highest plus one): a scheduler that seeds the trial from its
	// number says which it expects, and ClaimNext refuses the plan if the
	// number differs. Unused for other actions.
	Trial *Trial
	// Number is, for PlanPromote, the paused trial to promote.
	Number int
	// Target is, for PlanPromote, the resource to train the trial to now:
	// beyond its last evaluation's.
	Target int
	// Decision is the scheduler's record of the decision, valid JSON
	// (opaque here), appended to the started or promoted trial's
	// Decisions; nil for none.
	Decision json.RawMessage
	// Prune lists paused trials to mark pruned, whatever the Action (the
	// end of a sweep comes with PlanFinished).
	Prune []Pruning
}

// Pruning is a paused trial the scheduler stops for good: it becomes
// Pruned, keeping its metrics and evaluations; its checkpoint is deleted.
type Pruning struct {
	Number   int
	Decision json.RawMessage // appended to the trial's Decisions; nil for none
}

// CallDecide calls decide, turning a panic into an error with its stack:
// left to the transaction's wrapper, it would read as a damaged file.
func CallDecide(decide func([]Trial) (Plan, error), trials []Trial) (p Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return decide(trials)
}

// CheckDecision refuses a decision record that is not valid JSON or is
// too large.
func CheckDecision(d json.RawMessage) error {
	switch {
	case len(d) == 0:
		return nil
	case len(d) > MaxDecisionSize:
		return fmt.Errorf("decision record of %d bytes (at most %d)", len(d), MaxDecisionSize)
	case !json.Valid(d):
		return fmt.Errorf("decision record is not valid JSON: %.40q", d)
	}
	return nil
}

// check refuses a plan that cannot be applied whatever the trials; next
// is the number a new trial gets.
func (p *Plan) Check(next int) error {
	for _, q := range p.Prune {
		if err := CheckDecision(q.Decision); err != nil {
			return fmt.Errorf("plan: prune trial %d: %w", q.Number, err)
		}
	}
	if err := CheckDecision(p.Decision); err != nil {
		return fmt.Errorf("plan %s: %w", p.Action, err)
	}
	switch p.Action {
	case PlanWait, PlanFinished:
		return nil
	case PlanStart:
		switch t := p.Trial; {
		case t == nil:
			return fmt.Errorf("plan start: no trial")
		case t.Key == "":
			return fmt.Errorf("plan start: the trial has an empty key")
		case t.Number != 0 && t.Number != next:
			return fmt.Errorf("plan start: trial %d, but the sweep's next trial is %d", t.Number, next)
		case t.Target < 0 || t.Bracket < 0:
			return fmt.Errorf("plan start: target %d or bracket %d < 0", t.Target, t.Bracket)
		}
		return nil
	case PlanPromote:
		if p.Target <= 0 {
			return fmt.Errorf("plan promote trial %d: target %d", p.Number, p.Target)
		}
		return nil
	}
	return fmt.Errorf("plan: unknown action %s", p.Action)
}

// lastEval is the trial's latest evaluation, zero if none.
func (t *Trial) LastEval() Eval {
	if len(t.Evals) == 0 {
		return Eval{}
	}
	return t.Evals[len(t.Evals)-1]
}

// addEval appends e to t's evaluations (Rung + 1) and clears Promoted: the
// trial has reached its next rung.
func (t *Trial) AddEval(e Eval) error {
	if last := t.LastEval(); e.Resource <= last.Resource {
		return fmt.Errorf("trial %d: evaluation at %d is not beyond its last (at %d)", t.Number, e.Resource, last.Resource)
	}
	t.Evals = append(t.Evals, e)
	t.Rung = len(t.Evals)
	t.Promoted = false
	return nil
}

// Finish applies outcome o of the trial's attempt to its record, as every
// store's Finish does: o.Eval (when not nil) appended to Evals, Status,
// Metrics, Error, Stack, Finished = now, Duration += o.Duration, the lease
// cleared.
func (t *Trial) Finish(o Outcome, now time.Time) error {
	if o.Eval != nil {
		if err := t.AddEval(*o.Eval); err != nil {
			return err
		}
	}
	t.Status = o.Status
	t.Metrics = o.Metrics
	t.Error, t.Stack = o.Error, o.Stack
	t.Finished = now
	t.Duration += o.Duration
	t.Lease = nil
	return nil
}
