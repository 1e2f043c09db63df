package boltstore

import "github.com/sweep-dev/sweep/results"

// The domain types, errors and encodings are package results's; this
// store, which was that package before PostgreSQL joined it, names them
// unqualified through these aliases.

type (
	Status       = results.Status
	Owner        = results.Owner
	Lease        = results.Lease
	Sweep        = results.Sweep
	Input        = results.Input
	DataRef      = results.DataRef
	Best         = results.Best
	Param        = results.Param
	Params       = results.Params
	Metrics      = results.Metrics
	Trial        = results.Trial
	Eval         = results.Eval
	Epoch        = results.Epoch
	Checkpoint   = results.Checkpoint
	Tensor       = results.Tensor
	Model        = results.Model
	Outcome      = results.Outcome
	Summary      = results.Summary
	Filter       = results.Filter
	CorruptError = results.CorruptError
	Plan         = results.Plan
	PlanAction   = results.PlanAction
	Pruning      = results.Pruning
)

const (
	Pending     = results.Pending
	Running     = results.Running
	Paused      = results.Paused
	Done        = results.Done
	Diverged    = results.Diverged
	Failed      = results.Failed
	Pruned      = results.Pruned
	Interrupted = results.Interrupted

	PlanWait     = results.PlanWait
	PlanStart    = results.PlanStart
	PlanPromote  = results.PlanPromote
	PlanFinished = results.PlanFinished

	DefaultKeep  = results.DefaultKeep
	MaxDecisions = results.MaxDecisions
)

var (
	ErrNotFound     = results.ErrNotFound
	ErrNoSweep      = results.ErrNoSweep
	ErrNoTrial      = results.ErrNoTrial
	ErrLocked       = results.ErrLocked
	ErrCorrupt      = results.ErrCorrupt
	ErrSchema       = results.ErrSchema
	ErrLeaseLost    = results.ErrLeaseLost
	ErrNoWork       = results.ErrNoWork
	ErrWait         = results.ErrWait
	ErrDuplicateKey = results.ErrDuplicateKey
	ErrDiskFull     = results.ErrDiskFull
	ErrExists       = results.ErrExists
)

var (
	corruptf         = results.Corruptf
	lessMetrics      = results.LessMetrics
	encodeHistory    = results.EncodeHistory
	decodeHistory    = results.DecodeHistory
	encodeCheckpoint = results.EncodeCheckpoint
	decodeCheckpoint = results.DecodeCheckpoint
	encodeModel      = results.EncodeModel
	decodeModel      = results.DecodeModel
	encodeDecisions  = results.EncodeDecisions
	decodeDecisions  = results.DecodeDecisions
)
