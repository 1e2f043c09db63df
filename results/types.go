package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sweep-dev/sweep/internal/paramfmt"
)

// Status is the state of a trial.
type Status string

// The statuses of a trial.
const (
	Pending     Status = "pending"
	Running     Status = "running"
	Paused      Status = "paused" // stopped at a rung with its checkpoint, waiting for a promotion (ClaimNext)
	Done        Status = "done"
	Diverged    Status = "diverged"    // the loss became NaN or Inf
	Failed      Status = "failed"      // an error or a recovered panic
	Pruned      Status = "pruned"      // stopped early by the search, for good
	Interrupted Status = "interrupted" // released (Ctrl-C) with a checkpoint; claimable again
)

// Statuses lists every status, in the order of the CLI's tables.
var Statuses = []Status{Pending, Running, Paused, Done, Diverged, Failed, Pruned, Interrupted}

// Finished reports whether a trial in status s is over for good: done,
// diverged, failed or pruned. Such a trial is never claimed again.
//
// A paused trial is not finished (the sweep is not over while a trial may
// still be promoted), but Claim does not take it either: only a promotion
// decided in ClaimNext resumes it, and Prune or ClaimNext end it.
func (s Status) Finished() bool {
	switch s {
	case Done, Diverged, Failed, Pruned:
		return true
	}
	return false
}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Owner identifies the process holding a lease.
type Owner struct {
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	Start int64  `json:"start"` // process start time, detects pid reuse
	// NS is where PID means something (Linux: the boot id and the pid
	// namespace), "" when unknown: a process checks the life of an owner
	// only when both its host and its NS are its own.
	NS string `json:"ns,omitempty"`
	ID string `json:"id"` // random per process; what lease checks compare
	// Attempt, when not 0, is the attempt of the trial the caller holds
	// (Trial.Attempts as its claim returned it), presented by a write as a
	// fencing token (see Store); not stored.
	Attempt int `json:"-"`
}

// String formats o as host:pid.
func (o Owner) String() string { return o.Host + ":" + strconv.Itoa(o.PID) }

// Same reports whether o and b are the same process: equal IDs, or, when
// both IDs are empty, equal in every field.
func (o Owner) Same(b Owner) bool {
	if o.ID != "" || b.ID != "" {
		return o.ID == b.ID
	}
	o.Attempt, b.Attempt = 0, 0
	return o == b
}

// Lease is a running trial's claim.
type Lease struct {
	Owner     Owner     `json:"owner"`
	Claimed   time.Time `json:"claimed"`
	Heartbeat time.Time `json:"heartbeat"`
}

// Sweep is a sweep's record. Spec and Canonical are stored as raw bytes
// apart from the JSON record.
type Sweep struct {
	Name      string    `json:"name"`
	Spec      []byte    `json:"-"` // the spec file as written
	SpecPath  string    `json:"spec_path"`
	Canonical []byte    `json:"-"`      // search's canonical form of the spec
	Metric    string    `json:"metric"` // "val_acc" | "val_loss"
	Keep      int       `json:"keep"`   // models kept; 0 means DefaultKeep
	Created   time.Time `json:"created"`
	Best      *Best     `json:"best,omitempty"` // nil until a best trial is selected; the latest of Evaluations
	// Elapsed is the wall-clock time, in seconds, the sweep has run over
	// all its runs and processes, as accounted by AddElapsed and
	// TickElapsed: what a budget is measured against. 0 in a record
	// written before it was recorded. EnsureSweep keeps it.
	Elapsed float64 `json:"elapsed_s,omitempty"`
	// ElapsedAt is the time of the sweep's last TickElapsed (zero if none).
	ElapsedAt time.Time `json:"elapsed_at,omitzero"`
	// Evaluations are every test-set evaluation of the sweep, oldest first,
	// one per SetBest (an extended sweep that selects a new best trial has
	// used its test set again). A record written before they were recorded
	// has Best and no Evaluations: see TestSetUses.
	Evaluations []Best `json:"test_evaluations,omitempty"`
	// Data is where the sweep's data set is now and what its files hold;
	// nil in a record written before it was recorded. EnsureSweep keeps
	// the stored one when given none.
	Data *DataRef `json:"data,omitempty"`
	// Input is what the sweep's nets take, recorded when it is run, so
	// that a net can be exported and used without the data set; nil in a
	// record written before it was recorded. EnsureSweep keeps the stored
	// one when given none.
	Input *Input `json:"input,omitempty"`
}

