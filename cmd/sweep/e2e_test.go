package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
)

// e2eSources are the [data] tables of TestSpecsAsUsersWriteThem: every
// source, in every format sweep reads, with splits that fit the fixtures.
// %s is the data/testdata directory.
var e2eSources = []struct{ name, table string }{
	{"embedded", "source = \"embedded\"\ntrain = 300\nval = 100\ntest = 100"},
	{"fashion-mnist", "source = \"fashion-mnist\"\ntrain = 300\nval = 100\ntest = 100"},
	{"mnist-idx", "source = \"mnist\"\npath = \"%s/mnist-raw\"\ntrain = 8\nval = 4\ntest = 4"},
	{"mnist-idx-gz", "source = \"mnist\"\npath = \"%s/mnist-gz\"\ntrain = 8\nval = 4\ntest = 4"},
	{"cifar10-bin-dir", "source = \"cifar10\"\npath = \"%s/cifar10/cifar-10-batches-bin\"\ntrain = 12\nval = 6\ntest = 6"},
	{"cifar10-py-dir", "source = \"cifar10\"\npath = \"%s/cifar10/cifar-10-batches-py\"\ntrain = 12\nval = 6\ntest = 6"},
	{"cifar10-python-tarball", "source = \"cifar10\"\npath = \"%s/cifar10/cifar-10-python.tar.gz\"\ntrain = 12\nval = 6\ntest = 6"},
	{"cifar10-binary-tarball", "source = \"cifar10\"\npath = \"%s/cifar10/cifar-10-binary.tar.gz\"\ntrain = 12\nval = 6\ntest = 6"},
	{"synthetic", "source = \"synthetic\"\nseed = 5\ndim = 30\ntrain = 200\nval = 50\ntest = 50"},
}

// e2eSearch are the [search] parts: a grid and a random search.
var e2eSearch = map[string]string{
	"grid":   "[search]\nmethod = \"grid\"\n[search.params]\nlearning_rate = [1e-3, 3e-3]\n",
	"random": "[search]\nmethod = \"random\"\ntrials = 2\n[search.params]\nlearning_rate = { log_uniform = [1e-4, 1e-2] }\nreg = { log_uniform = [1e-4, 1e-1] }\n",
}

// TestSpecsAsUsersWriteThem runs tiny real sweeps the way users write them:
// every data source x a zero and a non-zero seed x grid and random, each
// through the whole CLI (run, export, export-model). Each must exit 0 with
// every trial done; a different seed must give different trials (random)
// and different weights, but the same data (the exported mean image).
func TestSpecsAsUsersWriteThem(t *testing.T) {
	fixtures, err := filepath.Abs("../../data/testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range e2eSources {
		for _, method := range []string{"grid", "random"} {
			t.Run(src.name+"/"+method, func(t *testing.T) {
				type outcome struct {
					params []string
					arrays map[string][]byte
				}
				var got []outcome
				for _, seed := range []int{0, 7} {
					spec := writeSpec(t, fmt.Sprintf("name = \"e2e\"\nseed = %d\n\n[data]\n%s\n\n[model]\nhidden = [8]\nweight_scale = 1e-3\n\n[train]\niterations = 12\nbatch_size = 4\n\n%s",
						seed, strings.ReplaceAll(src.table, "%s", fixtures), e2eSearch[method]))
					db := newDB(t)
					if code, stdout, stderr := runCLI(t, "validate", spec); code != exitOK {
						t.Fatalf("seed %d: validate: exit %d\n%s%s", seed, code, stdout, stderr)
					}
					if code, stdout, stderr := runCLI(t, "run", spec, "--db", db, "--workers", "2"); code != exitOK {
						t.Fatalf("seed %d: run: exit %d\n%s%s", seed, code, stdout, stderr)
					}
					code, stdout, stderr := runCLI(t, "export", "e2e", "--format", "json", "--db", db)
					if code != exitOK {
						t.Fatalf("seed %d: export: exit %d\n%s", seed, code, stderr)
					}
					var rows []struct {
						Status string         `json:"status"`
						Params map[string]any `json:"params"`
					}
					if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
						t.Fatalf("seed %d: export json: %v", seed, err)
					}
					var o outcome
					for _, r := range rows {
						if r.Status != "done" {
							t.Errorf("seed %d: a trial is %s", seed, r.Status)
						}
						o.params = append(o.params, fmt.Sprint(r.Params))
					}
					if len(rows) != 2 {
						t.Errorf("seed %d: %d trials, want 2", seed, len(rows))
					}
					npz := filepath.Join(t.TempDir(), "best.npz")
					if code, _, stderr := runCLI(t, "export-model", "e2e", "-o", npz, "--db", db); code != exitOK {
						t.Fatalf("seed %d: export-model: exit %d\n%s", seed, code, stderr)
					}
					o.arrays = npzArrays(t, npz)
					got = append(got, o)
				}
				if method == "random" && fmt.Sprint(got[0].params) == fmt.Sprint(got[1].params) {
					t.Errorf("seeds 0 and 7 drew the same trials: %v", got[0].params)
				}
				if bytes.Equal(got[0].arrays["W1"], got[1].arrays["W1"]) {
					t.Error("seeds 0 and 7 trained the same weights")
				}
				for _, name := range []string{"mean_image", "input_shape", "class_names"} {
					if a := got[0].arrays[name]; len(a) == 0 || !bytes.Equal(a, got[1].arrays[name]) {
						t.Errorf("%s differs between seeds 0 and 7 (or is missing): the seed changed the data", name)
					}
				}
			})
		}
	}
}

