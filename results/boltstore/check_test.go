package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fixtureCopy copies corruptFixture's file into a new temporary directory.
func fixtureCopy(t *testing.T, whole []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sweep.db")
	if err := os.WriteFile(p, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mutate writes to the file at path through bbolt directly, as damage
// (or another program) would, bypassing the Store.
func mutate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// in returns sweep name's buckets in a write transaction.
func in(tx *bolt.Tx, name string) *sweepTx {
	st, err := getSweep(tx, name)
	if err != nil {
		panic(err)
	}
	return st
}

// editTrial rewrites trial n of sweep "a" through fn, leaving the indexes
// as they were.
func editTrial(n int, fn func(t *Trial)) func(tx *bolt.Tx) error { return editTrialIn("a", n, fn) }

// editTrialIn rewrites trial n of sweep through fn, leaving the indexes
// as they were.
func editTrialIn(sweep string, n int, fn func(t *Trial)) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		st := in(tx, sweep)
		t, err := st.trial(n)
		if err != nil {
			return err
		}
		fn(t)
		v, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return st.trials.Put(itob(n), v)
	}
}

// editSweep rewrites sweep "a"'s record through fn.
func editSweep(fn func(sw *Sweep)) func(tx *bolt.Tx) error { return editSweepIn("a", fn) }

// editSweepIn rewrites sweep's record through fn.
func editSweepIn(sweep string, fn func(sw *Sweep)) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		st := in(tx, sweep)
		sw, err := st.sweep()
		if err != nil {
			return err
		}
		fn(sw)
		b, err := json.Marshal(sw)
		if err != nil {
			return err
		}
		return st.b.Put(keySweep, b)
	}
}

