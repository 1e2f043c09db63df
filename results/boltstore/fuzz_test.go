package boltstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeIndex feeds arbitrary bytes to the decoders of this store's
// own values (done index entries, the schema version, trial-number keys):
// an error wrapping ErrCorrupt or a value, never a panic.
func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, err := range []error{
			func() error { _, _, err := decodeDone(b); return err }(),
			func() error { _, err := decodeSchema(b); return err }(),
			func() error { _, err := btoi(b); return err }(),
		} {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v", err)
			}
		}
	})
}

// FuzzOpenFile gives the Store files of arbitrary bytes. Open and
// OpenExisting give an error or a usable store, never a panic or a crash (a
// page beyond the end of the file faults: SetPanicOnFault turns that into
// ErrCorrupt, see testdata/fuzz/FuzzOpenFile), and a refused file is
// untouched. Then every read method, the checks and a run's first write
// are called as TestCorruptFile calls them (exerciseDamaged): no panic,
// every error a sentinel or ErrCorrupt naming the file, and a file that
// fails its check is not written to.
//
// Page trees with cycles, on which bbolt loops or recurses without end,
// are refused by the walk of a Store's first transaction (walkPages). The
// body is slow (some twenty transactions an input), so fuzzing spends most
// of its time minimising; truncated files, flipped bytes, bad page types
// and files of other formats are covered by the seeds.
func FuzzOpenFile(f *testing.F) {
	path, kept, dropped := corruptFixture(f)
	valid, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:4096])
	f.Add(valid[:len(valid)/2])
	flipped := append([]byte(nil), valid...)
	for i := 0; i < len(flipped); i += 509 {
		flipped[i] ^= 0x5a
	}
	f.Add(flipped)
	for p := 4096; p < len(valid); p += 4096 * 7 {
		page := append([]byte(nil), valid...)
		page[p+8] ^= 0xff // a page's type
		f.Add(page)
	}
	f.Add([]byte("SQLite format 3\x00"))
	calls := storeCalls(kept, dropped)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenExisting(path, Options{}); err != nil {
			if _, err := Open(path, Options{}); err != nil {
				checkDamagedError(t, "Open", path, err, sentinelOf(err))
				if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
					t.Fatalf("a refused file was changed")
				}
			}
		}
		exerciseDamaged(t, path, calls, nil)
	})
}
