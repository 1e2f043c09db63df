package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/sweep-dev/sweep/results"
	bolt "go.etcd.io/bbolt"
)

// Check checks the whole file and returns nil, or a *CorruptError (which
// wraps ErrCorrupt) listing every problem it finds, each naming the page,
// or the sweep and trial, concerned; ErrSchema if the file is not a
// results database of a schema this code reads.
//
// It checks, in one read transaction (so writers wait, readers do not):
//
//   - bbolt's pages: every page reachable from the root is walked with
//     bounds checks (no page beyond the file, none reached twice, elements
//     within their pages, keys in order); then bbolt's own Tx.Check
//     (freelist, every page either reachable or free).
//   - the schema (schema.go): the schema version key; every key of the
//     sweeps bucket is a sweep's bucket, with its record (naming it), spec,
//     canonical form and sub-buckets.
//   - each sweep's record: its name, metric, keep, and an elapsed time
//     that is not negative.
//   - each sweep's trials: every record decodes, has a valid status and the
//     number of its key, and numbers run 1..N; a running trial has a lease
//     and no other (paused, pruned, ...) has one; the keys index maps each
//     trial's key to it and nothing else; the open index lists exactly the
//     unfinished trials (paused ones too) with their status, the done
//     index exactly the done trials with their metrics; no trial's Group
//     is negative.
//   - adaptive state: a trial's Rung is len(Evals), whose resources are
//     positive and increasing; Target and Bracket are not negative; a
//     Promoted trial has reached a rung; a paused trial has reached a
//     rung, is not Promoted, and has a checkpoint.
//   - histories decode and belong to existing trials; checkpoint and model
//     blobs have all their chunks and decode; a checkpoint belongs to an
//     unfinished trial, a model to a done one; decision records decode and
//     belong to existing trials.
//   - Best and every test evaluation name an existing done trial, and Best
//     is the latest evaluation.
//
// Check reads every record but no history row and no checkpoint beyond its
// header; see BenchmarkCheck for its time on a 100 MB file.
func (s *Store) Check(ctx context.Context) error {
	return s.do(ctx, "check", access{walk: true}, checkTx)
}

// CheckWritable is the check a process runs before it writes to the file
// for a run (`sweep run`, `sweep resume`): Check's, so a file that fails
// Check fails it too, with the same problems; and it opens the file for
// writing, under the exclusive lock, so a file the process may not write
// (permissions, a read-only file system) is refused as well. It writes
// nothing. Its cost is Check's (BenchmarkCheck: about 0.25 s on a 112 MB
// file of 10,000 trials).
//
// EnsureSweep, a run's first write, runs the same check within its own
// transaction and refuses a file that fails it, so a run never writes into
// a damaged file even if its caller does not call CheckWritable: the point
// of calling it is to refuse early, before loading data. Later writes of a
// run (Claim, SaveCheckpoint, ...) trust the file EnsureSweep checked.
func (s *Store) CheckWritable(ctx context.Context) error {
	return s.do(ctx, "check before writing", access{write: true, walk: true}, func(tx *bolt.Tx) error {
		if err := checkTx(tx); err != nil {
			return err
		}
		return errRollback
	})
}

// errRollback ends a read-write transaction that must write nothing; open
// returns nil for it.
var errRollback = errors.New("rolled back")

// checkTx is Check's work within its transaction; see Check. The file's
// pages have been walked (walkPages) before bbolt mapped it, so neither
// Tx.Check nor the cursors below can fault or loop on damaged pages.
func checkTx(tx *bolt.Tx) error {
	c := &checker{}
	for err := range tx.Check() {
		c.add("page structure: %s", sanitize(err.Error()))
	}
	if err := checkSchema(tx); err != nil {
		if errors.Is(err, ErrSchema) {
			return err
		}
		c.add("%v", err)
	}
	if root := tx.Bucket(bucketSweeps); root != nil {
		cur := root.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if v != nil {
				c.add("the sweeps bucket holds a plain value under %q", k)
				continue
			}
			c.sweep(root.Bucket(k), string(k))
		}
	}
	if len(c.problems) > 0 {
		return &CorruptError{Problems: c.problems}
	}
	return nil
}

