package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("name = \"bad\"\n[search.params]\nlearnig_rate = [1e-3]\nreg = []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Mistakes only the data files show, which validate finds from their
	// headers without training: a split that does not fit, a missing file,
	// a non-zero sweep seed with real data (it must seed the trials only).
	fixtures, _ := filepath.Abs("../../data/testdata")
	spec := func(name, body string) string {
		p := filepath.Join(dir, name+".toml")
		if err := os.WriteFile(p, []byte("name = \""+name+"\"\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tooBig := spec("too-big", "[data]\nsource = \"mnist\"\npath = \""+fixtures+"/mnist-raw\"\ntrain = 10\nval = 5\n")
	missing := spec("missing", "[data]\nsource = \"mnist\"\npath = \""+dir+"\"\n")
	seeded := spec("seeded", "seed = 9\n[data]\nsource = \"cifar10\"\npath = \""+fixtures+"/cifar10/cifar-10-binary.tar.gz\"\ntrain = 10\nval = 2\ntest = 6\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings expected on stdout
		stderr []string // substrings expected on stderr
	}{
		{"quickstart", []string{"validate", "../../sweeps/quickstart.toml"}, exitOK,
			[]string{"quickstart.toml: ok: grid of 3 x 2 = 6 trials", `source = "embedded"`, "trial  key", "learning_rate  reg", "\n5  "}, nil},
		{"coursework grid", []string{"validate", "../../sweeps/coursework-grid-fashion-mnist.toml"}, exitOK,
			[]string{"grid of 4 x 2 x 3 = 24 trials", "\n23  "}, nil},
		{"random", []string{"validate", "../../sweeps/random.toml"}, exitOK,
			[]string{"random search, 20 trials", "hidden", "\n19  "}, nil},
		{"bad spec", []string{"validate", bad}, exitUsage, nil,
			[]string{bad + ":3: search.params.learnig_rate: unknown parameter (did you mean learning_rate?)",
				bad + ":4: search.params.reg: empty list", "2 problems"}},
		{"one bad of two", []string{"validate", "../../sweeps/quickstart.toml", bad}, exitUsage,
			[]string{"quickstart.toml: ok"}, []string{"2 problems"}},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.toml")}, exitUsage, nil, []string{"no such file"}},
		{"split too big", []string{"validate", tooBig}, exitUsage, nil, []string{tooBig + ": ", "train 10 + val 5 images requested", "holds 12"}},
		{"data files missing", []string{"validate", missing}, exitUsage, nil, []string{missing + ": ", "not found"}},
		{"seeded real data", []string{"validate", seeded}, exitOK,
			[]string{"data: cifar10 (" + fixtures + "/cifar10/cifar-10-binary.tar.gz): train 10 and val 2 of 18 training images, test 6 of 6; 10 classes of 3x32x32"}, nil},
		{"no spec", []string{"validate"}, exitUsage, nil, []string{"usage: sweep validate SPEC"}},
		{"help", []string{"validate", "-h"}, exitOK, nil, []string{"usage: sweep validate SPEC"}},
		{"bad flag", []string{"validate", "-x", "a.toml"}, exitUsage, nil, []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(t.Context(), tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout does not contain %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr does not contain %q:\n%s", s, errb.String())
				}
			}
		})
	}
}

// TestAdaptiveSpecs: an adaptive spec validates, its rungs described and
// its trials said to be decided as it runs.
func TestAdaptiveSpecs(t *testing.T) {
	spec := "../../search/testdata/specs/good/asha-tpe.toml"
	code, stdout, stderr := runCLI(t, "validate", spec)
	if code != exitOK || !strings.Contains(stdout, "asha with tpe sampling, 40 trials or a budget of 2m0s, rungs at 1, 3, 9 epochs (eta 3)") ||
		!strings.Contains(stdout, "# trials: decided as the sweep runs") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
}
