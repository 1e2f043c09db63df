package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
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
	st, err := results.OpenExisting(db, results.Options{})
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
	if w := "mean_image input_shape class_names hidden activation dtype preprocess trial val_acc test_acc"; strings.Join(names, " ") != w {
		t.Errorf("arrays after the weights: %v, want %s", names, w)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "argmax ") {
		t.Errorf("no forward pass in numpy's output:\n%s", got)
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
	st, err := results.Open(db, results.Options{})
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