// sanitize keeps a message of bbolt's check free of the runtime's words
// (its check recovers its own panics into messages, "panic: ...").
func sanitize(msg string) string {
	if strings.Contains(msg, "runtime error") || strings.Contains(msg, "goroutine") || strings.HasPrefix(msg, "panic") {
		return "bbolt's check could not read a damaged page"
	}
	return msg
}

// checker collects the problems a check finds.
type checker struct {
	problems []string
}

func (c *checker) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// has reports whether b holds a plain value (not a bucket) under key,
// however short.
func has(b *bolt.Bucket, key []byte) bool {
	k, v := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key) && v != nil
}

// sweepCheck is what a check has learnt of one sweep's trials.
type sweepCheck struct {
	*checker
	name   string
	exists map[int]bool   // every trial number with a record
	status map[int]Status // every trial whose record decodes
	keyOf  map[int]string
	ckpt   map[int]bool // every trial with a checkpoint blob, whole or not
	paused []int        // the paused trials, by number
}

func (c *checker) sweep(b *bolt.Bucket, name string) {
	if b == nil {
		c.add("sweep %q is in the file, but looking it up misses it", name)
		return
	}
	sc := &sweepCheck{checker: c, name: name, exists: map[int]bool{}, status: map[int]Status{}, keyOf: map[int]string{}, ckpt: map[int]bool{}}
	var sw *Sweep
	if !has(b, keySweep) {
		c.add("sweep %q has no record", name)
	} else {
		var rec Sweep
		if err := json.Unmarshal(b.Get(keySweep), &rec); err != nil {
			c.add("sweep %q record: %v", name, err)
		} else {
			sw = &rec
			switch {
			case rec.Name != name:
				c.add("sweep %q record names sweep %q", name, rec.Name)
			case rec.Metric != "val_acc" && rec.Metric != "val_loss":
				c.add("sweep %q record: metric %q is not val_acc or val_loss", name, rec.Metric)
			case rec.Keep < 0:
				c.add("sweep %q record: keep %d < 0", name, rec.Keep)
			case rec.Elapsed < 0:
				c.add("sweep %q record: elapsed time %vs < 0", name, rec.Elapsed)
			}
		}
	}
	if !has(b, keySpec) {
		c.add("sweep %q has no spec", name)
	}
	if !has(b, keyCanonical) {
		c.add("sweep %q has no canonical spec", name)
	}
	buckets := make(map[string]*bolt.Bucket)
	for _, sub := range sweepSubBucket {
		if buckets[string(sub)] = b.Bucket(sub); buckets[string(sub)] == nil {
			c.add("sweep %q has no %q bucket", name, sub)
		}
	}
	if t := buckets[string(bucketTrials)]; t != nil {
		sc.trials(t, buckets[string(bucketKeys)], buckets[string(bucketOpen)], buckets[string(bucketDone)])
	}
	if k := buckets[string(bucketKeys)]; k != nil {
		sc.keys(k)
	}
	if o := buckets[string(bucketOpen)]; o != nil {
		sc.index(o, "open")
	}
	if d := buckets[string(bucketDone)]; d != nil {
		sc.index(d, "done")
	}
	if h := buckets[string(bucketHistory)]; h != nil {
		sc.histories(h)
	}
	if ck := buckets[string(bucketCkpt)]; ck != nil {
		sc.blobs(ck, "checkpoint", func(s Status) bool { return !s.Finished() })
	}
	if m := buckets[string(bucketModels)]; m != nil {
		sc.blobs(m, "model", func(s Status) bool { return s == Done })
	}
	if buckets[string(bucketCkpt)] != nil {
		for _, n := range sc.paused {
			if !sc.ckpt[n] {
				sc.add("sweep %q trial %d is paused without a checkpoint", name, n)
			}
		}
	}
	if d := b.Bucket(bucketDecisions); d != nil {
		sc.decisions(d)
	} else if b.Get(bucketDecisions) != nil {
		c.add("sweep %q holds a plain value under %q", name, bucketDecisions)
	}
	if sw != nil {
		sc.evaluations(sw)
	}
}

