package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// copyDir copies the regular files of src into a new directory dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sweepIn runs the CLI as a separate process in directory dir.
func sweepIn(t *testing.T, dir string, args ...string) (code int, out string) {
	t.Helper()
	cmd := sweepCmd(nil, args...)
	cmd.Dir = dir
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), b.String()
}

// TestRelativeAndMovedData: a relative data path is the spec's directory's,
// whatever the working directory, and stored absolute, so a sweep resumes
// from anywhere. When the data set moves, resume --data points the sweep at
// it, if its files are the same; other files are refused.
func TestRelativeAndMovedData(t *testing.T) {
	base := t.TempDir()
	copyDir(t, "../../data/testdata/mnist-raw", filepath.Join(base, "data"))
	copyDir(t, "../../data/testdata/mnist-gz", filepath.Join(base, "other"))
	specDir := filepath.Join(base, "specs")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(specDir, "moved.toml")
	if err := os.WriteFile(spec, []byte("name = \"moved\"\nseed = 4\n[data]\nsource = \"mnist\"\npath = \"../data\"\ntrain = 8\nval = 4\ntest = 4\n[model]\nhidden = [6]\n[train]\niterations = 10\nbatch_size = 4\n[search.params]\nlearning_rate = [1e-3, 1e-2]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(base, "sweep.db")
	elsewhere := t.TempDir()

	// Run from a directory that is neither the spec's nor the data's.
	if code, out := sweepIn(t, elsewhere, "run", spec, "--db", db); code != exitOK {
		t.Fatalf("run from another directory: exit %d\n%s", code, out)
	}
	sw := openStoreSweep(t, db, "moved")
	if sw.Data == nil || sw.Data.Path != filepath.Join(base, "data") || sw.SpecPath != spec {
		t.Fatalf("stored spec path %q, data %+v: want both absolute", sw.SpecPath, sw.Data)
	}
	if code, out := sweepIn(t, t.TempDir(), "resume", "moved", "--db", db); code != exitOK {
		t.Fatalf("resume from yet another directory: exit %d\n%s", code, out)
	}

	// The data set moves: resume says how to point the sweep at it.
	if err := os.Rename(filepath.Join(base, "data"), filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "resume", "moved", "--db", db)
	if code != exitUsage || !strings.Contains(stderr, "sweep resume moved --data NEWPATH") {
		t.Fatalf("resume after the data moved: exit %d, want 2 and the --data hint\n%s%s", code, stdout, stderr)
	}
	// A net is exported without its data set: what it takes was recorded.
	if code, stdout, stderr := runCLI(t, "export-model", "moved", "-o", filepath.Join(t.TempDir(), "m.npz"), "--db", db); code != exitOK {
		t.Errorf("export-model with the data gone: exit %d\n%s%s", code, stdout, stderr)
	}
	// Other files are refused, and nothing changes.
	code, _, stderr = runCLI(t, "resume", "moved", "--data", filepath.Join(base, "other"), "--db", db)
	if code != exitUsage || !strings.Contains(stderr, "are not the data set sweep \"moved\" was trained on") {
		t.Fatalf("resume --data with other files: exit %d, want 2 and a refusal\n%s", code, stderr)
	}
	if got := openStoreSweep(t, db, "moved").Data; got.Path != filepath.Join(base, "data") {
		t.Errorf("a refused --data changed the stored path to %q", got.Path)
	}
	// The same files at their new place: accepted and recorded, and every
	// command that reads the data follows.
	if code, stdout, stderr := runCLI(t, "resume", "moved", "--data", filepath.Join(base, "moved"), "--db", db); code != exitOK {
		t.Fatalf("resume --data at the new place: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := openStoreSweep(t, db, "moved").Data; got.Path != filepath.Join(base, "moved") {
		t.Errorf("stored data path %q after resume --data, want the new place", got.Path)
	}
	for _, args := range [][]string{
		{"resume", "moved"}, {"best", "moved"}, {"export-model", "moved", "-o", filepath.Join(t.TempDir(), "m.npz")},
	} {
		if code, stdout, stderr := runCLI(t, append(args, "--db", db)...); code != exitOK {
			t.Errorf("%v after the move: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	// The spec, edited to the new place, runs as the same sweep.
	src, _ := os.ReadFile(spec)
	if err := os.WriteFile(spec, bytes.Replace(src, []byte(`"../data"`), []byte(`"../moved"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitOK {
		t.Errorf("run of the spec edited to the new place: exit %d\n%s%s", code, stdout, stderr)
	}
}

func openStoreSweep(t *testing.T, db, name string) *results.Sweep {
	t.Helper()
	sw, err := openStore(t, db).Sweep(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return sw
}
