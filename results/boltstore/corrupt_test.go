package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corruptFixture builds, through the Store, a database like one a few runs
// leave: sweep "a" (val_acc, keep 2) with done trials and kept models, one
// running and one interrupted trial with checkpoints of several chunks, a
// failed and a pending one, histories and a selected best; sweep "b"
// (val_loss) with a done trial and pending ones; sweep "c", adaptive, with
// a running promoted trial, a done, a pruned and a paused one and their
// decisions (buildAdaptive).
func corruptFixture(t testing.TB) (path string, kept, dropped int) {
	t.Helper()
	ctx := context.Background()
	s := newTestStore(t)
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "a", Spec: []byte("name = \"a\"\n"), Keep: 2}, grid(8)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "b", Spec: []byte("name = \"b\"\n"), Metric: "val_loss"}, grid(3)); err != nil {
		t.Fatal(err)
	}
	o := owner("w")
	ck := Checkpoint{Epoch: 2, Iteration: 590, Data: bytes.Repeat([]byte("checkpoint"), 4000)} // 3 chunks
	claim := func(sweep string) *Trial {
		tr, _, err := s.Claim(ctx, sweep, o, t0, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for i, acc := range []float64{0.41, 0.52, 0.47, 0.30} { // trials 1..4 of a: done
		tr := claim("a")
		if err := s.SaveCheckpoint(ctx, "a", tr.Number, o, t0, ck, history(2)); err != nil {
			t.Fatal(err)
		}
		out := Outcome{Status: Done, Metrics: Metrics{ValAcc: acc, ValLoss: 2 - acc}, History: history(4), Model: twoLayer(100, 50, 10, uint32(i)), Duration: 3}
		if err := s.Finish(ctx, "a", tr.Number, o, t0, out); err != nil {
			t.Fatal(err)
		}
	}
	tr := claim("a") // 5: failed
	if err := s.Finish(ctx, "a", tr.Number, o, t0, Outcome{Status: Failed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	tr = claim("a") // 6: interrupted with a checkpoint
	if err := s.Release(ctx, "a", tr.Number, o, t0, &ck, history(2), 1); err != nil {
		t.Fatal(err)
	}
	tr = claim("a") // 6 again: running with a checkpoint
	if err := s.SaveCheckpoint(ctx, "a", tr.Number, o, t0, ck, history(3)); err != nil {
		t.Fatal(err)
	}
	claim("a") // 7: running without one; 8 stays pending
	if err := s.SetBest(ctx, "a", Best{Trial: 2, ValAcc: 0.52, ValLoss: 1.48, TestAcc: 0.5, TestLoss: 1.5, Evaluated: t0}); err != nil {
		t.Fatal(err)
	}
	tr = claim("b")
	if err := s.Finish(ctx, "b", tr.Number, o, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.4, ValLoss: 1.2}, Model: twoLayer(10, 5, 2, 9)}); err != nil {
		t.Fatal(err)
	}
	buildAdaptive(t, s, "c")
	if err := s.Check(ctx); err != nil {
		t.Fatalf("the fixture fails its check: %v", err)
	}
	return s.Path(), 2, 4 // trial 2 (0.52) and 3 (0.47) are kept, 4 is not
}

// storeCall is a method of Store called on a possibly damaged file.
type storeCall struct {
	name string
	call func(ctx context.Context, s *Store) error
}

func storeCalls(kept, dropped int) []storeCall {
	calls := []storeCall{
		{"Sweeps", func(ctx context.Context, s *Store) error { _, err := s.Sweeps(ctx, t0, time.Minute); return err }},
	}
	for _, sw := range []string{"a", "b", "c"} {
		calls = append(calls,
			storeCall{"Sweep/" + sw, func(ctx context.Context, s *Store) error { _, err := s.Sweep(ctx, sw); return err }},
			storeCall{"Trials/" + sw, func(ctx context.Context, s *Store) error { _, err := s.Trials(ctx, sw, Filter{}); return err }},
			storeCall{"Running/" + sw, func(ctx context.Context, s *Store) error { _, err := s.Running(ctx, sw); return err }},
		)
	}
	for n := 1; n <= 8; n++ {
		calls = append(calls, storeCall{fmt.Sprint("Trial/a/", n), func(ctx context.Context, s *Store) error {
			_, _, err := s.Trial(ctx, "a", n)
			return err
		}})
	}
	for n := 1; n <= 4; n++ {
		calls = append(calls, storeCall{fmt.Sprint("Trial/c/", n), func(ctx context.Context, s *Store) error {
			_, _, err := s.Trial(ctx, "c", n)
			return err
		}})
	}
	for _, n := range []int{kept, dropped} {
		calls = append(calls, storeCall{fmt.Sprint("Model/a/", n), func(ctx context.Context, s *Store) error {
			_, err := s.Model(ctx, "a", n)
			return err
		}})
	}
	return calls
}

// sentinels are the errors a method may return on a file that is whole.
var sentinels = []error{ErrNotFound, ErrNoSweep, ErrNoTrial, ErrLocked, ErrLeaseLost, ErrNoWork}

func sentinelOf(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// checkDamagedError fails t unless err, from call on the damaged file
// path, is nil, the error the call gave on the whole file (want), or wraps
// ErrCorrupt (or ErrSchema) with the file named and no trace of a panic.
func checkDamagedError(t *testing.T, call, path string, err, want error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "runtime error") || strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
		t.Errorf("%s: the error shows a panic: %v", call, err)
	}
	switch {
	case errors.Is(err, ErrCorrupt):
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(msg, "corrupt results database "+path+": ") {
			t.Errorf("%s: %q does not read \"corrupt results database %s: ...\"", call, msg, path)
		}
	case errors.Is(err, ErrSchema):
	case want != nil && errors.Is(err, want):
	default:
		t.Errorf("%s: %v, want nil, ErrCorrupt, ErrSchema or %v", call, err, want)
	}
}

