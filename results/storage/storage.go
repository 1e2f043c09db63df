// Package storage opens the results database a user names: a PostgreSQL
// connection string (package results/pgstore) or the path of a bbolt file
// (package results/boltstore), each behind the results.Store interface.
package storage

import (
	"context"
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

// IsPostgres reports whether where is a PostgreSQL connection string (a
// postgres:// or postgresql:// URL, or a key=value string such as
// "host=db1 dbname=sweeps") rather than a file path.
func IsPostgres(where string) bool { return pgstore.IsDSN(where) }

// Redact returns where fit to print: a connection string with its
// password masked, a path as it is.
func Redact(where string) string {
	if IsPostgres(where) {
		return pgstore.Redact(where)
	}
	return where
}

// Open opens the database where names, creating it if need be (a new
// file; the schema in an existing PostgreSQL database).
func Open(ctx context.Context, where string, o Options) (results.Store, error) {
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
