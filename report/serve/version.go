package serve

import (
	"encoding/binary"
	"encoding/json"
	"hash"
	"hash/fnv"
	"math"
	"strconv"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// Status is a sweep's state in brief, the answer of /api/sweep: what its
// page polls to know whether it changed (Version).
type Status struct {
	Name string `json:"name"`
	// Version identifies what the sweep's page shows: it changes when a
	// trial changes status, progresses (a checkpoint), reaches a rung or a
	// result, or when the sweep's record changes (spec, data, selection).
	Version string `json:"version"`
	Total   int    `json:"total"`
	// Counts are the trials by status (statuses with none are left out).
	Counts map[results.Status]int `json:"counts"`
	// Epochs are the epochs trained, summed over the trials
	// (report.EpochsDone).
	Epochs float64 `json:"epochs"`
	// BestValAcc is the val_acc of the best done trial by the sweep's
	// metric; null when no trial is done.
	BestValAcc *float64 `json:"best_val_acc"`
	// Finished reports whether every trial has finished.
	Finished bool `json:"finished"`
}

// sweepStatus is the Status of sweep sw with trials.
func sweepStatus(sw *results.Sweep, trials []results.Trial) Status {
	st := Status{Name: sw.Name, Version: sweepVersion(sw, trials), Total: len(trials), Counts: map[results.Status]int{}, Finished: true}
	var best *results.Trial
	for i := range trials {
		t := &trials[i]
		st.Counts[t.Status]++
		st.Epochs += report.EpochsDone(t)
		st.Finished = st.Finished && t.Status.Finished()
		if t.Status == results.Done && (best == nil || results.Less(t, best, sw.Maximize())) {
			best = t
		}
	}
	if best != nil {
		st.BestValAcc = report.Finite(best.ValAcc, true)
	}
	st.Epochs = math.Round(st.Epochs*1000) / 1000
	return st
}

// versionHash accumulates a version.
type versionHash struct{ h hash.Hash64 }

func newVersionHash() versionHash { return versionHash{fnv.New64a()} }

func (v versionHash) bytes(b []byte) {
	v.int(int64(len(b)))
	v.h.Write(b)
}

func (v versionHash) str(s string) { v.bytes([]byte(s)) }

func (v versionHash) int(n int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	v.h.Write(b[:])
}

func (v versionHash) float(f float64) { v.int(int64(math.Float64bits(f))) }

func (v versionHash) sum() string { return strconv.FormatUint(v.h.Sum64(), 16) }

// sweepVersion is the version of sweep sw with trials: what its page
// shows but heartbeats and accounted wall time, which change all the time
// and would reload pages for nothing.
func sweepVersion(sw *results.Sweep, trials []results.Trial) string {
	v := newVersionHash()
	v.str(sw.Name)
	v.bytes(sw.Spec)
	v.bytes(sw.Canonical)
	v.str(sw.SpecPath)
	v.str(sw.Metric)
	v.int(int64(sw.Keep))
	if sw.Data != nil {
		v.str(sw.Data.Path)
		v.str(sw.Data.Fingerprint)
	}
	v.int(int64(len(sw.Evaluations)))
	if b := sw.Best; b != nil {
		v.int(int64(b.Trial))
		v.float(b.TestAcc)
		v.int(b.Evaluated.UnixNano())
	}
	for i := range trials {
		t := &trials[i]
		v.int(int64(t.Number))
		v.str(string(t.Status))
		v.int(int64(t.Attempts))
		v.float(t.Epoch)
		v.int(int64(t.Iteration))
		v.int(int64(t.Rung))
		v.int(int64(t.Target))
		v.float(t.ValAcc)
		v.float(t.ValLoss)
		v.float(t.Epochs)
		v.int(int64(t.Iterations))
		v.float(t.Duration)
		v.int(t.Finished.UnixNano())
		if t.Promoted {
			v.int(1)
		}
		if t.TestAcc != nil {
			v.float(*t.TestAcc)
		}
		if t.Status == results.Running && t.Lease != nil {
			v.str(t.Lease.Owner.String())
		}
	}
	return v.sum()
}

// indexVersion is the version of the index showing recs.
func indexVersion(recs []report.SweepRecord) string {
	v := newVersionHash()
	for _, r := range recs {
		b, _ := json.Marshal(r) // of plain fields: cannot fail
		v.bytes(b)
	}
	return v.sum()
}