// trials checks every trial record and its entries in the indexes.
func (sc *sweepCheck) trials(trials, keys, open, done *bolt.Bucket) {
	prev := 0
	cur := trials.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		n, err := btoi(k)
		if err != nil {
			sc.add("sweep %q: trial key %x: %v", sc.name, k, err)
			continue
		}
		if n != prev+1 {
			sc.add("sweep %q: trial numbers jump from %d to %d", sc.name, prev, n)
		}
		prev = n
		sc.exists[n] = true
		if v == nil {
			sc.add("sweep %q trial %d is a bucket, not a record", sc.name, n)
			continue
		}
		t, err := decodeTrial(sc.name, n, v)
		if err != nil {
			sc.add("%v", err)
			continue
		}
		sc.status[n], sc.keyOf[n] = t.Status, t.Key
		where := fmt.Sprintf("sweep %q trial %d", sc.name, n)
		switch {
		case t.Key == "":
			sc.add("%s has no key", where)
		case keys != nil && !bytes.Equal(keys.Get([]byte(t.Key)), k):
			sc.add("%s: the keys index does not map its key %q to it", where, t.Key)
		}
		if t.Status == Running && t.Lease == nil {
			sc.add("%s is running without a lease", where)
		}
		if t.Group < 0 {
			sc.add("%s: group %d < 0", where, t.Group)
		}
		sc.adaptive(where, t)
		if t.Status == Paused {
			sc.paused = append(sc.paused, n)
		}
		if t.Status != Running && t.Lease != nil {
			sc.add("%s is %s but holds a lease", where, t.Status)
		}
		if open != nil {
			got := open.Get(k)
			switch {
			case t.Status.Finished() && got != nil:
				sc.add("%s is %s, but the open index lists it", where, t.Status)
			case !t.Status.Finished() && Status(got) != t.Status:
				sc.add("%s is %s, but the open index says %q", where, t.Status, got)
			}
		}
		if done != nil {
			got := done.Get(k)
			switch {
			case t.Status != Done && got != nil:
				sc.add("%s is %s, but the done index lists it", where, t.Status)
			case t.Status == Done && !sameDone(got, t.Metrics):
				sc.add("%s: the done index entry %x does not match its metrics (val_acc %v, val_loss %v)", where, got, t.ValAcc, t.ValLoss)
			}
		}
	}
}

// adaptive checks a trial's adaptive state.
func (sc *sweepCheck) adaptive(where string, t *Trial) {
	for _, p := range results.AdaptiveProblems(t) {
		sc.add("%s%s", where, p)
	}
}

// sameDone reports whether the done index entry b holds m's metrics (a
// NaN matches any NaN: the record keeps no NaN's bits).
func sameDone(b []byte, m Metrics) bool {
	acc, loss, err := decodeDone(b)
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	return err == nil && same(acc, m.ValAcc) && same(loss, m.ValLoss)
}

// keys checks that every entry of the keys index names the trial of that key.
func (sc *sweepCheck) keys(b *bolt.Bucket) {
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		n, err := btoi(v)
		if err != nil || v == nil {
			sc.add("sweep %q: the keys index maps key %q to %x", sc.name, k, v)
			continue
		}
		if !sc.exists[n] {
			sc.add("sweep %q: the keys index maps key %q to trial %d, which does not exist", sc.name, k, n)
		} else if key, ok := sc.keyOf[n]; ok && key != string(k) {
			sc.add("sweep %q: the keys index maps key %q to trial %d, whose key is %q", sc.name, k, n, key)
		}
	}
}

// index checks that the entries of the open or done index are of trials
// that exist; whether a trial belongs in it, and with what, is checked from
// the trial's side.
func (sc *sweepCheck) index(b *bolt.Bucket, name string) {
	cur := b.Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		n, err := btoi(k)
		if err != nil {
			sc.add("sweep %q: %s index key %x: %v", sc.name, name, k, err)
			continue
		}
		if !sc.exists[n] {
			sc.add("sweep %q: the %s index lists trial %d, which does not exist", sc.name, name, n)
		}
	}
}

