package search

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Trial is one configuration to train: the spec's fixed settings with the
// trial's searched values applied.
type Trial struct {
	Index  int          // position in the sweep's trial list
	Key    string       // stable identity: Config.Key()
	Seed   uint64       // training seed: SeedFor(spec seed, Key)
	Params []ParamValue // the searched values, in spec order
	Config              // the resolved settings
}

// describeMethod names the search for messages: "asha with tpe sampling".
func (s *Spec) describeMethod() string {
	m := s.Search.Method
	if s.Search.Sampler == "tpe" {
		m += " with tpe sampling"
	}
	if s.Search.Trials == 0 && s.Search.Budget > 0 {
		m += " bounded by a budget"
	}
	return m
}

// ParamValue is a searched parameter's value in one trial.
type ParamValue struct {
	Name  string
	Value any // float64, int, string, []int or []float64, by parameter
}

// String formats the value as name=value.
func (v ParamValue) String() string { return v.Name + "=" + FormatValue(v.Value) }

// Key returns the stable identity of a configuration: 16 hex digits of the
// SHA-256 of its canonical text (every setting, in canonical order, floats in
// their shortest exact form). Equal configurations have equal keys, in any
// spec and any run.
func (c Config) Key() string {
	sum := sha256.Sum256([]byte(c.canonicalText()))
	return hex.EncodeToString(sum[:8])
}

// SeedFor derives a trial's training seed from the sweep's seed and the
// trial's key, so a seed never depends on the order trials run in.
func SeedFor(sweepSeed uint64, key string) uint64 {
	return hash64("sweep-seed/v1", sweepSeed, key)
}

// hash64 hashes its arguments (uint64s, ints and strings) to 64 bits.
func hash64(parts ...any) uint64 {
	h := sha256.New()
	var buf [8]byte
	for _, p := range parts {
		switch p := p.(type) {
		case uint64:
			binary.BigEndian.PutUint64(buf[:], p)
			h.Write(buf[:])
		case int:
			binary.BigEndian.PutUint64(buf[:], uint64(p))
			h.Write(buf[:])
		case string:
			binary.BigEndian.PutUint64(buf[:], uint64(len(p)))
			h.Write(buf[:])
			h.Write([]byte(p))
		default:
			panic(fmt.Sprintf("search: hash64 of %T", p)) // programmer error
		}
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// Len returns the number of trials of the spec: the grid's size, or the
// number of random trials.
func (s *Spec) Len() int {
	if s.Search.Method != "grid" {
		return s.Search.Trials // 0 when only a budget bounds the sweep
	}
	n, _ := gridSize(s.Search.Params)
	return n
}

// Trials returns the spec's trials in order: a grid's, or random search's
// when it has trials = N and samples at random. An adaptive search
// (Search.Adaptive) has no trials up front: its scheduler decides them as
// the sweep runs, and Trials returns an error wrapping ErrInvalid.
//
// A grid is the cartesian product of the parameters' values, ordered like
// nested loops in spec order: the first parameter varies slowest, the last
// fastest, each through its values as listed (ranges from min to max).
//
// Random trial i draws each parameter from bits hashed from (seed, i, name).
// A draw that repeats an earlier trial's configuration is drawn again, so all
// trials are distinct. Trial i therefore depends only on the spec's seed and
// space and on i: the same spec always gives the same trials, and raising
// trials appends new ones without changing the first.
func (s *Spec) Trials() ([]Trial, error) {
	if s.Search.Adaptive() {
		return nil, fmt.Errorf("%w: the trials of %s are decided as the sweep runs, from its results", ErrInvalid, s.describeMethod())
	}
	switch s.Search.Method {
	case "grid":
		return s.gridTrials()
	case "random":
		return s.randomTrials()
	}
	return nil, fmt.Errorf("%w: search method %q", ErrInvalid, s.Search.Method)
}

func (s *Spec) gridTrials() ([]Trial, error) {
	n, formula := gridSize(s.Search.Params)
	if n > s.Search.MaxTrials {
		return nil, fmt.Errorf("%w: the grid has %s trials, more than max_trials = %d", ErrTooManyTrials, formula, s.Search.MaxTrials)
	}
	for _, p := range s.Search.Params {
		if p.Len() == 0 || (p.Dist != "" && p.Steps == 0) {
			return nil, fmt.Errorf("%w: search.params.%s: a range on a grid needs steps", ErrMissing, p.Name)
		}
	}
	trials := make([]Trial, n)
	for i := range trials {
		trials[i] = s.trial(i, s.gridPoint(i))
	}
	return trials, nil
}

// gridPoint returns the values of grid cell i: i in mixed radix, the last
// parameter the fastest digit.
func (s *Spec) gridPoint(i int) []any {
	prms := s.Search.Params
	values := make([]any, len(prms))
	for j := len(prms) - 1; j >= 0; j-- {
		n := prms[j].Len()
		values[j] = prms[j].at(i % n)
		i /= n
	}
	return values
}

// maxRedraws bounds the draws for one random trial before it falls back to
// the first unused point of a finite space.
const maxRedraws = 64

func (s *Spec) randomTrials() ([]Trial, error) {
	sr := &s.Search
	if sr.Trials > sr.MaxTrials {
		return nil, fmt.Errorf("%w: %d trials, more than max_trials = %d", ErrTooManyTrials, sr.Trials, sr.MaxTrials)
	}
	size, _ := spaceSize(sr.Params)
	if size > 0 && sr.Trials > size {
		return nil, fmt.Errorf("%w: %d distinct trials asked of a space of %d", ErrInvalid, sr.Trials, size)
	}
	trials := make([]Trial, 0, sr.Trials)
	seen := make(map[string]bool, sr.Trials)
	for i := range sr.Trials {
		t, ok := Trial{}, false
		for attempt := 0; attempt < maxRedraws && !ok; attempt++ {
			values := make([]any, len(sr.Params))
			for j, p := range sr.Params {
				values[j] = p.sample(hash64("sweep-draw/v1", s.Seed, i, attempt, p.Name))
			}
			t = s.trial(i, values)
			ok = !seen[t.Key]
		}
		// A nearly exhausted finite space: take the first unused point in
		// grid order from a hashed start.
		for k, start := 0, index(hash64("sweep-fallback/v1", s.Seed, i), max(size, 1)); !ok && k < size; k++ {
			t = s.trial(i, s.gridPoint((start+k)%size))
			ok = !seen[t.Key]
		}
		if !ok {
			return nil, fmt.Errorf("%w: random trial %d: no new configuration in %d draws", ErrTooManyTrials, i, maxRedraws)
		}
		seen[t.Key] = true
		trials = append(trials, t)
	}
	return trials, nil
}

// trial applies values (one per searched parameter) to the fixed settings.
func (s *Spec) trial(index int, values []any) Trial {
	cfg := s.Base.Clone()
	pv := make([]ParamValue, len(values))
	for j, v := range values {
		name := s.Search.Params[j].Name
		lookupParam(name).set(&cfg, cloneValue(v)) // the trial's own copies
		pv[j] = ParamValue{Name: name, Value: cloneValue(v)}
		switch name {
		case "iterations":
			cfg.Epochs = 0
		case "epochs":
			cfg.Iterations = 0
		}
	}
	key := cfg.Key()
	return Trial{Index: index, Key: key, Seed: SeedFor(s.Seed, key), Params: pv, Config: cfg}
}
