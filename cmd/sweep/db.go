package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storage"
)

// openExisting opens the results database where names (a file path or a
// PostgreSQL connection string), which must exist.
func openExisting(where string) (results.Store, error) {
	return storage.OpenExisting(context.Background(), where, storage.Options{})
}

// openDB opens the results database where names, creating it if need be.
func openDB(where string) (results.Store, error) {
	return storage.Open(context.Background(), where, storage.Options{})
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
