package pgstore

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// ageLease moves the heartbeat of trial n's lease back by d, in its record
// and its row, behind the store's back: as if its holder had stopped
// beating d ago.
func ageLease(t *testing.T, c *pgx.Conn, sweep string, n int, d time.Duration) {
	t.Helper()
	var rec []byte
	if err := c.QueryRow(t.Context(), `SELECT record FROM sweep_trials WHERE sweep = $1 AND number = $2`, sweep, n).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	tr, err := results.DecodeTrial(sweep, n, rec)
	if err != nil {
		t.Fatal(err)
	}
	tr.Lease.Heartbeat = tr.Lease.Heartbeat.Add(-d)
	col, err := columns(tr)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, `UPDATE sweep_trials SET record = $3, heartbeat = $4 WHERE sweep = $1 AND number = $2`, sweep, n, col.record, col.heartbeat)
}

// staleAfter is the staleness rule of a worker: a lease is stale when its
// heartbeat is older than ttl by the caller's clock.
func staleAfter(ttl time.Duration) func(results.Lease) bool {
	return func(l results.Lease) bool { return time.Since(l.Heartbeat) > ttl }
}

// within reports whether a and b are at most d apart.
func within(a, b time.Time, d time.Duration) bool { return a.Sub(b).Abs() <= d }