// Input describes the input of a sweep's nets: the shape of one image, the
// names of the classes, and the preprocessing of raw pixels (subtract the
// training split's mean image, in raw pixel units).
type Input struct {
	Shape   []int     `json:"shape"`
	Classes []string  `json:"classes"`
	Mean    []float32 `json:"mean_image"`
	// Std is the training split's per-feature standard deviation (raw
	// pixel scale); absent in sweeps recorded before it was.
	Std []float32 `json:"std_image,omitempty"`
}

// DataRef locates a sweep's data set and identifies its contents.
type DataRef struct {
	// Path is the data's absolute path, as its trials read it ("" for
	// data that reads no files). When the data set moves, the new path
	// replaces the one in the stored spec.
	Path string `json:"path"`
	// Fingerprint identifies the files' contents wherever they are (the
	// data package's Fingerprint): moved data must have the same.
	Fingerprint string `json:"fingerprint"`
}

// DefaultKeep is the number of models kept when Sweep.Keep is 0.
const DefaultKeep = 3

// Maximize reports whether the sweep's metric is maximised (anything but val_loss).
func (sw *Sweep) Maximize() bool { return sw.Metric != "val_loss" }

// TestSetUses is how many times the sweep's test set has been used: the
// number of Evaluations, or 1 for a record that has Best without them (it
// was written before evaluations were recorded, and counts its one).
func (sw *Sweep) TestSetUses() int {
	if len(sw.Evaluations) == 0 && sw.Best != nil {
		return 1
	}
	return len(sw.Evaluations)
}

// Best is the selected best trial of a sweep and its test-set evaluation.
type Best struct {
	Trial     int       `json:"trial"`
	ValAcc    float64   `json:"val_acc"`
	ValLoss   float64   `json:"val_loss"`
	TestAcc   float64   `json:"test_acc"`
	TestLoss  float64   `json:"test_loss"`
	Evaluated time.Time `json:"evaluated"`
}

// Param is one searched parameter of a trial. After a JSON round trip,
// Value is a float64, a string, a bool or a []any of float64 (hidden sizes).
type Param struct {
	Name  string
	Value any
}

// String formats the value for people: 0.001 for 1e-3, 1e-5 for 1e-05,
// 50 for 50.0, [50,50] for a list.
func (p Param) String() string { return formatValue(p.Value) }

// formatValue is the stored and exported form of a parameter value.
var formatValue = paramfmt.Style{Float: formatFloat, Sep: ","}.Format

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	// 1e-05 -> 1e-5, 1e+20 -> 1e+20
	if i := strings.IndexByte(s, 'e'); i >= 0 && i+2 < len(s) && s[i+2] == '0' {
		s = s[:i+2] + strings.TrimLeft(s[i+2:], "0")
	}
	return s
}

// Params are a trial's searched parameters in the spec's order. They
// marshal as a JSON object whose keys keep that order.
type Params []Param

// Get returns the value of the parameter named name.
func (ps Params) Get(name string) (any, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// MarshalJSON encodes ps as an object, in order.
func (ps Params) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", p.Name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes an object, keeping its keys' order. Numbers become
// float64, as with encoding/json's decoding into an interface value.
func (ps *Params) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*ps = nil
		return nil
	}
	// encoding/json calls this with one valid JSON value only, so a light
	// scan suffices; it is 3x faster than json.Decoder's Token API, which
	// matters when listing 10,000 trials.
	if len(data) < 2 || data[0] != '{' {
		return fmt.Errorf("params: want an object, have %.20s", data)
	}
	out := Params{}
	r := data[1:]
	for {
		r = skipSpace(r)
		if len(r) == 0 {
			return fmt.Errorf("params: unterminated object")
		}
		if r[0] == '}' {
			break
		}
		if r[0] == ',' {
			r = r[1:]
			continue
		}
		n := valueEnd(r)
		key, err := decodeValue(r[:n])
		name, ok := key.(string)
		if err != nil || !ok {
			return fmt.Errorf("params: bad key %.20s", r[:n])
		}
		r = skipSpace(r[n:])
		if len(r) == 0 || r[0] != ':' {
			return fmt.Errorf("params: want ':' after %q", name)
		}
		r = skipSpace(r[1:])
		n = valueEnd(r)
		v, err := decodeValue(r[:n])
		if err != nil {
			return fmt.Errorf("param %s: %w", name, err)
		}
		out = append(out, Param{Name: name, Value: v})
		r = r[n:]
	}
	*ps = out
	return nil
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// valueEnd returns the length of the JSON value at the start of b, which
// is valid JSON.
func valueEnd(b []byte) int {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
				if depth == 0 {
					return i + 1
				}
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			if depth == 0 {
				return i // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return i
		}
	}
	return len(b)
}

