package report

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Table is a text table whose columns are aligned: numbers to the right,
// text to the left, two spaces apart, no trailing blanks. The zero Table
// is empty; add columns with Col, rows with Add.
type Table struct {
	head  []string
	right []bool // per column: align right
	rows  [][]string
}

// NewKV returns a table of names and values: two left-aligned columns, no
// header.
func NewKV() *Table { return &Table{right: []bool{false, false}} }

// Col adds a column named name, aligned right when right.
func (t *Table) Col(name string, right bool) {
	t.head = append(t.head, name)
	t.right = append(t.right, right)
}

// Add adds a row of cells, one per column. It panics in Render when a row
// has more cells than the table has columns (a programmer's error).
func (t *Table) Add(cells ...string) { t.rows = append(t.rows, cells) }

// Render writes the table, with its header when it has one, each line
// prefixed with indent.
func (t *Table) Render(w io.Writer, indent string) error {
	width := make([]int, len(t.right))
	all := t.rows
	if t.head != nil {
		all = append([][]string{t.head}, t.rows...)
	}
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range all {
		b.Reset()
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		if _, err := io.WriteString(w, indent+strings.TrimRight(b.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
