package nn

import "fmt"

// Float is the element type of nets, layers and update rules: float32 for
// training speed, float64 for gradient checks.
type Float interface {
	float32 | float64
}

// Mat is a dense row-major matrix: element (i, j) is Data[i*Cols+j].
// A Mat is a view: copying it does not copy Data.
type Mat[T Float] struct {
	Rows, Cols int
	Data       []T
}

// NewMat returns a zeroed r×c matrix.
func NewMat[T Float](r, c int) Mat[T] {
	return Mat[T]{Rows: r, Cols: c, Data: make([]T, r*c)}
}

// FromShape views data of shape (N, d1, ..., dk) as the N×(d1·...·dk)
// matrix that an affine layer consumes. It panics if len(data) does not
// match the shape (a programmer error).
func FromShape[T Float](data []T, shape ...int) Mat[T] {
	if len(shape) == 0 {
		panic("nn: FromShape needs at least one dimension")
	}
	d := 1
	for _, s := range shape[1:] {
		d *= s
	}
	if shape[0]*d != len(data) {
		panic(fmt.Sprintf("nn: FromShape: %d elements do not have shape %v", len(data), shape))
	}
	return Mat[T]{Rows: shape[0], Cols: d, Data: data}
}

// Row returns row i as a slice aliasing m.Data.
func (m Mat[T]) Row(i int) []T { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m Mat[T]) At(i, j int) T { return m.Data[i*m.Cols+j] }

// Slice returns rows [i, j) as a view.
func (m Mat[T]) Slice(i, j int) Mat[T] {
	return Mat[T]{Rows: j - i, Cols: m.Cols, Data: m.Data[i*m.Cols : j*m.Cols]}
}

// resize returns a rows×cols matrix backed by buf, growing buf when it is too
// small. It is how layers and nets reuse their scratch: after the largest size
// has been seen once, resize never allocates.
func resize[T Float](buf *[]T, rows, cols int) Mat[T] {
	n := rows * cols
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return Mat[T]{Rows: rows, Cols: cols, Data: *buf}
}

func mustSameShape[T Float](op string, a, b Mat[T]) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("nn: %s: shape %dx%d does not match %dx%d", op, a.Rows, a.Cols, b.Rows, b.Cols))
	}
}