// decodeValue decodes one JSON value as encoding/json decodes into an any.
func decodeValue(b []byte) (any, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("missing value")
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return strconv.ParseFloat(string(b), 64)
	case b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		return string(b[1 : len(b)-1]), nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// Metrics are the results of a trial.
type Metrics struct {
	ValAcc      float64 `json:"val_acc"`       // best validation accuracy (the selection metric)
	ValLoss     float64 `json:"val_loss"`      // validation loss at that point
	TrainAcc    float64 `json:"train_acc"`     // final training accuracy
	FinalValAcc float64 `json:"final_val_acc"` // validation accuracy at the end
	Iterations  int     `json:"iterations"`
	Epochs      float64 `json:"epochs"`
	DivergedAt  int     `json:"diverged_at,omitempty"` // iteration where the loss became NaN/Inf
	BestEpoch   float64 `json:"best_epoch,omitempty"`  // when ValAcc was reached (the kept weights)
	// EarlyStopped is set for a trial that ended early, done, after its
	// patience ran out without a better validation accuracy.
	EarlyStopped bool `json:"early_stopped,omitempty"`
}

// Trial is a trial's record, without its history.
type Trial struct {
	Number int             `json:"trial"` // 1-based creation order within the sweep
	Key    string          `json:"key"`   // identity within the sweep (grid cell, random draw)
	Params Params          `json:"params"`
	Config json.RawMessage `json:"config,omitempty"` // resolved config, opaque to results
	Seed   uint64          `json:"seed"`

	// Group, when not 0, is the group the trial trains in: trials that
	// share their minibatches (same data, batch size, dtype, input
	// preprocessing and length) trained side by side, their first layers
	// in one matrix product. A group is claimed, leased and checkpointed
	// as one (Store.ClaimGroup, Store.SaveCheckpoints); its members are
	// separate trials everywhere else. Groups are fixed when trials are
	// created: given to EnsureSweep, Group is a label, and the added
	// trials that share a label form one new group (RenumberGroups).
	Group int `json:"group,omitempty"`

	Status   Status `json:"status"`
	Lease    *Lease `json:"lease,omitempty"` // while running
	Attempts int    `json:"attempts"`        // claims so far

	Metrics
	TestAcc *float64 `json:"test_acc,omitempty"` // the selected best trial only

	Error string `json:"error,omitempty"`
	Stack string `json:"stack,omitempty"`

	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`  // first claim
	Finished time.Time `json:"finished,omitzero"` // when it reached a finished status
	Duration float64   `json:"duration_s"`        // seconds trained, summed over attempts

	Epoch     float64 `json:"epoch"`     // progress of the last checkpoint
	Iteration int     `json:"iteration"` // progress of the last checkpoint

	// Adaptive search (ClaimNext, Pause): zero for a trial of a grid or
	// random sweep, and in a record written before they existed. The
	// resource is what the sweep's scheduler counts, epochs or iterations.

	// Target is the resource this trial trains to in its current attempt,
	// where it pauses (Pause) or, at its config's full length, finishes; 0
	// means its config's full length. A reclaimed (interrupted or stale)
	// trial goes on towards the same Target.
	Target int `json:"target,omitempty"`
	// Rung is the number of rungs the trial has reached: len(Evals). A
	// paused trial is at rung Rung.
	Rung int `json:"rung,omitempty"`
	// Bracket is the trial's Hyperband bracket, as the scheduler gave it
	// when it started the trial.
	Bracket int `json:"bracket,omitempty"`
	// Evals are the validation metric at each rung reached (Pause, and
	// Finish with Outcome.Eval), by increasing Resource.
	Evals []Eval `json:"evals,omitempty"`
	// Promoted reports that the trial was promoted out of rung Rung: it
	// trains (or trained, or failed) on its way to the next rung. A paused
	// trial is never Promoted; ClaimNext sets it when it promotes one, and
	// Pause (Finish with an Eval) clears it when the trial reaches its next
	// rung. So a rung's decision is used once: two promotions of one trial
	// from one rung cannot both happen.
	Promoted bool `json:"promoted,omitempty"`
	// Decisions are the scheduler's records of the decisions about this
	// trial (start, each promotion, prune), oldest first, opaque here: what
	// `sweep show` explains. They are stored apart from the record (see
	// schema.go) and read by Store.Trial only: nil in the trials of Trials,
	// Running, Claim and ClaimNext, and in those given to a decide
	// function. At most MaxDecisions are kept per trial.
	Decisions []json.RawMessage `json:"decisions,omitempty"`
}

// Eval is one evaluation of a trial's validation metric at a rung.
type Eval struct {
	Resource int     // epochs or iterations trained when evaluated (the scheduler's unit)
	Value    float64 // the sweep's metric; may be NaN or infinite
}

// Epoch is a row of a trial's history, one per epoch.
type Epoch struct {
	Epoch        float64
	Iteration    int
	LearningRate float64
	Loss         float64
	TrainAcc     float64
	ValAcc       float64
	ValLoss      float64
}

// Checkpoint is a trial's latest snapshot; Data is the trainer's, opaque here.
type Checkpoint struct {
	Epoch     float64
	Iteration int
	Data      []byte
}

// Tensor is a named array of weights.
type Tensor struct {
	Name  string
	Shape []int
	DType string // "float32" | "float64"
	Data  []byte // little-endian values, row-major; len = prod(Shape) * size(DType)
}

// Model is the final weights of a trial.
type Model struct {
	Tensors []Tensor
}

// Outcome is how an attempt at a trial ended, as given to Finish.
type Outcome struct {
	Status   Status // Done, Diverged, Failed or Pruned
	Metrics  Metrics
	History  []Epoch // the whole history; when empty the stored one is kept
	Error    string
	Stack    string
	Model    *Model  // final weights; kept only for the best Keep done trials
	Duration float64 // seconds of this attempt
	// Eval, when not nil, is the trial's evaluation at the rung it ended
	// at (an adaptive trial trained to its full length): Finish appends it
	// to Evals, as Pause does, and clears Promoted.
	Eval *Eval
}

// Summary is a sweep's line in `sweep ls`.
type Summary struct {
	Name        string    `json:"name"`
	Total       int       `json:"total"`
	Done        int       `json:"done"`
	Running     int       `json:"running"`
	Paused      int       `json:"paused"`
	Pending     int       `json:"pending"`
	Failed      int       `json:"failed"`
	Diverged    int       `json:"diverged"`
	Pruned      int       `json:"pruned"`
	Interrupted int       `json:"interrupted"`
	BestValAcc  *float64  `json:"best_val_acc"` // val_acc of the best done trial by the sweep's metric
	Active      bool      `json:"active"`       // some running trial has a fresh heartbeat
	Created     time.Time `json:"created"`
}

// Filter selects trials. The zero Filter selects all.
type Filter struct {
	Status []Status // any of these; empty: all
}

func (f Filter) Match(s Status) bool {
	if len(f.Status) == 0 {
		return true
	}
	for _, v := range f.Status {
		if v == s {
			return true
		}
	}
	return false
}

// Held returns nil if t is running under owner's lease (and, when
// owner.Attempt is not 0, in that attempt), else an error wrapping
// ErrLeaseLost that says why: the check of every write of a running trial.
func Held(t *Trial, owner Owner) error {
	switch {
	case t.Status != Running:
		return fmt.Errorf("%w: trial %d is %s", ErrLeaseLost, t.Number, t.Status)
	case t.Lease == nil:
		return fmt.Errorf("%w: trial %d has no lease", ErrLeaseLost, t.Number)
	case !t.Lease.Owner.Same(owner):
		return fmt.Errorf("%w: trial %d is held by %s (id %s)", ErrLeaseLost, t.Number, t.Lease.Owner, t.Lease.Owner.ID)
	case owner.Attempt != 0 && owner.Attempt != t.Attempts:
		return fmt.Errorf("%w: trial %d is in attempt %d, not %d", ErrLeaseLost, t.Number, t.Attempts, owner.Attempt)
	}
	return nil
}
