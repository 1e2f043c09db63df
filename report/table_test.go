package report

import (
	"bytes"
	"errors"
	"testing"
)

func TestTable(t *testing.T) {
	var tb Table
	tb.Col("name", false)
	tb.Col("n", true)
	tb.Add("a", "1")
	tb.Add("µµµ", "100") // widths in runes, not bytes
	var b bytes.Buffer
	if err := tb.Render(&b, "> "); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "> name    n\n> a       1\n> µµµ   100\n"; got != want {
		t.Errorf("table:\n%s\nwant\n%s", got, want)
	}
}

func TestKV(t *testing.T) {
	tb := NewKV()
	tb.Add("trial", "2")
	tb.Add("params", "x=1")
	tb.Add("error", "") // no trailing blanks
	var b bytes.Buffer
	if err := tb.Render(&b, "  "); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "  trial   2\n  params  x=1\n  error\n"; got != want {
		t.Errorf("kv table:\n%q\nwant\n%q", got, want)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestTableWriteError(t *testing.T) {
	tb := NewKV()
	tb.Add("a", "b")
	want := errors.New("broken pipe")
	if err := tb.Render(failWriter{want}, ""); !errors.Is(err, want) {
		t.Errorf("Render to a failing writer: %v, want %v", err, want)
	}
}
