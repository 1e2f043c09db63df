package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storage"
)

// queryTimeout bounds how long a command that answers a question (ls,
// show, leaderboard, copy, ...) retries a PostgreSQL server it cannot
// reach, before it says so. A run uses the store's default for each call
// (results/pgstore), and its workers retry further within their leases.
const queryTimeout = 10 * time.Second

// queryOptions are the store options of a command that is not a run.
func queryOptions(where string) storage.Options {
	if storage.IsPostgres(where) {
		return storage.Options{Timeout: queryTimeout}
	}
	return storage.Options{}
}

// openExisting opens the results database where names (a file path or a
// PostgreSQL connection string), which must exist, for a command that is
// not a run.
func openExisting(where string) (results.Store, error) {
	return storage.OpenExisting(context.Background(), where, queryOptions(where))
}

// openDB opens the results database where names, creating it if need be,
// for a command that is not a run.
func openDB(where string) (results.Store, error) {
	return storage.Open(context.Background(), where, queryOptions(where))
}

// openRun opens the database of a run: the existing one (create false; an
// error wrapping results.ErrNotFound if there is none), or creating it.
func openRun(where string, create bool) (results.Store, error) {
	if create {
		return storage.Open(context.Background(), where, storage.Options{})
	}
	return storage.OpenExisting(context.Background(), where, storage.Options{})
}

// dbArg is the --db argument of a command printed for the user to run,
// quoted for a shell: a file's absolute path, so that the command works
// from any directory; for PostgreSQL, "$SWEEP_DB" when that is where the
// database came from, else the connection string with its password
// masked (never printed).
func dbArg(st results.Store) string {
	p := st.Location()
	if storage.IsPostgres(p) {
		if env := os.Getenv("SWEEP_DB"); env != "" && storage.Redact(env) == p {
			return `"$SWEEP_DB"`
		}
		return shellQuote(p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return shellQuote(p)
}
