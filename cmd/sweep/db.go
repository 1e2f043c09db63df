package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
func openExisting(ctx context.Context, where string) (results.Store, error) {
	return storage.OpenExisting(ctx, where, queryOptions(where))
}

// openDB opens the results database where names, creating it if need be,
// for a command that is not a run.
func openDB(ctx context.Context, where string) (results.Store, error) {
	return storage.Open(ctx, where, queryOptions(where))
}

// openRun opens the database of a run: the existing one (create false; an
// error wrapping results.ErrNotFound if there is none), or creating it.
func openRun(ctx context.Context, where string, create bool) (results.Store, error) {
	if create {
		return storage.Open(ctx, where, storage.Options{})
	}
	return storage.OpenExisting(ctx, where, storage.Options{})
}

// dbFlag is the --db flag of a command printed for the user to run, with
// its leading space, quoted for a shell: a file's absolute path, so that
// the command works from any directory. For PostgreSQL: nothing when the
// database came from $SWEEP_DB (the default, and a connection string in
// the arguments would be visible to every user of the machine in ps); else
// the connection string without its password (kept in ~/.pgpass or
// $PGPASSWORD), so that pasting the command does not send a mask as one.
func dbFlag(st results.Store) string {
	p := st.Location()
	if storage.IsPostgres(p) {
		if env := os.Getenv("SWEEP_DB"); env != "" && storage.Redact(env) == p {
			return ""
		}
		return " --db " + shellQuote(withoutPassword(p))
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return " --db " + shellQuote(p)
}

// withoutPassword drops the (masked) password of a connection string.
func withoutPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		if _, ok := u.User.Password(); ok {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return strings.TrimSpace(kvMaskedPassword.ReplaceAllString(dsn, ""))
}

// kvMaskedPassword is the masked password pair of a key=value string.
var kvMaskedPassword = regexp.MustCompile(`(?i)\bpassword\s*=\s*xxxxx\s*`)
