package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/nn"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
)

// numpyPython returns a Python that imports numpy: python3 on PATH, else
// Debian's /usr/bin/python3 (python3-numpy; CI installs it).
func numpyPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 with numpy: apt-get install python3-numpy")
	return ""
}

// readNPZ is what a notebook does with an exported model: np.load it (no
// pickles) and use the arrays. It prints each array's name, dtype, shape
// and the SHA-256 of its little-endian C-order bytes, then the scores of a
// two-layer forward pass on a ones vector, as the coursework computes them.
const readNPZ = `
import hashlib, sys
import numpy as np
with np.load(sys.argv[1]) as f:
    params = dict(f)
    for name in f.files:
        a = params[name]
        print(name, a.dtype, a.shape, hashlib.sha256(a.astype(a.dtype.newbyteorder('<')).tobytes(order='C')).hexdigest())
x = np.ones((1, params['W1'].shape[0]), dtype=np.float32)
h = np.maximum(0, x.dot(params['W1']) + params['b1'])
print('argmax', int(np.argmax(h.dot(params['W2']) + params['b2'])))
`

func TestExportModelReadByNumpy(t *testing.T) {
	py := numpyPython(t)
	db := fixtureDB(t)
	out := filepath.Join(t.TempDir(), "best.npz")
	code, stdout, stderr := runCLI(t, "export-model", "golden", "2", "-o", out, "--db", db)
	if code != exitOK || stdout != "" {
		t.Fatalf("export-model: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := exec.Command(py, "-c", readNPZ, out).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, got)
	}
	st, err := boltstore.OpenExisting(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Model(context.Background(), "golden", 2)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, tn := range m.Tensors {
		shape := fmt.Sprint(tn.Shape[0])
		if len(tn.Shape) == 1 {
			shape += ","
		} else {
			shape += fmt.Sprintf(", %d", tn.Shape[1])
		}
		sum := sha256.Sum256(tn.Data)
		fmt.Fprintf(&want, "%s %s (%s) %s\n", tn.Name, tn.DType, shape, hex.EncodeToString(sum[:]))
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) < 5 || strings.Join(lines[:4], "") != want.String() {
		t.Errorf("numpy read\n%s\nwant first\n%s", got, want.String())
	}
	var names []string
	for _, l := range lines[4 : len(lines)-1] {
		names = append(names, strings.Fields(l)[0])
	}
	if w := "mean_image std_image input_shape class_names hidden activation dtype normalization norm_eps preprocess trial val_acc test_acc"; strings.Join(names, " ") != w {
		t.Errorf("arrays after the weights: %v, want %s", names, w)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "argmax ") {
		t.Errorf("no forward pass in numpy's output:\n%s", got)
	}
}

// TestModelArraysInput checks the arrays that say how to make a net's
// input and what its hidden layers do, for each preprocessing and
// normalisation: (raw - mean_image) / std_image is what the trial trained on.
func TestModelArraysInput(t *testing.T) {
	in := &results.Input{Shape: []int{4}, Classes: []string{"a", "b"}, Mean: []float32{10, 20, 30, 40}, Std: []float32{2, 0, 4, 0.5}}
	model := &results.Model{Tensors: []results.Tensor{{Name: "W1", Shape: []int{4, 2}, DType: "float32", Data: make([]byte, 4*8)}}}
	mean, zeros, ones := in.Mean, []float32{0, 0, 0, 0}, []float32{1, 1, 1, 1}
	tests := []struct {
		name             string
		cfg              search.Config
		in               *results.Input
		preprocess, norm string
		mean, std        []float32
		err              string
	}{
		{"defaults", search.Config{Activation: "relu"}, in, "mean_image", "none", mean, ones, ""},
		{"mean image, batchnorm", search.Config{Preprocess: "mean_image", Normalization: "batchnorm", Activation: "tanh"}, in, "mean_image", "batchnorm", mean, ones, ""},
		{"standardize, batchnorm", search.Config{Preprocess: "standardize", Normalization: "batchnorm", Activation: "tanh"}, in, "standardize", "batchnorm", mean, []float32{2, 1, 4, 0.5}, ""},
		{"none, layernorm", search.Config{Preprocess: "none", Normalization: "layernorm", Activation: "swish"}, in, "none", "layernorm", zeros, ones, ""},
		{"explicit none", search.Config{Normalization: "none", Activation: "relu"}, in, "mean_image", "none", mean, ones, ""},
		{"old sweep, mean image", search.Config{Activation: "relu"}, &results.Input{Shape: in.Shape, Classes: in.Classes, Mean: in.Mean}, "mean_image", "none", mean, ones, ""},
		{"old sweep, standardize", search.Config{Preprocess: "standardize"}, &results.Input{Shape: in.Shape, Classes: in.Classes, Mean: in.Mean}, "", "", nil, nil, "0 standard deviations for 4 features"},
		{"unknown preprocess", search.Config{Preprocess: "whiten"}, in, "", "", nil, nil, `preprocess "whiten"`},
		{"unknown normalization", search.Config{Normalization: "groupnorm"}, in, "", "", nil, nil, `normalization "groupnorm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := json.Marshal(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			arrays, err := modelArrays(&results.Trial{Number: 3, Config: cfg, Metrics: results.Metrics{ValAcc: 0.5}}, model, tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "trial 3") {
					t.Fatalf("err = %v, want one naming trial 3 and %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]npyArray{}
			for _, a := range arrays {
				got[a.name] = a
			}
			for _, c := range []struct {
				name string
				want []float32
			}{{"mean_image", tt.mean}, {"std_image", tt.std}} {
				if a := got[c.name]; a.descr != "<f4" || !slices.Equal(a.shape, []int{4}) || !slices.Equal(npyFloat32s(a), c.want) {
					t.Errorf("%s: %s %v %v, want <f4 (4,) %v", c.name, a.descr, a.shape, npyFloat32s(a), c.want)
				}
			}
			for name, want := range map[string]string{"preprocess": tt.preprocess, "normalization": tt.norm, "activation": tt.cfg.Activation} {
				if a := got[name]; len(a.shape) != 0 || npyString(a) != want {
					t.Errorf("%s: shape %v, %q; want a 0-d %q", name, a.shape, npyString(a), want)
				}
			}
			if a := got["norm_eps"]; a.descr != "<f8" || len(a.shape) != 0 || math.Float64frombits(binary.LittleEndian.Uint64(a.data)) != nn.NormEpsilon {
				t.Errorf("norm_eps: %s %v %x, want a 0-d float64 %g", a.descr, a.shape, a.data, nn.NormEpsilon)
			}
		})
	}
}

// npyFloat32s decodes a "<f4" array's values.
func npyFloat32s(a npyArray) []float32 {
	v := make([]float32, len(a.data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	return v
}

// npyString decodes a 0-d "<U" array's string.
func npyString(a npyArray) string {
	var rs []rune
	for i := 0; i+4 <= len(a.data); i += 4 {
		if r := rune(binary.LittleEndian.Uint32(a.data[i:])); r != 0 {
			rs = append(rs, r)
		}
	}
	return string(rs)
}

// TestRunRecordsInputStd runs a sweep, rewrites its record as a sweep
// recorded before Std was (its Input without it), and resumes it: the
// resumed run records the data's Std again, with the same Shape, Classes
// and Mean, and export-model then writes it for a standardising trial.
func TestRunRecordsInputStd(t *testing.T) {
	spec := writeSpec(t, `
name = "std"
seed = 3

[data]
source = "synthetic"
seed = 4
train = 200
val = 50
test = 50
dim = 12
classes = 3

[model]
hidden = [8]
preprocess = "standardize"

[train]
iterations = 5
batch_size = 50
`)
	db := newDB(t)
	if code, _, stderr := runCLI(t, "run", spec, "--db", db, "--workers", "1"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	ds, err := data.Load(t.Context(), data.Options{Source: data.SourceSynthetic, Seed: 4, Train: 200, Val: 50, Test: 50, Dim: 12, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.OpenExisting(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := st.Sweep(t.Context(), "std")
	if err != nil {
		t.Fatal(err)
	}
	want := results.Input{Shape: ds.Shape, Classes: ds.Classes, Mean: ds.Mean, Std: ds.Std}
	if sw.Input == nil || !reflect.DeepEqual(*sw.Input, want) || len(want.Std) != 12 {
		t.Fatalf("recorded Input %+v, want %+v", sw.Input, want)
	}

	// As recorded before Std existed: EnsureSweep replaces the Input.
	old := *sw
	old.Input = &results.Input{Shape: ds.Shape, Classes: ds.Classes, Mean: ds.Mean}
	if _, err := st.EnsureSweep(t.Context(), old, nil); err != nil {
		t.Fatal(err)
	}
	if sw, err := st.Sweep(t.Context(), "std"); err != nil || sw.Input.Std != nil {
		t.Fatalf("old-style record: Input %+v, %v", sw.Input, err)
	}
	out := filepath.Join(t.TempDir(), "m.npz")
	if code, _, stderr := runCLI(t, "export-model", "std", "1", "-o", out, "--db", db); code != exitRuntime || !strings.Contains(stderr, "standard deviations") {
		t.Errorf("export-model of a standardising trial without a recorded Std: exit %d, %q; want 1 and a message", code, stderr)
	}

	if code, _, stderr := runCLI(t, "resume", "std", "--db", db); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if sw, err := st.Sweep(t.Context(), "std"); err != nil || sw.Input == nil || !reflect.DeepEqual(*sw.Input, want) {
		t.Fatalf("after resume: Input %+v (%v), want %+v", sw.Input, err, want)
	}
	if code, _, stderr := runCLI(t, "export-model", "std", "1", "-o", out, "--db", db); code != exitOK {
		t.Errorf("export-model: exit %d\n%s", code, stderr)
	}
}

func TestExportModelGolden(t *testing.T) {
	db := fixtureDB(t)
	out := "$DIR/model.npz"
	runGolden(t, db, []cliCase{
		// golden-done has no best trial selected yet: the leader is written, and said so.
		{"export-model-leader", []string{"export-model", "golden-done", "-o", out, "--db", "$DB"}},
		{"export-model-not-kept", []string{"export-model", "golden", "3", "-o", out, "--db", "$DB"}},
		{"export-model-unknown-trial", []string{"export-model", "golden", "9", "-o", out, "--db", "$DB"}},
		{"export-model-no-output", []string{"export-model", "golden", "2", "--db", "$DB"}},
		{"export-model-unknown-sweep", []string{"export-model", "nope", "-o", out, "--db", "$DB"}},
	})
	ents, _ := os.ReadDir(filepath.Dir(db))
	if len(ents) != 2 || ents[0].Name() != "model.npz" || ents[1].Name() != "sweep.db" {
		t.Errorf("files in the output folder: %v, want model.npz and sweep.db only (no temporary files)", ents)
	}
}

func TestNoFinishedTrialExits1(t *testing.T) {
	// best and export-model agree: a sweep none of whose trials finished
	// training is a state of the sweep (exit 1), not bad usage.
	db := newDB(t)
	st, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	sw := results.Sweep{Name: "nothing", Spec: []byte("name = \"nothing\"\n"), SpecPath: "nothing.toml", Metric: "val_acc"}
	if _, err := st.EnsureSweep(t.Context(), sw, []results.Trial{{Key: "k1"}}); err != nil {
		t.Fatal(err)
	}
	owner := results.Owner{Host: "h", PID: 1, ID: "o"}
	tr, _, err := st.Claim(t.Context(), "nothing", owner, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(t.Context(), "nothing", tr.Number, owner, time.Now(), results.Outcome{Status: results.Failed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"best", "nothing", "--db", db},
		{"export-model", "nothing", "-o", filepath.Join(t.TempDir(), "m.npz"), "--db", db},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitRuntime || !strings.Contains(stderr, "finished training") {
			t.Errorf("%s: exit %d, %q; want 1 and a message that no trial finished training", args[0], code, stderr)
		}
	}
}