// npzArrays reads an .npz written by export-model: each array's .npy bytes
// after the header.
func npzArrays(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	m := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil || len(b) < 10 {
			t.Fatalf("%s: %v", f.Name, err)
		}
		hlen := 10 + int(b[8]) + int(b[9])<<8
		m[strings.TrimSuffix(f.Name, ".npy")] = b[hlen:]
	}
	return m
}

// TestShippedSpecs validates every spec of sweeps/ and examples/ through the CLI (as
// shipped and with a non-zero seed, a user's first edit) and runs each to
// finished trials, capped for the test: the same file, with its iterations
// or epochs cut and its grid or trials cut to the first two. CIFAR-10
// cannot be downloaded here: its spec is validated with the fixture tarball
// at the relative path it names (validate must find it, and find it too
// small for the spec's split), then run on the fixture.
func TestShippedSpecs(t *testing.T) {
	files, err := filepath.Glob("../../sweeps/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no specs in sweeps/ (%v)", err)
	}
	examples, err := filepath.Glob("../../examples/*/*.toml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no specs in examples/ (%v)", err)
	}
	files = append(files, examples...)
	fixtures, err := filepath.Abs("../../data/testdata/cifar10/cifar-10-python.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, seed := range []string{"", "seed = 7\n"} {
				text := string(src)
				if seed != "" {
					text = seed + strings.Replace(text, "\nseed = ", "\n# seed = ", 1)
				}
				path := filepath.Join(filepath.Dir(file), "test-"+filepath.Base(file))
				spec, err := search.Parse(path, []byte(text))
				if err != nil {
					t.Fatalf("%s: %v", seed, err)
				}
				if spec.Data.Source == data.SourceCIFAR10 {
					// Not on this machine: the fixture, at the path the
					// spec names relative to its directory. validate reads
					// it and finds it too small for the spec's split.
					dir := t.TempDir()
					specDir, err := filepath.Abs(filepath.Dir(path))
					if err != nil {
						t.Fatal(err)
					}
					rel, err := filepath.Rel(specDir, spec.Data.Path)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
						t.Fatal(err)
					}
					b, err := os.ReadFile(fixtures)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
						t.Fatal(err)
					}
					copied := filepath.Join(dir, filepath.Base(file))
					if err := os.WriteFile(copied, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
					code, stdout, stderr := runCLI(t, "validate", copied)
					if code != exitUsage || !strings.Contains(stderr, "train 49000 + val 1000 images requested") || !strings.Contains(stderr, filepath.Join(dir, rel)) {
						t.Fatalf("validate %s with the fixture at %s: exit %d, want 2 and the split too big for it\n%s%s", seed, rel, code, stdout, stderr)
					}
					spec.Data.Path, spec.Data.Train, spec.Data.Val, spec.Data.Test = fixtures, 12, 6, 6
				} else {
					// Their paths are absolute or the source's default: the
					// copy validates as the file would.
					if code, stdout, stderr := runCLI(t, "validate", writeSpec(t, text)); code != exitOK {
						t.Fatalf("validate %s: exit %d\n%s%s", seed, code, stdout, stderr)
					}
				}
				capForTest(spec)
				st, err := boltstore.Open(newDB(t), boltstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				var out, errb bytes.Buffer
				// Random searches may meet a diverging configuration: exit 3.
				if code := execute(t.Context(), st, "", spec, nil, []byte(text), path, 2, &out, &errb); code != exitOK && code != exitTrialFailed {
					t.Fatalf("%srun: exit %d\n%s%s", seed, code, out.String(), errb.String())
				}
				if !strings.Contains(out.String(), "best: trial") {
					t.Errorf("%srun selected no best trial:\n%s", seed, out.String())
				}
			}
		})
	}
}

// capForTest cuts a spec's work for TestShippedSpecs: at most 20
// iterations or 1 epoch per trial (adaptive rungs from 1), at most 2
// trials, a budget of 1 s, at most 5000 training images and 1000
// validation and test images.
func capForTest(spec *search.Spec) {
	spec.Data.Train, spec.Data.Val, spec.Data.Test = min(spec.Data.Train, 5000), min(spec.Data.Val, 1000), min(spec.Data.Test, 1000)
	spec.Search.Min = min(spec.Search.Min, 1)
	if spec.Base.Iterations > 20 {
		spec.Base.Iterations = 20
	}
	if spec.Base.Epochs > 1 {
		spec.Base.Epochs = 1
	}
	if spec.Search.Trials > 2 {
		spec.Search.Trials = 2
	}
	if spec.Search.Budget > time.Second {
		spec.Search.Budget = time.Second
	}
	for i := range spec.Search.Params {
		p := &spec.Search.Params[i]
		if len(p.Values) > 2 {
			p.Values = p.Values[:2]
		}
		if p.Steps > 2 {
			p.Steps = 2
		}
	}
}