// TestCheckInvariants breaks each invariant of the schema on purpose,
// writing through bbolt directly, and checks that Check names the problem
// (with its sweep and trial), that CheckWritable refuses the file too, and
// that EnsureSweep (a run's first write) refuses it and leaves it as it
// was.
func TestCheckInvariants(t *testing.T) {
	path, _, _ := corruptFixture(t)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name   string
		mutate func(tx *bolt.Tx) error
		want   []string // in the error, in this order
		schema bool     // ErrSchema, not ErrCorrupt
	}
	cases := []tc{
		{name: "schema key missing", mutate: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keySchema) },
			want: []string{"schema version of 0 bytes"}},
		{name: "schema version 0", mutate: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(0)) },
			want: []string{"schema version 0"}},
		{name: "schema version newer", mutate: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(schemaVersion+1)) },
			want: []string{"newer sweep"}, schema: true},
		{name: "plain value among sweeps", mutate: func(tx *bolt.Tx) error { return tx.Bucket(bucketSweeps).Put([]byte("junk"), []byte("x")) },
			want: []string{`the sweeps bucket holds a plain value under "junk"`}},
		{name: "sweep record missing", mutate: func(tx *bolt.Tx) error { return in(tx, "a").b.Delete(keySweep) },
			want: []string{`sweep "a" has no record`}},
		{name: "sweep record garbled", mutate: func(tx *bolt.Tx) error { return in(tx, "a").b.Put(keySweep, []byte(`{"name":`)) },
			want: []string{`sweep "a" record: unexpected end of JSON input`}},
		{name: "sweep record of another sweep", mutate: editSweep(func(sw *Sweep) { sw.Name = "x" }),
			want: []string{`sweep "a" record names sweep "x"`}},
		{name: "sweep metric", mutate: editSweep(func(sw *Sweep) { sw.Metric = "accuracy" }),
			want: []string{`sweep "a" record: metric "accuracy"`}},
		{name: "spec missing", mutate: func(tx *bolt.Tx) error { return in(tx, "b").b.Delete(keySpec) },
			want: []string{`sweep "b" has no spec`}},
		{name: "canonical spec missing", mutate: func(tx *bolt.Tx) error { return in(tx, "b").b.Delete(keyCanonical) },
			want: []string{`sweep "b" has no canonical spec`}},
		{name: "sub-bucket missing", mutate: func(tx *bolt.Tx) error { return in(tx, "b").b.DeleteBucket(bucketDone) },
			want: []string{`sweep "b" has no "done" bucket`}},
		{name: "trial record garbled", mutate: func(tx *bolt.Tx) error { return in(tx, "a").trials.Put(itob(3), []byte(`{"trial":3,`)) },
			want: []string{`sweep "a" trial 3 record: unexpected end of JSON input`}},
		{name: "trial status", mutate: editTrial(3, func(t *Trial) { t.Status = "dome" }),
			want: []string{`sweep "a" trial 3 record: status "dome" is not a status`}},
		{name: "trial number", mutate: editTrial(3, func(t *Trial) { t.Number = 4 }),
			want: []string{`sweep "a" trial 3 record says trial 4`}},
		{name: "trial numbers not contiguous", mutate: func(tx *bolt.Tx) error {
			st := in(tx, "b")
			t, err := st.trial(3)
			if err != nil {
				return err
			}
			t.Number = 5
			v, _ := json.Marshal(t)
			for _, err := range []error{st.trials.Delete(itob(3)), st.open.Delete(itob(3)), st.trials.Put(itob(5), v),
				st.open.Put(itob(5), []byte(Pending)), st.keys.Put([]byte(t.Key), itob(5))} {
				if err != nil {
					return err
				}
			}
			return nil
		}, want: []string{`sweep "b": trial numbers jump from 2 to 5`}},
		{name: "running without a lease", mutate: editTrial(7, func(t *Trial) { t.Lease = nil }),
			want: []string{`sweep "a" trial 7 is running without a lease`}},
		{name: "lease of a done trial", mutate: editTrial(1, func(t *Trial) { t.Lease = &Lease{Owner: owner("x")} }),
			want: []string{`sweep "a" trial 1 is done but holds a lease`}},
		{name: "negative group", mutate: editTrial(3, func(t *Trial) { t.Group = -2 }),
			want: []string{`sweep "a" trial 3: group -2 < 0`}},
		{name: "keys index misses a trial", mutate: func(tx *bolt.Tx) error {
			st := in(tx, "a")
			t, _ := st.trial(2)
			return st.keys.Put([]byte(t.Key), itob(3))
		}, want: []string{`sweep "a" trial 2: the keys index does not map its key`, `to trial 3, whose key is`}},
		{name: "keys index names a trial that does not exist", mutate: func(tx *bolt.Tx) error { return in(tx, "a").keys.Put([]byte("ghost"), itob(42)) },
			want: []string{`sweep "a": the keys index maps key "ghost" to trial 42, which does not exist`}},
		{name: "open index misses an unfinished trial", mutate: func(tx *bolt.Tx) error { return in(tx, "a").open.Delete(itob(8)) },
			want: []string{`sweep "a" trial 8 is pending, but the open index says ""`}},
		{name: "open index has a wrong status", mutate: func(tx *bolt.Tx) error { return in(tx, "a").open.Put(itob(6), []byte(Pending)) },
			want: []string{`sweep "a" trial 6 is running, but the open index says "pending"`}},
		{name: "open index lists a finished trial", mutate: func(tx *bolt.Tx) error { return in(tx, "a").open.Put(itob(1), []byte(Running)) },
			want: []string{`sweep "a" trial 1 is done, but the open index lists it`}},
		{name: "open index lists a trial that does not exist", mutate: func(tx *bolt.Tx) error { return in(tx, "a").open.Put(itob(42), []byte(Pending)) },
			want: []string{`sweep "a": the open index lists trial 42, which does not exist`}},
		{name: "done index metrics", mutate: func(tx *bolt.Tx) error {
			return in(tx, "a").done.Put(itob(2), encodeDone(Metrics{ValAcc: 0.99, ValLoss: 0.01}))
		}, want: []string{`sweep "a" trial 2: the done index entry`, `does not match its metrics (val_acc 0.52, val_loss 1.48)`}},
		{name: "done index misses a done trial", mutate: func(tx *bolt.Tx) error { return in(tx, "a").done.Delete(itob(4)) },
			want: []string{`sweep "a" trial 4: the done index entry  does not match`}},
		{name: "done index lists a failed trial", mutate: func(tx *bolt.Tx) error { return in(tx, "a").done.Put(itob(5), encodeDone(Metrics{})) },
			want: []string{`sweep "a" trial 5 is failed, but the done index lists it`}},
		{name: "history garbled", mutate: func(tx *bolt.Tx) error { return in(tx, "a").hist.Put(itob(1), []byte{1, 5, 0}) },
			want: []string{`sweep "a" trial 1: history: 5 rows announced, 1 bytes of rows`}},
		{name: "history of a trial that does not exist", mutate: func(tx *bolt.Tx) error {
			return in(tx, "a").hist.Put(itob(42), encodeHistory(history(1)))
		}, want: []string{`sweep "a": history of trial 42, which does not exist`}},
		{name: "checkpoint chunk missing", mutate: func(tx *bolt.Tx) error { return in(tx, "a").ckpt.Delete(blobKey(6, 2)) },
			want: []string{`sweep "a" trial 6: checkpoint: blob of trial 6: bad chunk 3`}},
		{name: "checkpoint header chunk missing", mutate: func(tx *bolt.Tx) error { return in(tx, "a").ckpt.Delete(blobKey(6, 0)) },
			want: []string{`sweep "a" trial 6: checkpoint: blob of trial 6: chunk 1 without a header chunk`}},
		{name: "checkpoint short", mutate: func(tx *bolt.Tx) error {
			return in(tx, "a").ckpt.Put(blobKey(6, 0), binary.BigEndian.AppendUint64(nil, 1<<20))
		}, want: []string{`sweep "a" trial 6: checkpoint: blob of trial 6: 40017 of 1048576 bytes`}},
		{name: "checkpoint encoding", mutate: func(tx *bolt.Tx) error { return putBlob(in(tx, "a").ckpt, 6, []byte{9, 9, 9}) },
			want: []string{`sweep "a" trial 6: checkpoint: bad header`}},
		{name: "checkpoint of a done trial", mutate: func(tx *bolt.Tx) error {
			return putBlob(in(tx, "a").ckpt, 1, encodeCheckpoint(Checkpoint{Epoch: 1}))
		}, want: []string{`sweep "a" trial 1: checkpoint of a done trial`}},
		{name: "checkpoint of a trial that does not exist", mutate: func(tx *bolt.Tx) error {
			return putBlob(in(tx, "a").ckpt, 42, encodeCheckpoint(Checkpoint{Epoch: 1}))
		}, want: []string{`sweep "a" trial 42: checkpoint of a trial that does not exist`}},
		{name: "model chunk missing", mutate: func(tx *bolt.Tx) error { return in(tx, "a").models.Delete(blobKey(2, 1)) },
			want: []string{`sweep "a" trial 2: model: blob of trial 2: bad chunk 2`}},
		{name: "model encoding", mutate: func(tx *bolt.Tx) error {
			m, _ := encodeModel(twoLayer(2, 2, 2, 0))
			return putBlob(in(tx, "a").models, 3, m[:len(m)-1])
		}, want: []string{`sweep "a" trial 3: model: 8 bytes announced, 7 left`}},
		{name: "model of a failed trial", mutate: func(tx *bolt.Tx) error {
			m, _ := encodeModel(twoLayer(2, 2, 2, 0))
			return putBlob(in(tx, "a").models, 5, m)
		}, want: []string{`sweep "a" trial 5: model of a failed trial`}},
		{name: "best trial does not exist", mutate: editSweep(func(sw *Sweep) { sw.Best.Trial = 42; sw.Evaluations = nil }),
			want: []string{`sweep "a": the best trial is trial 42, which does not exist`}},
		{name: "best trial not done", mutate: editSweep(func(sw *Sweep) { sw.Best.Trial = 5; sw.Evaluations = nil }),
			want: []string{`sweep "a": the best trial is trial 5, which is failed`}},
		{name: "best is not the latest evaluation", mutate: editSweep(func(sw *Sweep) { sw.Best = &Best{Trial: 3, Evaluated: t0} }),
			want: []string{`sweep "a": the best trial is not its latest test evaluation`}},
		{name: "evaluation of a trial that does not exist", mutate: editSweep(func(sw *Sweep) {
			sw.Evaluations = append([]Best{{Trial: 42}}, sw.Evaluations...)
		}), want: []string{`sweep "a": test evaluation 1 is trial 42, which does not exist`}},
		// Adaptive state, in sweep "c" (buildAdaptive): 1 running
		// (promoted), 2 done, 3 pruned, 4 paused.
		{name: "sweep elapsed time negative", mutate: editSweepIn("c", func(sw *Sweep) { sw.Elapsed = -1 }),
			want: []string{`sweep "c" record: elapsed time -1s < 0`}},
		{name: "paused without a checkpoint", mutate: func(tx *bolt.Tx) error { return deleteBlob(in(tx, "c").ckpt, 4) },
			want: []string{`sweep "c" trial 4 is paused without a checkpoint`}},
		{name: "paused with a lease", mutate: editTrialIn("c", 4, func(t *Trial) { t.Lease = &Lease{Owner: owner("x")} }),
			want: []string{`sweep "c" trial 4 is paused but holds a lease`}},
		{name: "pruned with a lease", mutate: editTrialIn("c", 3, func(t *Trial) { t.Lease = &Lease{Owner: owner("x")} }),
			want: []string{`sweep "c" trial 3 is pruned but holds a lease`}},
		{name: "paused and promoted", mutate: editTrialIn("c", 4, func(t *Trial) { t.Promoted = true }),
			want: []string{`sweep "c" trial 4 is paused and promoted`}},
		{name: "paused at no rung", mutate: editTrialIn("c", 4, func(t *Trial) { t.Evals, t.Rung = nil, 0 }),
			want: []string{`sweep "c" trial 4 is paused but has reached no rung`}},
		{name: "promoted at no rung", mutate: editTrialIn("c", 1, func(t *Trial) { t.Evals, t.Rung = nil, 0 }),
			want: []string{`sweep "c" trial 1 is promoted but has reached no rung`}},
		{name: "rung is not the number of evaluations", mutate: editTrialIn("c", 2, func(t *Trial) { t.Rung = 1 }),
			want: []string{`sweep "c" trial 2: rung 1, but 2 evaluations`}},
		{name: "evaluations not increasing", mutate: editTrialIn("c", 2, func(t *Trial) { t.Evals[1].Resource = 1 }),
			want: []string{`sweep "c" trial 2: evaluation 2 at 1 is not beyond the one before (at 1)`}},
		{name: "negative target", mutate: editTrialIn("c", 1, func(t *Trial) { t.Target = -3 }),
			want: []string{`sweep "c" trial 1: target -3 or bracket 0 < 0`}},
		{name: "open index says paused for a running trial", mutate: func(tx *bolt.Tx) error { return in(tx, "c").open.Put(itob(1), []byte(Paused)) },
			want: []string{`sweep "c" trial 1 is running, but the open index says "paused"`}},
		{name: "open index misses a paused trial", mutate: func(tx *bolt.Tx) error { return in(tx, "c").open.Delete(itob(4)) },
			want: []string{`sweep "c" trial 4 is paused, but the open index says ""`}},
		{name: "checkpoint of a pruned trial", mutate: func(tx *bolt.Tx) error {
			return putBlob(in(tx, "c").ckpt, 3, encodeCheckpoint(Checkpoint{Epoch: 1}))
		}, want: []string{`sweep "c" trial 3: checkpoint of a pruned trial`}},
		{name: "decisions garbled", mutate: func(tx *bolt.Tx) error { return in(tx, "c").dec.Put(itob(2), []byte(`[{"why":`)) },
			want: []string{`sweep "c" trial 2: decisions: unexpected end of JSON input`}},
		{name: "decisions of a trial that does not exist", mutate: func(tx *bolt.Tx) error { return in(tx, "c").dec.Put(itob(42), []byte(`[]`)) },
			want: []string{`sweep "c": decisions of trial 42, which does not exist`}},
		{name: "decisions a plain value", mutate: func(tx *bolt.Tx) error {
			b := in(tx, "c").b
			if err := b.DeleteBucket(bucketDecisions); err != nil {
				return err
			}
			return b.Put(bucketDecisions, []byte("x"))
		}, want: []string{`sweep "c" holds a plain value under "decisions"`}},
		{name: "every problem, in every sweep", mutate: func(tx *bolt.Tx) error {
			for _, err := range []error{
				editTrial(3, func(t *Trial) { t.Status = "dome" })(tx),
				in(tx, "a").hist.Put(itob(1), []byte{7}),
				in(tx, "b").b.Delete(keySpec),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}, want: []string{"3 problems:", `sweep "a" trial 3 record: status "dome"`, `sweep "a" trial 1: history: unknown encoding`, `sweep "b" has no spec`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := fixtureCopy(t, whole)
			mutate(t, p, c.mutate)
			s := &Store{path: p, timeout: 5 * time.Second}
			err := s.Check(t.Context())
			want := ErrCorrupt
			if c.schema {
				want = ErrSchema
			}
			if !errors.Is(err, want) {
				t.Fatalf("Check: %v, want %v", err, want)
			}
			msg := err.Error()
			rest := msg
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Check: %s\nwant, in order: %q", msg, c.want)
				}
				rest = rest[i+len(w):]
			}
			if !c.schema && !strings.HasPrefix(msg, "check: corrupt results database "+p+": ") {
				t.Errorf("Check: %s: want it to start with the file", msg)
			}
			if err2 := s.CheckWritable(t.Context()); !errors.Is(err2, want) || strings.TrimPrefix(err2.Error(), "check before writing") != strings.TrimPrefix(msg, "check") {
				t.Errorf("CheckWritable: %v\nCheck: %v", err2, err)
			}
			before, _ := os.ReadFile(p)
			if _, err := s.EnsureSweep(t.Context(), Sweep{Name: "a", Keep: 2}, grid(9)); !errors.Is(err, want) {
				t.Errorf("EnsureSweep into a file that fails its check: %v", err)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Errorf("EnsureSweep changed a file that fails its check")
			}
		})
	}
}

