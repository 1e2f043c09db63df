package trial

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/nn"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// GroupJob is one claimed group to train: its members side by side on one
// minibatch stream (nn.TrainGroup).
type GroupJob struct {
	Claim *results.GroupClaim
	Data  *data.Dataset
	// Save queues a checkpoint of every member still training, all of one
	// moment, to be written in one transaction (Store.SaveCheckpoints); an
	// error (the saves ended) stops the training, and the members are
	// released, not finished.
	Save func(cks []results.TrialCheckpoint) error
	// Leave records that Claim.Trials[i] ended (done, diverged, failed):
	// its outcome. It is called as soon as the member leaves the group,
	// before the group's next step; an error stops the training (the
	// member, and the others, are then released).
	Leave func(i int, o results.Outcome) error
	// Progress, when set, is told of every epoch Claim.Trials[i] finished.
	Progress func(i int, h results.Epoch, total int)
}

// GroupResult is how a group's training ended. The members that left it
// were given to Leave. The others (Left[i] false) were interrupted: when
// Checkpoints is not nil, Checkpoints[i] and Histories[i] are where each
// stopped (all of one moment, to be saved together); Err says why. A
// resume that found its members' checkpoints inconsistent (not of one
// moment) started the group from scratch: Restarted.
type GroupResult struct {
	Left        []bool
	Checkpoints []*results.Checkpoint
	Histories   [][]results.Epoch
	Err         error
	Restarted   bool
}

// TrainGroup trains a claimed group until every member has left it or the
// training stops (ctx cancelled, a save or a Leave failed). A panic fails
// every member still in the group (through Leave).
//
// The members train in the order of their trial numbers, the group's
// finished members included (they left in earlier attempts, and keep
// their columns in the fused product until the end of the epoch they
// left in, as then), so that a member's result does not depend on
// interruptions. The group's minibatch stream is seeded from the seed of
// its lowest-numbered member.
func TrainGroup(ctx context.Context, j GroupJob) (res GroupResult) {
	n := len(j.Claim.Trials)
	res.Left = make([]bool, n)
	defer func() {
		if p := recover(); p != nil {
			res = leaveAll(j, res, results.Outcome{Status: results.Failed, Error: fmt.Sprintf("panic: %v", p), Stack: string(debug.Stack())})
			res.Checkpoints, res.Histories = nil, nil
		}
	}()
	if testHookTrain != nil {
		for _, t := range j.Claim.Trials {
			testHookTrain(t)
		}
	}
	cfgs := make([]search.Config, n)
	dtype := ""
	for i, t := range j.Claim.Trials {
		var err error
		if err = json.Unmarshal(t.Config, &cfgs[i]); err != nil {
			err = fmt.Errorf("trial %d: decode config: %w", t.Number, err)
		}
		if cfgs[i].DType == "" {
			cfgs[i].DType = "float32"
		}
		if err == nil && dtype != "" && cfgs[i].DType != dtype {
			err = fmt.Errorf("trial %d: dtype %s in a group of %s", t.Number, cfgs[i].DType, dtype)
		}
		if err != nil {
			// It can never train: it leaves before the first step, and
			// leaves no trace in the others' training.
			if lerr := j.Leave(i, failed(err).Outcome); lerr != nil {
				res.Err = lerr
				return res
			}
			res.Left[i] = true
			continue
		}
		dtype = cfgs[i].DType
	}
	if dtype == "float64" {
		return trainGroup[float64](ctx, j, cfgs, res)
	}
	return trainGroup[float32](ctx, j, cfgs, res)
}