// histories checks that each history decodes and belongs to a trial.
func (sc *sweepCheck) histories(b *bolt.Bucket) {
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		n, err := btoi(k)
		if err != nil {
			sc.add("sweep %q: history key %x: %v", sc.name, k, err)
			continue
		}
		if !sc.exists[n] {
			sc.add("sweep %q: history of trial %d, which does not exist", sc.name, n)
		}
		if v == nil {
			sc.add("sweep %q trial %d: its history is a bucket", sc.name, n)
		} else if _, _, err := results.HistoryRows(v); err != nil {
			sc.add("sweep %q trial %d: %v", sc.name, n, err)
		}
	}
}

// blobs checks the checkpoints or models of a sweep: complete, decoding,
// and of trials whose status allows one (in).
func (sc *sweepCheck) blobs(b *bolt.Bucket, what string, in func(Status) bool) {
	for _, bl := range scanBlobs(b) {
		if bl.n < 0 {
			sc.add("sweep %q: %ss: %v", sc.name, what, bl.err)
			continue
		}
		where := fmt.Sprintf("sweep %q trial %d: %s", sc.name, bl.n, what)
		if what == "checkpoint" {
			sc.ckpt[bl.n] = true
		}
		if bl.err != nil {
			sc.add("%s: %v", where, bl.err)
			continue
		}
		if !sc.exists[bl.n] {
			sc.add("%s of a trial that does not exist", where)
		} else if s, ok := sc.status[bl.n]; ok && !in(s) {
			sc.add("%s of a %s trial", where, s)
		}
		var err error
		if what == "checkpoint" {
			// Only the header: the data is the trainer's, opaque here.
			_, err = decodeCheckpoint(bl.head)
		} else {
			var v []byte
			if v, err = getBlob(b, bl.n); err == nil {
				_, err = decodeModel(v)
			}
		}
		if err != nil {
			sc.add("sweep %q trial %d: %v", sc.name, bl.n, err) // err says what
		}
	}
}

// decisions checks that each trial's decision records decode and belong
// to a trial.
func (sc *sweepCheck) decisions(b *bolt.Bucket) {
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		n, err := btoi(k)
		if err != nil {
			sc.add("sweep %q: decisions key %x: %v", sc.name, k, err)
			continue
		}
		if !sc.exists[n] {
			sc.add("sweep %q: decisions of trial %d, which does not exist", sc.name, n)
		}
		if v == nil {
			sc.add("sweep %q trial %d: its decisions are a bucket", sc.name, n)
		} else if _, err := decodeDecisions(v); err != nil {
			sc.add("sweep %q trial %d: %v", sc.name, n, err)
		}
	}
}

// evaluations checks that Best and every test evaluation name an existing
// done trial, and that Best is the latest evaluation.
func (sc *sweepCheck) evaluations(sw *Sweep) {
	check := func(what string, b Best) {
		if !sc.exists[b.Trial] {
			sc.add("sweep %q: %s is trial %d, which does not exist", sc.name, what, b.Trial)
		} else if s, ok := sc.status[b.Trial]; ok && s != Done {
			sc.add("sweep %q: %s is trial %d, which is %s", sc.name, what, b.Trial, s)
		}
	}
	if sw.Best != nil {
		check("the best trial", *sw.Best)
	}
	for i, e := range sw.Evaluations {
		check(fmt.Sprintf("test evaluation %d", i+1), e)
	}
	if n := len(sw.Evaluations); n > 0 && (sw.Best == nil || !sameBest(*sw.Best, sw.Evaluations[n-1])) {
		sc.add("sweep %q: the best trial is not its latest test evaluation", sc.name)
	}
}

func sameBest(a, b Best) bool {
	return a.Trial == b.Trial && a.ValAcc == b.ValAcc && a.ValLoss == b.ValLoss &&
		a.TestAcc == b.TestAcc && a.TestLoss == b.TestLoss && a.Evaluated.Equal(b.Evaluated)
}