// pageOf returns the root page of the bucket at path (names from the root)
// in the file at p, 0 if it is inline.
func pageOf(t *testing.T, p string, path ...string) uint64 {
	t.Helper()
	db, err := bolt.Open(p, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var root uint64
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, name := range path[1:] {
			b = b.Bucket([]byte(name))
		}
		root = uint64(b.Root())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// leafValue returns the offset in b of the value stored under key in the
// leaf page id.
func leafValue(t *testing.T, b []byte, ps, id uint64, key string) int {
	t.Helper()
	p := b[id*ps:]
	if flags := native.Uint16(p[8:]); flags != leafPageFlag {
		t.Fatalf("page %d has type %#x, want a leaf", id, flags)
	}
	for i := range int(native.Uint16(p[10:])) {
		off := pageHeaderSize + i*pageElementSize
		e := p[off:]
		ks := off + int(native.Uint32(e[4:]))
		if string(p[ks:ks+int(native.Uint32(e[8:]))]) == key {
			return int(id*ps) + ks + int(native.Uint32(e[8:]))
		}
	}
	t.Fatalf("no key %q in page %d", key, id)
	return 0
}

// TestCheckPages damages bbolt's page structure in ways the schema cannot
// see, among them cycles on which bbolt's own Tx.Check recurses until the
// process dies, and checks that Check names each (page and bucket) without
// crashing, and that reads of the file do not panic.
func TestCheckPages(t *testing.T) {
	path, kept, dropped := corruptFixture(t)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := readMeta(bytes.NewReader(whole), int64(len(whole)))
	if err != nil || !ok {
		t.Fatal(err)
	}
	ps := m.pageSize
	sweeps := pageOf(t, path, "sweeps")
	trials := pageOf(t, path, "sweeps", "a", "trials")
	var branch uint64 // a bucket whose root page is a branch page
	for _, name := range []string{"models", "checkpoints", "trials", "history"} {
		if id := pageOf(t, path, "sweeps", "a", name); id != 0 && native.Uint16(whole[id*ps+8:]) == branchPageFlag {
			branch = id
			break
		}
	}
	if sweeps == 0 || trials == 0 || branch == 0 {
		t.Fatalf("the fixture has no pages to damage: sweeps %d, trials %d, branch %d", sweeps, trials, branch)
	}
	free := func(b []byte) []byte { return b[m.freelist*ps:] }
	if native.Uint16(free(whole)[10:]) == 0 {
		t.Fatal("the fixture has no free page")
	}
	for _, c := range []struct {
		name   string
		damage func(b []byte) []byte
		want   string
	}{
		{"page header names another page", func(b []byte) []byte { b[sweeps*ps] ^= 0xff; return b },
			"bucket sweeps: page {sweeps}: its header says page"},
		{"page type", func(b []byte) []byte { native.PutUint16(b[trials*ps+8:], 0x20); return b },
			"bucket sweeps/a/trials: page {trials} has type 0x20, not a branch or leaf page"},
		{"element beyond its page", func(b []byte) []byte { native.PutUint32(b[trials*ps+pageHeaderSize+4:], 1<<30); return b },
			"bucket sweeps/a/trials: page {trials}: an element reaches byte"},
		{"bucket cycle", func(b []byte) []byte {
			native.PutUint64(b[leafValue(t, b, ps, sweeps, "a"):], sweeps)
			return b
		}, "bucket sweeps/a: page {sweeps} (and 0 overflow pages): reached twice"},
		{"branch cycle", func(b []byte) []byte { native.PutUint64(b[branch*ps+pageHeaderSize+8:], branch); return b },
			"page {branch} (and 0 overflow pages): reached twice"},
		{"truncated", func(b []byte) []byte { return b[:(m.hwm-1)*ps] },
			"truncated: the file has"},
		{"freelist count", func(b []byte) []byte {
			native.PutUint16(free(b)[10:], 0xFFFF)
			native.PutUint64(free(b)[pageHeaderSize:], 1<<40)
			return b
		}, "freelist: page {freelist}: 1099511627776 free pages do not fit"},
		{"page neither reachable nor free", func(b []byte) []byte {
			native.PutUint16(free(b)[10:], native.Uint16(free(b)[10:])-1)
			return b
		}, "page structure: page "},
		{"reachable page in the freelist", func(b []byte) []byte {
			native.PutUint64(free(b)[pageHeaderSize:], trials)
			return b
		}, "page structure: page {trials}: reachable freed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := fixtureCopy(t, c.damage(bytes.Clone(whole)))
			want := strings.NewReplacer("{sweeps}", fmt.Sprint(sweeps), "{trials}", fmt.Sprint(trials),
				"{branch}", fmt.Sprint(branch), "{freelist}", fmt.Sprint(m.freelist)).Replace(c.want)
			s := &Store{path: p, timeout: 5 * time.Second}
			err := s.Check(t.Context())
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Check: %v\nwant ErrCorrupt with %q", err, want)
			}
			exerciseDamaged(t, p, storeCalls(kept, dropped), nil)
		})
	}
}

