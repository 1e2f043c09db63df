package trial

import (
	"encoding/json"
	"fmt"

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
		cfg, err := json.Marshal(t.Config)
		if err != nil {
			return nil, fmt.Errorf("encode trial %d: %w", i+1, err)
		}
		ps := make(results.Params, len(t.Params))
		for k, p := range t.Params {
			ps[k] = results.Param{Name: p.Name, Value: p.Value}
		}
		recs[i] = results.Trial{Key: t.Key, Params: ps, Config: cfg, Seed: t.Seed}
	}
	return recs, nil
}