// noPanic runs f, failing t if it panics.
func noPanic(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
			err = fmt.Errorf("panicked")
		}
	}()
	return f()
}

// exerciseDamaged calls every read method of a Store on the file at path,
// then Check, CheckWritable and EnsureSweep (a run's first write), and
// checks the answers (checkDamagedError, with want the errors of the whole
// file, nil to accept any sentinel): no panic; no lock left behind; a file
// Check refuses is not written to; a read that finds damage is matched by
// Check; a write that goes ahead leaves a file that still passes Check. It
// returns Check's error.
func exerciseDamaged(t *testing.T, path string, calls []storeCall, want map[string]error) error {
	t.Helper()
	ctx := t.Context()
	s := &Store{path: path, timeout: 5 * time.Second}
	wantOf := func(name string, err error) error {
		if want == nil {
			return sentinelOf(err)
		}
		return want[name]
	}
	readCorrupt := ""
	err := noPanic(t, "OpenExisting", func() error { _, err := OpenExisting(path, Options{}); return err })
	checkDamagedError(t, "OpenExisting", path, err, nil)
	for _, c := range calls {
		err := noPanic(t, c.name, func() error { return c.call(ctx, s) })
		if probeLocked(path) {
			t.Errorf("%s (%v) left the file locked", c.name, err)
		}
		checkDamagedError(t, c.name, path, err, wantOf(c.name, err))
		if errors.Is(err, ErrCorrupt) && readCorrupt == "" {
			readCorrupt = fmt.Sprintf("%s: %v", c.name, err)
		}
	}
	checkErr := noPanic(t, "Check", func() error { return s.Check(ctx) })
	checkDamagedError(t, "Check", path, checkErr, nil)
	writableErr := noPanic(t, "CheckWritable", func() error { return s.CheckWritable(ctx) })
	checkDamagedError(t, "CheckWritable", path, writableErr, nil)
	if (checkErr == nil) != (writableErr == nil) {
		t.Errorf("Check: %v; CheckWritable: %v", checkErr, writableErr)
	}
	if readCorrupt != "" && checkErr == nil {
		t.Errorf("a read found damage that Check did not: %s", readCorrupt)
	}
	before, _ := os.ReadFile(path)
	err = noPanic(t, "EnsureSweep", func() error {
		_, err := s.EnsureSweep(ctx, Sweep{Name: "a", Spec: []byte("name = \"a\"\n"), Keep: 2}, grid(9))
		return err
	})
	checkDamagedError(t, "EnsureSweep", path, err, wantOf("EnsureSweep", err))
	after, _ := os.ReadFile(path)
	switch {
	case checkErr != nil && err == nil:
		t.Errorf("EnsureSweep wrote into a file that fails its check (%v)", checkErr)
	case err != nil && !bytes.Equal(before, after):
		t.Errorf("EnsureSweep failed (%v) but changed the file", err)
	case checkErr == nil && err == nil:
		if err := s.Check(ctx); err != nil {
			t.Errorf("a write into a file that passed its check broke it: %v", err)
		}
	}
	return checkErr
}

