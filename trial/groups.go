package trial

import (
	"encoding/json"
	"fmt"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Groups labels the trials of a fused sweep that are not in the store yet
// (existing reports those that are) with the groups they will train in
// (results.Trial.Group, a label that the store turns into a new group
// number): the new trials that share a minibatch stream (StreamKey), in
// the order given (those whose first hidden layer is at most MaxFusedWidth
// wide), cut into the fewest consecutive groups of at most
// spec.Search.GroupSize trials (DefaultGroupSize), as even as they can be.
// A trial alone in its group trains on its own (Group 0), as an unfused
// sweep's do. Groups depend on the spec's trials and group_size alone:
// never on workers, so that a sweep's results do not either. It does
// nothing for a sweep that does not fuse (search.Search.Fused).
func Groups(spec *search.Spec, recs []results.Trial, existing func(key string) bool) error {
	if !spec.Search.Fused() {
		return nil
	}
	size := spec.Search.GroupSize
	if size <= 0 {
		size = search.DefaultGroupSize
	}
	// The new trials of each stream, in order of first appearance.
	var streams []string
	members := map[string][]int{}
	for i := range recs {
		recs[i].Group = 0
		if existing != nil && existing(recs[i].Key) {
			continue
		}
		var cfg search.Config
		if err := json.Unmarshal(recs[i].Config, &cfg); err != nil {
			return fmt.Errorf("trial %q: decode config: %w", recs[i].Key, err)
		}
		if len(cfg.Hidden) > 0 && cfg.Hidden[0] > MaxFusedWidth {
			continue // fusing gains nothing: on its own
		}
		k := StreamKey(cfg)
		if _, ok := members[k]; !ok {
			streams = append(streams, k)
		}
		members[k] = append(members[k], i)
	}
	label := 0
	for _, k := range streams {
		idx := members[k]
		n := len(idx)
		groups := (n + size - 1) / size
		// n = q·groups + r: the first r groups take q+1 trials.
		q, r := n/groups, n%groups
		at := 0
		for g := range groups {
			m := q
			if g < r {
				m++
			}
			if m > 1 { // a group of one trains on its own
				label++
				for _, i := range idx[at : at+m] {
					recs[i].Group = label
				}
			}
			at += m
		}
	}
	return nil
}

// MaxFusedWidth is the widest first hidden layer a fused trial has: a trial
// with a wider one trains on its own. Fusing pays where the first layer's
// products are narrow (BenchmarkTrainGroupStep at D=784, groups of 8, per
// trial-step against unfused: 0.65 at width 50, 0.81 at 100, 0.90 at 200,
// 0.98 at 512), and a group holds all its members' nets at once.
const MaxFusedWidth = 256

// StreamKey identifies a trial's minibatch stream: trials with the same
// key can share their minibatches (same dtype, batch size, input
// preprocessing and length; the data is the sweep's).
func StreamKey(c search.Config) string {
	pre, dt := c.Preprocess, c.DType
	if pre == "" {
		pre = "mean_image"
	}
	if dt == "" {
		dt = "float32"
	}
	return fmt.Sprintf("%s/batch=%d/iterations=%d/epochs=%d/%s", dt, c.BatchSize, c.Iterations, c.Epochs, pre)
}
