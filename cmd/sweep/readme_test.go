package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readmeSnippet returns the first ```python block after heading in the
// repository's README.md.
func readmeSnippet(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	s = s[i:]
	j := strings.Index(s, "```python\n")
	if j < 0 {
		t.Fatalf("README.md: no python block after %q", heading)
	}
	s = s[j+len("```python\n"):]
	k := strings.Index(s, "```")
	if k < 0 {
		t.Fatalf("README.md: unterminated python block after %q", heading)
	}
	return s[:k]
}

// TestREADMENumpySnippet trains real sweeps on Fashion-MNIST, exports each
// one's best net and runs the README's numpy snippet, as written, on the
// .npz: it must print the recorded test accuracy exactly, computed from raw
// pixels. The sweeps cover every branch of the snippet: each preprocessing,
// no normalisation, batchnorm and layernorm, each activation, both dtypes.
// The normalised nets are trained well enough (adam, He init: about 80%,
// at least minAcc) that a snippet skipping a step would miss the recorded
// accuracy (checked when this was written), and with dropout, which the
// snippet rightly ignores.
func TestREADMENumpySnippet(t *testing.T) {
	py := numpyPython(t)
	snippet := readmeSnippet(t, "### Using an exported net")
	for _, c := range []struct {
		name, model, train, params string
		minAcc                     float64 // the test accuracy the sweep must reach
	}{
		{"plain", `hidden = [40, 30]`, "", `
learning_rate = [1e-3, 3e-3]
activation = ["relu", "swish"]`, 0},
		{"batchnorm", `hidden = [40, 30]
weight_scale = "he"
dropout = 0.1
normalization = "batchnorm"
activation = "tanh"
preprocess = "standardize"`, `optimizer = "adam"`, `
learning_rate = [1e-3, 3e-3]`, 0.6},
		{"layernorm", `hidden = [40, 30]
weight_scale = "he"
dropout = 0.1
normalization = "layernorm"
preprocess = "none"`, `optimizer = "adam"
dtype = "float64"`, `
activation = ["relu", "swish"]`, 0.6},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "readme-" + c.name
			dir := t.TempDir()
			spec := writeSpec(t, `
name = "`+name+`"
seed = 11

[data]
source = "fashion-mnist"
train = 3000
val = 500
test = 1000

[model]
`+c.model+`

[train]
iterations = 150
batch_size = 100
`+c.train+`

[search.params]`+c.params+"\n")
			db := newDB(t)
			if code, _, stderr := runCLI(t, "run", spec, "--db", db, "--workers", "2"); code != exitOK {
				t.Fatalf("run: exit %d\n%s", code, stderr)
			}
			code, out, stderr := runCLI(t, "best", name, "--db", db, "--format", "json")
			if code != exitOK {
				t.Fatalf("best: exit %d\n%s", code, stderr)
			}
			var best struct {
				TestAcc *float64 `json:"test_acc"`
			}
			if err := json.Unmarshal([]byte(out), &best); err != nil || best.TestAcc == nil {
				t.Fatalf("best --format json: %v, test_acc %v\n%s", err, best.TestAcc, out)
			}
			if *best.TestAcc < c.minAcc {
				t.Errorf("test_acc %v < %v: too little trained to tell a wrong snippet from the right one", *best.TestAcc, c.minAcc)
			}
			if code, _, stderr := runCLI(t, "export-model", name, "-o", filepath.Join(dir, "best.npz"), "--db", db); code != exitOK {
				t.Fatalf("export-model: exit %d\n%s", code, stderr)
			}
			cmd := exec.Command(py, "-c", snippet)
			cmd.Dir = dir
			got, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the README's snippet: %v\n%s", err, got)
			}
			f := strings.Fields(string(got))
			if len(f) != 2 {
				t.Fatalf("the README's snippet printed %q, want two numbers", got)
			}
			for i, what := range []string{"accuracy computed from raw pixels", "test_acc stored in the .npz"} {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil || v != *best.TestAcc {
					t.Errorf("%s: %s, want the recorded test_acc %v exactly", what, f[i], *best.TestAcc)
				}
			}
		})
	}
}
