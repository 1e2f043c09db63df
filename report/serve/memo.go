package serve

import (
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// memo keeps the results of loads by key for a while, and makes
// concurrent loads of one key one load. A failed load is not kept.
type memo[T any] struct {
	now func() time.Time
	ttl func(key string) time.Duration
	max int // entries kept at most

	mu sync.Mutex
	m  map[string]memoEntry[T]
	sf singleflight.Group
}

type memoEntry[T any] struct {
	v  T
	at time.Time // when its load started
}

func newMemo[T any](now func() time.Time, ttl func(string) time.Duration, max int) *memo[T] {
	return &memo[T]{now: now, ttl: ttl, max: max, m: map[string]memoEntry[T]{}}
}

// fresh returns the value kept for key while it is fresh.
func (m *memo[T]) fresh(key string) (T, bool) {
	m.mu.Lock()
	e, ok := m.m[key]
	m.mu.Unlock()
	if ok && m.now().Sub(e.at) < m.ttl(key) {
		return e.v, true
	}
	var zero T
	return zero, false
}

// get returns the value kept for key if it is fresh, else the value of
// load, shared with the concurrent callers for the same key.
func (m *memo[T]) get(key string, load func() (T, error)) (T, error) {
	if v, ok := m.fresh(key); ok {
		return v, nil
	}
	v, err, _ := m.sf.Do(key, func() (any, error) {
		if v, ok := m.fresh(key); ok {
			return v, nil // loaded meanwhile
		}
		start := m.now()
		v, err := load()
		if err != nil {
			return nil, err
		}
		m.put(key, memoEntry[T]{v, start})
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// put keeps e under key, first dropping the stale entries when the memo is
// full, then the oldest ones.
func (m *memo[T]) put(key string, e memoEntry[T]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[key]; !ok && len(m.m) >= m.max {
		now := m.now()
		for k, old := range m.m {
			if now.Sub(old.at) >= m.ttl(k) {
				delete(m.m, k)
			}
		}
		for len(m.m) >= m.max {
			var (
				oldest string
				at     time.Time
				first  = true
			)
			for k, old := range m.m {
				if first || old.at.Before(at) {
					oldest, at, first = k, old.at, false
				}
			}
			delete(m.m, oldest)
		}
	}
	m.m[key] = e
}
