package boltstore

import (
	"context"
	"errors"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// ClaimGroup: see results.Store.
func (s *Store) ClaimGroup(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool) (*results.GroupClaim, error) {
	return nil, errors.New("boltstore: ClaimGroup not implemented yet")
}

// SaveCheckpoints: see results.Store.
func (s *Store) SaveCheckpoints(ctx context.Context, sweep string, owner Owner, now time.Time, cks []results.TrialCheckpoint) error {
	return errors.New("boltstore: SaveCheckpoints not implemented yet")
}
