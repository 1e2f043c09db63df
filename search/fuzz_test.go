package search

import (
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it never panics, every problem
// is located, and a valid spec survives parse -> canonical -> parse
// unchanged and lists its trials. The seed corpus is every spec of testdata
// and sweeps/.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/specs/*/*.toml", "../sweeps/*.toml"} {
		for _, file := range specFiles(f, pattern) {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		spec, err := Parse("fuzz.toml", src)
		if err != nil {
			se, ok := err.(*SpecError)
			if !ok || len(se.Problems) == 0 {
				t.Fatalf("error %T %v, want a *SpecError", err, err)
			}
			for _, p := range se.Problems {
				if p.Err == nil || p.Msg == "" || p.File != "fuzz.toml" {
					t.Fatalf("incomplete problem %#v", p)
				}
			}
			return
		}
		checkRoundTrip(t, spec)
		if spec.Len() > 2000 || spec.Search.Adaptive() {
			return // valid, but slow to enumerate at fuzzing speed, or decided as it runs
		}
		trials, err := spec.Trials()
		if err != nil {
			t.Fatalf("Trials of a valid spec: %v", err)
		}
		checkTrials(t, spec, trials)
	})
}
