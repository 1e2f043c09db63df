// Package storage opens the results database a user names: a PostgreSQL
// connection string (package results/pgstore) or the path of a bbolt file
// (package results/boltstore), each behind the results.Store interface.
package storage

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/results/pgstore"
)

// Options configure the store opened.
type Options struct {
	// Timeout bounds a call's wait: for a file, for its lock held by
	// another process (then results.ErrLocked); for PostgreSQL, for a
	// server that cannot be reached (then results.ErrUnavailable). 0: the
	// store's default.
	Timeout time.Duration
}

// ErrBadAddress: what the user wrote for a database is neither a file
// path nor a PostgreSQL connection string pgx can parse (a mistyped
// scheme, an unescaped '@' in a password, a bad key=value pair): a usage
// error, reported before anything connects or is created.
var ErrBadAddress = errors.New("bad database address")

// urlLike matches a string that starts as a URL does: scheme://.
var urlLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Check refuses, with an error wrapping ErrBadAddress that shows where
// with its password masked, a URL of another scheme than postgres:// or
// postgresql:// (a mistyped one would otherwise be a file name, printed as
// it is), and a PostgreSQL connection string that does not parse. Open and
// OpenExisting call it first.
func Check(where string) error {
	if IsPostgres(where) {
		if err := pgstore.CheckDSN(where); err != nil {
			return fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		return nil
	}
	if urlLike.MatchString(where) {
		return fmt.Errorf("%w: %s is not a file path, and not a PostgreSQL URL (postgres://USER@HOST/DBNAME)", ErrBadAddress, Redact(where))
	}
	return nil
}

// IsPostgres reports whether where is a PostgreSQL connection string (a
// postgres:// or postgresql:// URL, or a key=value string such as
// "host=db1 dbname=sweeps") rather than a file path.
func IsPostgres(where string) bool { return pgstore.IsDSN(where) }

// Redact returns where fit to print: a connection string, or anything
// else written as a URL, with its password masked; a path as it is.
func Redact(where string) string {
	if IsPostgres(where) {
		return pgstore.Redact(where)
	}
	if urlLike.MatchString(where) {
		return pgstore.RedactURL(where)
	}
	return where
}

// Open opens the database where names, creating it if need be (a new
// file; the schema in an existing PostgreSQL database).
func Open(ctx context.Context, where string, o Options) (results.Store, error) {
	if err := Check(where); err != nil {
		return nil, err
	}
	if IsPostgres(where) {
		s, err := pgstore.Open(ctx, where, pgstore.Options{Timeout: o.Timeout})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := boltstore.Open(where, boltstore.Options{Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenExisting opens the database where names, which must exist: an error
// wrapping results.ErrNotFound if the file does not, or the PostgreSQL
// database holds no sweep schema.
func OpenExisting(ctx context.Context, where string, o Options) (results.Store, error) {
	if err := Check(where); err != nil {
		return nil, err
	}
	if IsPostgres(where) {
		s, err := pgstore.OpenExisting(ctx, where, pgstore.Options{Timeout: o.Timeout})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := boltstore.OpenExisting(where, boltstore.Options{Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	return s, nil
}