// TestCheckSound: files the Store writes pass Check, among them an empty
// one and one whose done trial has NaN metrics (stored as "NaN", with
// other bits than the NaN the index keeps).
func TestCheckSound(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check of a new file: %v", err)
	}
	mustSweep(t, s, "g", 2, 3)
	o := owner("a")
	if _, _, err := s.Claim(ctx, "g", o, t0, nil); err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	nan := zero / zero // not math.NaN()'s bits
	if err := s.Finish(ctx, "g", 1, o, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: nan, ValLoss: nan}, Model: twoLayer(2, 2, 2, 0)}); err != nil {
		t.Fatal(err)
	}
	for _, check := range []func(context.Context) error{s.Check, s.CheckWritable} {
		if err := check(ctx); err != nil {
			t.Errorf("check: %v", err)
		}
	}
}

// TestCheckWritable: CheckWritable writes nothing to a sound file, and
// refuses one the process may not write.
func TestCheckWritable(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 3, 3)
	before, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(s.Path()); !bytes.Equal(before, after) {
		t.Errorf("CheckWritable changed the file")
	}
	if os.Geteuid() == 0 {
		t.Log("running as root, who may write a read-only file: not tested")
		return
	}
	if err := os.Chmod(s.Path(), 0o444); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(s.Path(), 0o644)
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check of a read-only file: %v", err)
	}
	if err := s.CheckWritable(ctx); !errors.Is(err, os.ErrPermission) {
		t.Errorf("CheckWritable of a read-only file: %v, want a permission error", err)
	}
}
