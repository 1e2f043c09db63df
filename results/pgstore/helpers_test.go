package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/internal/pgtest"
	"github.com/sweep-dev/sweep/results"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testTimeout is the Options.Timeout of the tests' stores: long enough for
// a loaded machine, short enough that a hung test says so.
const testTimeout = 20 * time.Second

// newDB returns the DSN of a new, empty database on the shared server.
func newDB(t testing.TB) string {
	t.Helper()
	return pgtest.Shared(t).NewDatabase(t)
}

// openDSN opens a Store on dsn, closed at t's cleanup after a Check.
func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("check at cleanup: %v", err)
		}
		s.Close()
	})
	return s
}

// newStore opens a Store on a new database, and returns it with its DSN.
func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	dsn := newDB(t)
	return openDSN(t, dsn), dsn
}

// conn connects to dsn directly, for what a test does behind the store's back.
func conn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// exec runs sql on dsn, failing t on error.
func exec(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// owner is a test worker.
func owner(id string) results.Owner { return results.Owner{Host: "h", PID: 1, ID: id} }

// grid returns n pending trials' inputs, keys k1..kn.
func grid(n int) []results.Trial {
	ts := make([]results.Trial, n)
	for i := range ts {
		ts[i] = results.Trial{Key: "k" + itoa(i+1), Params: results.Params{{Name: "lr", Value: float64(i + 1)}, {Name: "a", Value: "x"}}, Seed: uint64(i)}
	}
	return ts
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// ensure creates sweep name with n trials.
func ensure(t testing.TB, s *Store, name string, n int) {
	t.Helper()
	if _, err := s.EnsureSweep(t.Context(), results.Sweep{Name: name, Spec: []byte("spec")}, grid(n)); err != nil {
		t.Fatal(err)
	}
}

// claim claims a trial of sweep for o, failing t on error.
func claim(t testing.TB, s *Store, sweep string, o results.Owner) *results.Trial {
	t.Helper()
	tr, _, err := s.Claim(t.Context(), sweep, o, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
