package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExportGolden(t *testing.T) {
	db := fixtureDB(t)
	runGolden(t, db, []cliCase{
		{"export-csv", []string{"export", "golden", "--format", "csv", "--db", "$DB"}},
		{"export-json", []string{"export", "golden", "--format", "json", "--db", "$DB"}},
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
