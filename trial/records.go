package trial

import (
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Records returns the store records of a spec's trials, in the spec's
// order: key, searched values, resolved config (as JSON, decoded again by
// Train) and seed. The store numbers them as it adds them.
func Records(spec *search.Spec) ([]results.Trial, error) {
	trials, err := spec.Trials()
	if err != nil {
		return nil, err
	}
	recs := make([]results.Trial, len(trials))
	for i, t := range trials {
		if recs[i], err = record(t); err != nil {
			return nil, err
		}
	}
	return recs, nil
}
