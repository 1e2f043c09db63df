package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// Options configure a Store.
type Options struct {
	// Timeout bounds how long one call retries, with backoff, a database
	// that cannot be reached or whose connection was lost, before it
	// returns an error wrapping results.ErrUnavailable. 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 30 * time.Second

// Store is a results database in PostgreSQL.
type Store struct {
	results.Store // placeholder until the store is written
	dsn           string // redacted
}

// Open connects to the database dsn names, creating or migrating the
// schema (under an advisory lock) if need be.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	return nil, errors.New("pgstore: not implemented yet")
}

// OpenExisting connects to the database dsn names, which must hold the
// schema: ErrNotFound otherwise.
func OpenExisting(ctx context.Context, dsn string, o Options) (*Store, error) {
	return nil, errors.New("pgstore: not implemented yet")
}

var _ = results.ErrNotFound
