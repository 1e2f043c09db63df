package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestExportGolden(t *testing.T) {
	db := fixtureDB(t)
	runGolden(t, db, []cliCase{
		{"export-csv", []string{"export", "golden", "--format", "csv", "--db", "$DB"}},
		{"export-json", []string{"export", "golden", "--format", "json", "--db", "$DB"}},
		{"export-history-csv", []string{"export", "golden", "--history", "--db", "$DB"}},
		{"export-history-json", []string{"export", "golden", "--history", "--format", "json", "--db", "$DB"}},
		{"export-bad-format", []string{"export", "golden", "--format", "xlsx", "--db", "$DB"}},
		{"export-unknown-sweep", []string{"export", "nope", "--db", "$DB"}},
	})
	out := filepath.Join(t.TempDir(), "trials.csv")
	code, stdout, stderr := runCLI(t, "export", "golden", "--format", "csv", "-o", out, "--db", db)
	if code != exitOK || stdout != "" {
		t.Fatalf("export -o: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCLI(t, "export", "golden", "--db", db)
	if string(got) != want {
		t.Errorf("export -o wrote\n%s\nwant the same as standard output:\n%s", got, want)
	}
}

// readExport is what a notebook does with an export: every row, each
// param a column, numbers as floats (empty and NaN cells as NaN).
const readExport = `
import csv, json, sys
import numpy as np
with open(sys.argv[1], newline='') as f:
    rows = list(csv.DictReader(f))
num = lambda col: np.array([float(r[col]) if r[col] else np.nan for r in rows])
acc, lr = num('val_acc'), num('learning_rate')
best = int(np.nanargmax(acc))
print(len(rows), rows[best]['trial'], lr[best], int(np.isnan(num('val_loss')).sum()), repr(rows[3]['error']))
with open(sys.argv[2]) as f:
    recs = json.load(f)
print(len(recs), max((r for r in recs if r['val_acc'] is not None), key=lambda r: r['val_acc'])['params'])
`

func TestExportReadByPython(t *testing.T) {
	py := numpyPython(t)
	db := fixtureDB(t)
	dir := t.TempDir()
	csvPath, jsonPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.json")
	for _, f := range [][2]string{{"csv", csvPath}, {"json", jsonPath}} {
		if code, _, stderr := runCLI(t, "export", "golden", "--format", f[0], "-o", f[1], "--db", db); code != exitOK {
			t.Fatalf("export --format %s: exit %d: %s", f[0], code, stderr)
		}
	}
	got, err := exec.Command(py, "-c", readExport, csvPath, jsonPath).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, got)
	}
	// 6 rows; the best val_acc is trial 2 (lr 1e-3); val_loss is NaN for
	// the diverged trial and empty for the 3 untrained ones; trial 4's
	// two-line error survives the quoting.
	want := "6 2 0.001 4 'train: out of memory\\nwhile allocating 3072 x 50'\n6 {'learning_rate': 0.001, 'reg': 0.25}\n"
	if string(got) != want {
		t.Errorf("python read\n%s\nwant\n%s", got, want)
	}
}
