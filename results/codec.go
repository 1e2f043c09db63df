package results

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// The binary encodings of histories, checkpoints and models, and the JSON
// of decision records: what every store keeps as opaque bytes (bbolt
// values, PostgreSQL bytea), so that a sweep copied between stores is
// copied byte for byte. Each encoding starts with a one-byte format
// version (1):
//
//	history     1, uvarint n, n rows of 7 x 8 bytes big-endian:
//	            epoch (float64 bits), iteration (uint64), learning rate, loss,
//	            train acc, val acc, val loss (float64 bits)
//	checkpoint  1, epoch (float64 bits, 8 bytes), iteration (uint64, 8 bytes), data (the rest)
//	model       1, uvarint tensor count, per tensor: uvarint len + name, uvarint len + dtype,
//	            uvarint rank, rank uvarint dims, uvarint len + data (little-endian values)
//
// A decoding failure is a corruption (errors.Is(err, ErrCorrupt)).

const encodingV1 = 1

const historyRow = 7 * 8

// EncodeHistory encodes a history.
func EncodeHistory(h []Epoch) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(h)*historyRow)
	b = append(b, encodingV1)
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, e := range h {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(e.Epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(int64(e.Iteration)))
		for _, f := range [...]float64{e.LearningRate, e.Loss, e.TrainAcc, e.ValAcc, e.ValLoss} {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
		}
	}
	return b
}

// HistoryRows checks a history encoding and returns its rows and their number.
func HistoryRows(b []byte) ([]byte, uint64, error) {
	if len(b) == 0 || b[0] != encodingV1 {
		return nil, 0, Corruptf("history: unknown encoding")
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return nil, 0, Corruptf("history: bad length")
	}
	b = b[1+k:]
	if uint64(len(b))%historyRow != 0 || uint64(len(b))/historyRow != n {
		return nil, 0, Corruptf("history: %d rows announced, %d bytes of rows", n, len(b))
	}
	return b, n, nil
}

// DecodeHistory decodes a history; the result does not alias b.
func DecodeHistory(b []byte) ([]Epoch, error) {
	b, n, err := HistoryRows(b)
	if err != nil {
		return nil, err
	}
	h := make([]Epoch, n)
	f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[i*8:])) }
	for i := range h {
		h[i] = Epoch{
			Epoch:        f(0),
			Iteration:    int(int64(binary.BigEndian.Uint64(b[8:]))),
			LearningRate: f(2), Loss: f(3), TrainAcc: f(4), ValAcc: f(5), ValLoss: f(6),
		}
		b = b[historyRow:]
	}
	return h, nil
}

// EncodeCheckpoint encodes a checkpoint.
func EncodeCheckpoint(ck Checkpoint) []byte {
	b := make([]byte, 0, 17+len(ck.Data))
	b = append(b, encodingV1)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(ck.Epoch))
	b = binary.BigEndian.AppendUint64(b, uint64(int64(ck.Iteration)))
	return append(b, ck.Data...)
}

// DecodeCheckpoint decodes a checkpoint; the result does not alias b.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < 17 || b[0] != encodingV1 {
		return nil, Corruptf("checkpoint: bad header")
	}
	return &Checkpoint{
		Epoch:     math.Float64frombits(binary.BigEndian.Uint64(b[1:])),
		Iteration: int(int64(binary.BigEndian.Uint64(b[9:]))),
		Data:      append([]byte(nil), b[17:]...),
	}, nil
}

// dtypeSize is the size in bytes of one value of a tensor's dtype.
func dtypeSize(dtype string) int {
	switch dtype {
	case "float32":
		return 4
	case "float64":
		return 8
	}
	return 0
}

// checkTensor reports whether t's data has the length its shape and dtype say.
func checkTensor(t *Tensor) error {
	size := dtypeSize(t.DType)
	if size == 0 {
		return fmt.Errorf("tensor %q: dtype %q is not float32 or float64", t.Name, t.DType)
	}
	n := uint64(1)
	for _, d := range t.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/uint64(d)) {
			return fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
		}
		n *= uint64(d)
	}
	if uint64(len(t.Data)) != n*uint64(size) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, n*uint64(size), len(t.Data))
	}
	return nil
}

// EncodeModel encodes m, checking every tensor's length against its shape.
func EncodeModel(m *Model) ([]byte, error) {
	size := 1 + binary.MaxVarintLen64
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if err := checkTensor(t); err != nil {
			return nil, err
		}
		size += len(t.Name) + len(t.DType) + len(t.Data) + (4+len(t.Shape))*binary.MaxVarintLen64
	}
	b := make([]byte, 0, size)
	b = append(b, encodingV1)
	b = binary.AppendUvarint(b, uint64(len(m.Tensors)))
	for _, t := range m.Tensors {
		b = binary.AppendUvarint(b, uint64(len(t.Name)))
		b = append(b, t.Name...)
		b = binary.AppendUvarint(b, uint64(len(t.DType)))
		b = append(b, t.DType...)
		b = binary.AppendUvarint(b, uint64(len(t.Shape)))
		for _, d := range t.Shape {
			b = binary.AppendUvarint(b, uint64(d))
		}
		b = binary.AppendUvarint(b, uint64(len(t.Data)))
		b = append(b, t.Data...)
	}
	return b, nil
}

// modelReader reads the fields of a model encoding, remembering the first error.
type modelReader struct {
	b   []byte
	err error
}

func (r *modelReader) uvarint(max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > max {
		r.err = Corruptf("model: bad integer")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *modelReader) bytes() []byte {
	n := r.uvarint(math.MaxInt32)
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = Corruptf("model: %d bytes announced, %d left", n, len(r.b))
	}
	if r.err != nil {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// DecodeModel decodes a model; the result does not alias b.
func DecodeModel(b []byte) (*Model, error) {
	if len(b) == 0 || b[0] != encodingV1 {
		return nil, Corruptf("model: unknown encoding")
	}
	r := &modelReader{b: b[1:]}
	n := r.uvarint(uint64(len(b))) // each tensor takes at least one byte
	m := &Model{Tensors: make([]Tensor, 0, n)}
	for i := uint64(0); i < n && r.err == nil; i++ {
		t := Tensor{Name: string(r.bytes()), DType: string(r.bytes())}
		rank := r.uvarint(uint64(len(r.b)))
		t.Shape = make([]int, 0, rank)
		for j := uint64(0); j < rank && r.err == nil; j++ {
			t.Shape = append(t.Shape, int(r.uvarint(math.MaxInt32)))
		}
		t.Data = append([]byte(nil), r.bytes()...)
		if r.err == nil {
			if err := checkTensor(&t); err != nil {
				r.err = Corruptf("model: %v", err)
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = Corruptf("model: %d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// MaxDecisions is the most decision records a trial keeps: past it, the
// oldest but the first (the trial's start) are dropped. A trial of ASHA or
// Hyperband gets one when it starts, one per promotion and one when it is
// pruned, far fewer; the bound keeps a faulty scheduler from growing a
// record without end.
const MaxDecisions = 64

// MaxDecisionSize bounds one decision record, in bytes.
const MaxDecisionSize = 64 << 10

// EncodeDecisions is the value of a trial in the decisions bucket.
func EncodeDecisions(ds []json.RawMessage) ([]byte, error) {
	return json.Marshal(ds)
}

// DecodeDecisions decodes a trial's decision records; they do not alias b.
func DecodeDecisions(b []byte) ([]json.RawMessage, error) {
	var ds []json.RawMessage
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, Corruptf("decisions: %v", err)
	}
	return ds, nil
}