// damage is one way of damaging a database file.
type damage struct {
	name string
	do   func(b []byte) []byte
}

func flipAt(off int, mask byte) func([]byte) []byte {
	return func(b []byte) []byte {
		if off < len(b) {
			b[off] ^= mask
		}
		return b
	}
}

// damages lists the damage TestCorruptFile does to the file b.
func damages(t *testing.T, b []byte) []damage {
	m, ok, err := readMeta(bytes.NewReader(b), int64(len(b)))
	if err != nil || !ok {
		t.Fatalf("the fixture's meta pages: %v", err)
	}
	ps := int(m.pageSize)
	truncate := func(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:n] } }
	ds := []damage{
		{"truncated to 50%", truncate(len(b) / 2)},
		{"truncated to 75%", truncate(len(b) * 3 / 4)},
		{"truncated by a page", truncate(len(b) - ps)},
		{"truncated to a page short of its pages", truncate(int(m.hwm)*ps - ps)},
		{"truncated within its last page", truncate(int(m.hwm)*ps - 100)},
		{"truncated to its meta pages", truncate(2 * ps)},
		{"truncated to 100 bytes", truncate(100)},
		{"emptied", truncate(0)},
	}
	// The meta pages: magic, page size, root, freelist, high water mark,
	// txid and checksum, of page 0, page 1 and both.
	for _, f := range []struct {
		name string
		off  int
	}{{"magic", 16}, {"page size", 24}, {"root", 32}, {"freelist", 48}, {"pgid", 56}, {"txid", 64}, {"checksum", 72}} {
		ds = append(ds,
			damage{"meta 0 " + f.name, flipAt(f.off, 0x5a)},
			damage{"meta 1 " + f.name, flipAt(ps+f.off, 0x5a)},
			damage{"both metas' " + f.name, func(b []byte) []byte { return flipAt(ps+f.off, 0x5a)(flipAt(f.off, 0x5a)(b)) }},
		)
	}
	// Every page's header and first element: its id, flags, count,
	// overflow, or the first element's position, in turn.
	fields := []int{0, 8, 10, 12, 16, 20}
	for p := 2; p < int(m.hwm); p++ {
		off := p*ps + fields[p%len(fields)]
		ds = append(ds, damage{fmt.Sprintf("page %d byte %d", p, off-p*ps), flipAt(off, 0xff)})
	}
	// Bytes anywhere in the pages in use, with a fixed seed.
	r := rand.New(rand.NewPCG(1, 2))
	for range 64 {
		off := r.IntN(int(m.hwm) * ps)
		ds = append(ds, damage{fmt.Sprintf("byte %d", off), flipAt(off, byte(1+r.IntN(255)))})
	}
	return ds
}

// TestCorruptFile damages a real database in many ways (truncations, the
// meta pages, every page's header, random bytes) and calls every read
// method, the checks and a run's first write on each copy: none panics,
// every error is the whole file's or names the file as corrupt, and a file
// that fails its check is never written to.
func TestCorruptFile(t *testing.T) {
	path, kept, dropped := corruptFixture(t)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	calls := storeCalls(kept, dropped)
	want := map[string]error{}
	s := &Store{path: path, timeout: 5 * time.Second}
	for _, c := range calls {
		want[c.name] = sentinelOf(c.call(t.Context(), s))
	}
	if want["Model/a/4"] != ErrNotFound || want["Trial/a/8"] != nil {
		t.Fatalf("on the whole file: %v", want)
	}
	detected := 0
	ds := damages(t, whole)
	for _, d := range ds {
		t.Run(d.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "sweep.db")
			if err := os.WriteFile(p, d.do(bytes.Clone(whole)), 0o644); err != nil {
				t.Fatal(err)
			}
			if exerciseDamaged(t, p, calls, want) != nil {
				detected++
			}
		})
	}
	t.Logf("%d damaged copies, %d refused by Check", len(ds), detected)
}
