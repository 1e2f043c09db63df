package pgstore

import (
	"testing"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storetest"
)

// TestConformance runs the conformance suite of results.Store, each of its
// stores on a new database of the shared server.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{New: func(t *testing.T) (results.Store, func(t *testing.T) results.Store) {
		dsn := newDB(t)
		open := func(t *testing.T) results.Store {
			s, err := Open(t.Context(), dsn, Options{Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(t), open
	}})
}
