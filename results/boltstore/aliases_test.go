package boltstore

import "github.com/sweep-dev/sweep/results"

var (
	Rank     = results.Rank
	Less     = results.Less
	Statuses = results.Statuses
)
