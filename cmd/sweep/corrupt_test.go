package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptDatabase runs every command on damaged copies of a real
// database (half-truncated; bytes flipped in the middle of its pages):
// each reports "corrupt results database FILE" with exit 1, never a panic,
// a Go stack or a raw page message, and `run` writes nothing into it.
func TestCorruptDatabase(t *testing.T) {
	spec := writeSpec(t, "name = \"c\"\n[data]\nsource = \"synthetic\"\ntrain = 200\nval = 50\ntest = 50\n[train]\niterations = 20\nbatch_size = 20\n[search.params]\nlearning_rate = [1e-3, 2e-3, 3e-3]\n")
	good := newDB(t)
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", good); code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(t, "check", "--db", good); code != exitOK || !strings.Contains(stdout, "ok: 1 sweep, 3 trials") {
		t.Fatalf("check of a sound database: exit %d: %s", code, stdout)
	}
	src, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"flipped": func(b []byte) []byte {
			b = bytes.Clone(b)
			for i := 4096 * 2; i < len(b); i += 4096 {
				for j := 16; j < 64; j++ {
					b[i+j] ^= 0xa5
				}
			}
			return b
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "bad.db")
			bad := f(src)
			if err := os.WriteFile(db, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			for _, args := range [][]string{
				{"check"}, {"ls"}, {"leaderboard", "c"}, {"show", "c", "1"}, {"best", "c"},
				{"export", "c"}, {"export-model", "c", "-o", out}, {"run", spec}, {"resume", "c"},
			} {
				code, stdout, stderr := runCLI(t, append(args, "--db", db)...)
				if code != exitRuntime || !strings.Contains(stderr, "corrupt results database "+db) {
					t.Errorf("%v: exit %d, want 1 and \"corrupt results database %s\"\nstdout %s\nstderr %s", args, code, db, stdout, stderr)
				}
				for _, bad := range []string{"panic", "runtime error", "goroutine ", "invalid page type", "nil pointer"} {
					if strings.Contains(stderr, bad) {
						t.Errorf("%v: stderr says %q:\n%s", args, bad, stderr)
					}
				}
			}
			if after, err := os.ReadFile(db); err != nil || !bytes.Equal(after, bad) {
				t.Errorf("the commands changed the corrupt file (%v)", err)
			}
		})
	}
}
