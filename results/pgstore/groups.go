package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// ClaimGroup: see results.Store.
func (s *Store) ClaimGroup(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.GroupClaim, error) {
	return nil, errors.New("pgstore: ClaimGroup not implemented yet")
}

// SaveCheckpoints: see results.Store.
func (s *Store) SaveCheckpoints(ctx context.Context, sweep string, owner results.Owner, now time.Time, cks []results.TrialCheckpoint) error {
	return errors.New("pgstore: SaveCheckpoints not implemented yet")
}
