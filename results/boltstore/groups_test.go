package boltstore

import (
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	bolt "go.etcd.io/bbolt"
)

// schemaOf reads the schema version of the file at path.
func schemaOf(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint64
	if err := db.View(func(tx *bolt.Tx) error {
		v, err = decodeSchema(tx.Bucket(bucketMeta).Get(keySchema))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGroupsRaiseSchema: a file of schema version 2 stays at 2 through
// writes of trials without a group, and is raised to 3 by the first
// EnsureSweep, or Load, of trials with one, so that a sweep of version 2,
// which would drop a trial's group when it rewrites its record, refuses
// the file.
func TestGroupsRaiseSchema(t *testing.T) {
	ctx := t.Context()
	for _, how := range []string{"EnsureSweep", "Load"} {
		t.Run(how, func(t *testing.T) {
			s := newTestStore(t)
			if v := schemaOf(t, s.Path()); v != schemaVersion {
				t.Fatalf("a new file is at version %d, want %d", v, schemaVersion)
			}
			mutate(t, s.Path(), func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(2)) })
			mustSweep(t, s, "g", 2, 3)
			o := owner("a")
			gc, err := s.ClaimGroup(ctx, "g", o, t0, nil)
			if err != nil || gc.Group != 0 || len(gc.Trials) != 1 {
				t.Fatalf("ClaimGroup of a sweep without groups = %+v, %v", gc, err)
			}
			if err := s.SaveCheckpoints(ctx, "g", o, t0, []results.TrialCheckpoint{{Trial: 1, Attempt: 1}}); err != nil {
				t.Fatal(err)
			}
			if v := schemaOf(t, s.Path()); v != 2 {
				t.Fatalf("schema version %d after writes without groups, want 2", v)
			}
			ts := grid(4)
			ts[2].Group, ts[3].Group = 1, 1
			switch how {
			case "EnsureSweep":
				if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, ts); err != nil {
					t.Fatal(err)
				}
			case "Load":
				d, err := s.Dump(ctx, "g")
				if err != nil {
					t.Fatal(err)
				}
				d.Trials[1].Trial.Group = 4
				d.Sweep.Name = "copy"
				if err := s.Load(ctx, d, false); err != nil {
					t.Fatal(err)
				}
			}
			if v := schemaOf(t, s.Path()); v != schemaGroups {
				t.Errorf("schema version %d after a write of grouped trials, want %d", v, schemaGroups)
			}
			if err := s.Check(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}