// TestLeaseClock: leases are timed by the database's clock, whatever now
// the caller passes, and the leases returned are rebased to the caller's
// clock, so that a staleness rule on them measures the database's time:
// a heartbeat 2 minutes old in the database is stale for a rule of one
// minute, a fresh one is not.
func TestLeaseClock(t *testing.T) {
	s, dsn := newStore(t)
	ctx := t.Context()
	ensure(t, s, "g", 2)
	c := conn(t, dsn)
	future := time.Now().Add(24 * time.Hour) // a caller's clock a day ahead: ignored

	t1, _, err := s.Claim(ctx, "g", owner("a"), future, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !within(t1.Lease.Claimed, time.Now(), 5*time.Second) || !t1.Lease.Heartbeat.Equal(t1.Lease.Claimed) || !t1.Started.Equal(t1.Lease.Claimed) {
		t.Fatalf("a claim at a clock a day ahead leased at %v (heartbeat %v, started %v): want the database's now", t1.Lease.Claimed, t1.Lease.Heartbeat, t1.Started)
	}
	claim(t, s, "g", owner("b")) // trial 2, fresh
	ageLease(t, c, "g", 1, 2*time.Minute)

	stale := staleAfter(time.Minute)
	running, err := s.Running(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 2 || !stale(*running[0].Lease) || stale(*running[1].Lease) {
		t.Fatalf("Running: stale(trial 1) = %v, stale(trial 2) = %v; want true, false", stale(*running[0].Lease), stale(*running[1].Lease))
	}
	if age := time.Since(running[0].Lease.Heartbeat); age < 2*time.Minute-5*time.Second || age > 2*time.Minute+5*time.Second {
		t.Errorf("trial 1's heartbeat, aged 2 minutes, is %v old by this clock", age)
	}
	for _, read := range []func() (*results.Trial, error){
		func() (*results.Trial, error) { tr, _, err := s.Trial(ctx, "g", 1); return tr, err },
		func() (*results.Trial, error) {
			ts, err := s.Trials(ctx, "g", results.Filter{Status: []results.Status{results.Running}})
			if err != nil {
				return nil, err
			}
			return &ts[0], nil
		},
		func() (*results.Trial, error) {
			d, err := s.Dump(ctx, "g")
			if err != nil {
				return nil, err
			}
			return &d.Trials[0].Trial, nil
		},
	} {
		tr, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if !stale(*tr.Lease) {
			t.Errorf("trial 1 read with a heartbeat %v old: not stale", time.Since(tr.Lease.Heartbeat))
		}
	}

	sums, err := s.Sweeps(ctx, future, time.Minute)
	if err != nil || !sums[0].Active {
		t.Fatalf("Sweeps with a fresh lease: %+v, %v; want active", sums, err)
	}

	// Claim, at a clock a day ahead, takes the stale trial and not the
	// fresh one.
	re, _, err := s.Claim(ctx, "g", owner("c"), future, stale)
	if err != nil {
		t.Fatal(err)
	}
	if re.Number != 1 || re.Attempts != 2 || !within(re.Lease.Claimed, time.Now(), 5*time.Second) || !re.Started.Equal(t1.Started) {
		t.Fatalf("reclaimed trial %d, attempts %d, claimed %v, started %v; want trial 1, 2 attempts, now, started as first", re.Number, re.Attempts, re.Lease.Claimed, re.Started)
	}
	if _, _, err := s.Claim(ctx, "g", owner("c"), future, stale); !errors.Is(err, results.ErrNoWork) {
		t.Fatalf("a claim with only fresh leases left: %v, want ErrNoWork", err)
	}

	ageLease(t, c, "g", 1, 2*time.Minute)
	ageLease(t, c, "g", 2, 2*time.Minute)
	if sums, err := s.Sweeps(ctx, future, time.Minute); err != nil || sums[0].Active {
		t.Fatalf("Sweeps with leases 2 minutes old: %+v, %v; want inactive", sums, err)
	}

	// TickElapsed: the database's clock, not the caller's.
	for range 2 {
		if _, err := s.TickElapsed(ctx, "g", future, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	sw, err := s.Sweep(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if !within(sw.ElapsedAt, time.Now(), 5*time.Second) || sw.Elapsed > 5 {
		t.Fatalf("after two ticks at a clock a day ahead: elapsed %vs, at %v", sw.Elapsed, sw.ElapsedAt)
	}
}

// rowState is everything stored of a trial: what a refused write must
// leave as it was.
func rowState(t *testing.T, c *pgx.Conn, sweep string, n int) string {
	t.Helper()
	var state string
	err := c.QueryRow(t.Context(), `SELECT concat_ws('|', t.status, t.owner_id, t.heartbeat, t.attempts, t.write_id,
			md5(t.record), md5(c.data), md5(h.data), md5(d.data), md5(m.data))
		FROM sweep_trials t
		LEFT JOIN sweep_checkpoints c USING (sweep, number)
		LEFT JOIN sweep_histories h USING (sweep, number)
		LEFT JOIN sweep_decisions d USING (sweep, number)
		LEFT JOIN sweep_models m USING (sweep, number)
		WHERE t.sweep = $1 AND t.number = $2`, sweep, n).Scan(&state)
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// TestFencing: a write by a holder whose lease was taken over (another
// owner, or the same owner in an earlier attempt) is refused with
// ErrLeaseLost and changes nothing.
func TestFencing(t *testing.T) {
	s, dsn := newStore(t)
	ctx := t.Context()
	c := conn(t, dsn)
	ensure(t, s, "g", 1)
	a, b := owner("a"), owner("b")
	always := func(results.Lease) bool { return true }
	ck := results.Checkpoint{Epoch: 1, Iteration: 10, Data: []byte("weights")}
	hist := []results.Epoch{{Epoch: 1, Iteration: 10, Loss: 0.5}}

	first := claim(t, s, "g", a) // attempt 1
	if err := s.SaveCheckpoint(ctx, "g", 1, withAttempt(a, first.Attempts), time.Now(), ck, hist); err != nil {
		t.Fatal(err)
	}
	// a, presumed dead, is replaced: first by a new attempt of its own
	// process, then by b.
	second, _, err := s.Claim(ctx, "g", a, time.Now(), always)
	if err != nil || second.Attempts != 2 {
		t.Fatalf("reclaim by a: attempts %v, %v", second, err)
	}
	writes := func(o results.Owner) map[string]func() error {
		return map[string]func() error{
			"SaveCheckpoint": func() error { return s.SaveCheckpoint(ctx, "g", 1, o, time.Now(), ck, hist) },
			"Heartbeat":      func() error { return s.Heartbeat(ctx, "g", []int{1}, o, time.Now()) },
			"Pause": func() error {
				return s.Pause(ctx, "g", 1, o, time.Now(), ck, hist, results.Eval{Resource: 1, Value: 0.5}, results.Metrics{}, 1)
			},
			"Finish": func() error {
				return s.Finish(ctx, "g", 1, o, time.Now(), results.Outcome{Status: results.Done, Model: testModel()})
			},
			"Release": func() error { return s.Release(ctx, "g", 1, o, time.Now(), &ck, hist, 1) },
		}
	}
	refused := func(who string, o results.Owner) {
		t.Helper()
		before := rowState(t, c, "g", 1)
		for name, w := range writes(o) {
			if err := w(); !errors.Is(err, results.ErrLeaseLost) {
				t.Errorf("%s by %s: %v, want ErrLeaseLost", name, who, err)
			}
			if after := rowState(t, c, "g", 1); after != before {
				t.Errorf("%s by %s, refused, changed the trial:\n\t%s\n\t%s", name, who, before, after)
			}
		}
	}
	refused("a in attempt 1", withAttempt(a, 1))
	if err := s.Heartbeat(ctx, "g", []int{1}, withAttempt(a, 2), time.Now()); err != nil {
		t.Fatalf("heartbeat of a in attempt 2: %v", err)
	}
	if _, _, err := s.Claim(ctx, "g", b, time.Now(), always); err != nil {
		t.Fatal(err)
	}
	refused("a in attempt 2", withAttempt(a, 2))
	refused("a in any attempt", a)
	refused("a stranger", owner("z"))
	if err := s.Finish(ctx, "g", 1, withAttempt(b, 3), time.Now(), results.Outcome{Status: results.Done, Model: testModel()}); err != nil {
		t.Fatalf("finish by b, the holder: %v", err)
	}
	refused("b after its finish", withAttempt(b, 3))
}

func withAttempt(o results.Owner, a int) results.Owner {
	o.Attempt = a
	return o
}

// testModel is a one-tensor model.
func testModel() *results.Model {
	return &results.Model{Tensors: []results.Tensor{{Name: "w", Shape: []int{2}, DType: "float32", Data: make([]byte, 8)}}}
}

// TestStrayWriteDoesNotHide: a write of a lease lost (here, of a trial
// its holder released) locks nothing while it is refused, so a claim
// running meanwhile, which skips locked rows, still finds the trial.
func TestStrayWriteDoesNotHide(t *testing.T) {
	s, dsn := newStore(t)
	other := openDSN(t, dsn)
	ctx := t.Context()
	ensure(t, s, "g", 1)
	a := owner("a")
	claim(t, s, "g", a)
	if err := s.Release(ctx, "g", 1, a, time.Now(), nil, nil, 1); err != nil {
		t.Fatal(err)
	}
	err := s.run(ctx, "stray writes", txOptions{}, func(tx *txn) error {
		if _, err := tx.heldTrial(ctx, "g", 1, a); !errors.Is(err, results.ErrLeaseLost) {
			t.Errorf("heldTrial of a released trial: %v", err)
		}
		// Heartbeat's lock, in another transaction of the same process.
		if err := other.Heartbeat(ctx, "g", []int{1}, a, time.Now()); !errors.Is(err, results.ErrLeaseLost) {
			t.Errorf("Heartbeat of a released trial: %v", err)
		}
		tr, _, err := other.Claim(ctx, "g", owner("b"), time.Now(), nil)
		if err != nil || tr.Number != 1 {
			t.Errorf("a claim while a stray write of trial 1 is in flight: %v, %v; want trial 1", tr, err)
		}
		return errRollback
	})
	if err != nil {
		t.Fatal(err)
	}
}