// groupSeed is the seed of a group's minibatch stream: a mix of its
// lowest-numbered member's seed (splitmix64's finaliser).
func groupSeed(seed uint64) uint64 {
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// steps is the number of training steps a finished trial took part in, as
// nn.GroupMember.Left counts them (nn.Result.Steps); -1 for one that never
// took a step.
func steps(t results.Trial) int {
	n := t.Metrics.Iterations
	if t.Status == results.Diverged {
		n = t.Metrics.DivergedAt
	}
	if n <= 0 {
		return -1
	}
	return n
}

// groupMember is one member of a group's training: a claimed trial that
// trains (claim ≥ 0, its index in GroupClaim.Trials) or a finished one
// that left in an earlier attempt after left steps.
type groupMember struct {
	trial *results.Trial
	claim int
	left  int
}

func trainGroup[T nn.Float](ctx context.Context, j GroupJob, cfgs []search.Config, res GroupResult) GroupResult {
	claimed := j.Claim.Trials
	classes := len(j.Data.Classes)
	// Every member by trial number: the claimed ones that train, and those
	// that left in earlier attempts (their configs give their columns'
	// width).
	var ms []groupMember
	var fcfgs []search.Config
	for i, t := range claimed {
		if !res.Left[i] {
			ms = append(ms, groupMember{trial: t, claim: i})
		}
	}
	for i := range j.Claim.Finished {
		t := &j.Claim.Finished[i]
		var cfg search.Config
		if l := steps(*t); l > 0 && json.Unmarshal(t.Config, &cfg) == nil {
			ms = append(ms, groupMember{trial: t, claim: -1 - len(fcfgs), left: l})
			fcfgs = append(fcfgs, cfg)
		}
	}
	slices.SortFunc(ms, func(a, b groupMember) int { return a.trial.Number - b.trial.Number })
	training := 0
	for _, m := range ms {
		if m.claim >= 0 {
			training++
		}
	}
	if training == 0 {
		return res
	}
	// The stream's seed: the group's lowest-numbered member's, finished or
	// not (it never changes).
	lowest := ms[0].trial
	for _, t := range claimed {
		if t.Number < lowest.Number {
			lowest = t
		}
	}
	for i := range j.Claim.Finished {
		if t := &j.Claim.Finished[i]; t.Number < lowest.Number {
			lowest = t
		}
	}

	// Resume only when every member that trains has a checkpoint of one
	// moment of the group; otherwise the group starts again.
	snaps := make([]*nn.Snapshot[T], len(claimed))
	resume, some := true, false
	var ref *nn.Snapshot[T]
	for _, m := range ms {
		if m.claim < 0 {
			continue
		}
		ck := j.Claim.Checkpoints[m.claim]
		if ck == nil {
			resume = false
			continue
		}
		some = true
		s, err := DecodeSnapshot[T](ck.Data)
		switch {
		case err != nil || s.BatchRNG == nil:
			resume = false
		case ref == nil:
			ref = s
		case s.Iteration != ref.Iteration || !bytes.Equal(s.BatchRNG, ref.BatchRNG):
			resume = false
		}
		snaps[m.claim] = s
	}
	if !resume {
		res.Restarted = some
		clear(snaps)
	}

	cfgOf := func(m groupMember) search.Config {
		if m.claim >= 0 {
			return cfgs[m.claim]
		}
		return fcfgs[-1-m.claim]
	}
	members := make([]nn.GroupMember[T], len(ms))
	for k, m := range ms {
		members[k] = nn.GroupMember[T]{Config: NNConfig(cfgOf(m), m.trial.Seed, classes), Left: m.left}
		if m.claim >= 0 {
			members[k].Resume = snaps[m.claim]
		}
	}
	var lead search.Config
	for _, m := range ms {
		if m.claim >= 0 {
			lead = cfgOf(m)
			break
		}
	}
	perEpoch := max(j.Data.Train.N/max(lead.BatchSize, 1), 1)
	total := totalIterations(lead, j.Data.Train.N)
	reported := make([]int, len(ms))
	for k, m := range ms {
		if m.claim >= 0 && snaps[m.claim] != nil {
			reported[k] = len(snaps[m.claim].History)
		}
	}
	progress := func(k int, hist []results.Epoch) {
		if j.Progress != nil {
			for _, h := range hist[reported[k]:] {
				j.Progress(ms[k].claim, h, total)
			}
		}
		reported[k] = len(hist)
	}

	scale, shift, err := inputTransform(j.Data, lead.Preprocess)
	if err != nil {
		return failAll(j, res, fmt.Errorf("group %d: %w", j.Claim.Group, err))
	}
	// A Leave that fails stops the training: the others are released.
	tctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	leaveFailed := false
	opt := nn.GroupOptions[T]{
		Seed: groupSeed(lowest.Seed),
		Hook: func(_ context.Context, ss []*nn.Snapshot[T]) error {
			var cks []results.TrialCheckpoint
			for k, s := range ss {
				if s == nil {
					continue
				}
				hist := history(s.History)
				progress(k, hist)
				t := ms[k].trial
				cks = append(cks, results.TrialCheckpoint{Trial: t.Number, Attempt: t.Attempts, History: hist,
					Checkpoint: results.Checkpoint{Epoch: float64(s.Epoch), Iteration: s.Iteration, Data: EncodeSnapshot(s)}})
			}
			if len(cks) == 0 {
				return nil
			}
			return j.Save(cks)
		},
		Leave: func(k int, r *nn.Result[T]) {
			m := ms[k]
			if m.claim < 0 || leaveFailed {
				return // after a failed Leave the rest are released
			}
			out, _ := outcomeOf(r, cfgOf(m), perEpoch, "")
			progress(k, out.History)
			if err := j.Leave(m.claim, out); err != nil {
				leaveFailed = true
				stop(errLeave{err})
				return
			}
			res.Left[m.claim] = true
		},
	}
	trainData, valData := nnData(j.Data.Train, scale, shift), nnData(j.Data.Val, scale, shift)
	rs, err := nn.TrainGroup[T](tctx, members, trainData, valData, opt)
	if err != nil && rs == nil && errors.Is(err, nn.ErrConfig) && resume {
		// A checkpoint that does not fit its member's net (a damaged or
		// foreign record): the group starts again, as when one is
		// missing; results do not change.
		for k := range members {
			members[k].Resume = nil
		}
		clear(reported)
		res.Restarted = true
		rs, err = nn.TrainGroup[T](tctx, members, trainData, valData, opt)
	}
	if cause := context.Cause(tctx); errors.As(cause, new(errLeave)) {
		err = cause.(errLeave).err
	}
	switch {
	case err != nil && rs == nil && errors.Is(err, nn.ErrConfig):
		return failAll(j, res, fmt.Errorf("group %d: %w", j.Claim.Group, err))
	case rs == nil:
		// The hook failed (a checkpoint could not be saved): the last saved
		// checkpoints stand.
		res.Err = err
		return res
	}
	// Cancelled: every member still in the group stopped at one moment.
	for k, r := range rs {
		m := ms[k]
		if m.claim < 0 || res.Left[m.claim] || r == nil || r.Snapshot == nil {
			continue
		}
		if res.Checkpoints == nil {
			res.Checkpoints = make([]*results.Checkpoint, len(claimed))
			res.Histories = make([][]results.Epoch, len(claimed))
		}
		s := r.Snapshot
		res.Checkpoints[m.claim] = &results.Checkpoint{Epoch: float64(s.Iteration) / float64(perEpoch), Iteration: s.Iteration, Data: EncodeSnapshot(s)}
		res.Histories[m.claim] = history(r.History)
	}
	res.Err = err
	return res
}

// errLeave is the cause of a group training stopped because a member's
// outcome could not be recorded.
type errLeave struct{ err error }

func (e errLeave) Error() string { return e.err.Error() }
func (e errLeave) Unwrap() error { return e.err }

// failAll fails every member still in the group with err.
func failAll(j GroupJob, res GroupResult, err error) GroupResult {
	return leaveAll(j, res, failed(err).Outcome)
}

// leaveAll ends every member still in the group with outcome o.
func leaveAll(j GroupJob, res GroupResult, o results.Outcome) GroupResult {
	for i, l := range res.Left {
		if l {
			continue
		}
		if lerr := j.Leave(i, o); lerr != nil {
			res.Err = errors.Join(res.Err, lerr)
			continue
		}
		res.Left[i] = true
	}
	return res
}
