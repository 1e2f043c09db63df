package trial

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/sweep-dev/sweep/nn"
)

// ErrBadCheckpoint reports checkpoint bytes that cannot be decoded: a
// truncated or corrupt record, or one of another element type.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// Checkpoint encoding (version 1), little-endian throughout:
//
//	"SWCK" magic, u16 version, u8 element size (4 float32, 8 float64)
//	i64 iteration, i64 epoch, f64 learning rate
//	floats params
//	string rule, i64 step, u64 slot count, floats per slot
//	bytes rng, ints train subset, f64s loss history
//	u64 history length, per entry f64 epoch, i64 iteration, 5 × f64
//	f64 epoch loss, i64 epoch steps
//	f64 best val acc, f64 best val loss, f64 best epoch, floats best params
//
// where floats/f64s/ints/bytes/string are a u64 count then the elements.
// Version 2, a member of a fused group's, adds at the end: bytes the
// group's minibatch stream (nn.Snapshot.BatchRNG). A snapshot without one
// is written as version 1, as before groups.
const (
	ckMagic   = "SWCK"
	ckVersion = 2
)

type encoder struct{ b []byte }

func (e *encoder) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) i64(v int)     { e.u64(uint64(int64(v))) }
func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *encoder) bytes(b []byte) {
	e.u64(uint64(len(b)))
	e.b = append(e.b, b...)
}
func (e *encoder) f64s(v []float64) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		e.f64(x)
	}
}
func (e *encoder) ints(v []int) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		e.i64(x)
	}
}

func floats[T nn.Float](e *encoder, v []T) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		switch x := any(x).(type) {
		case float32:
			e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(x))
		case float64:
			e.f64(x)
		}
	}
}

// decoder reads what encoder wrote; the first error sticks and later reads
// return zero values, so a decode is checked once at the end.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", ErrBadCheckpoint, what, d.off)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("truncated " + what)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u64(what string) uint64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}
func (d *decoder) i64(what string) int     { return int(int64(d.u64(what))) }
func (d *decoder) f64(what string) float64 { return math.Float64frombits(d.u64(what)) }

// count reads a length whose elements take size bytes each, refusing one
// longer than the rest of the input.
func (d *decoder) count(size int, what string) int {
	n := d.u64(what + " length")
	if d.err == nil && n > uint64((len(d.b)-d.off)/size) {
		d.fail(what + " length beyond the end")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(what string) []byte {
	n := d.count(1, what)
	return append([]byte(nil), d.take(n, what)...)
}

func (d *decoder) f64s(what string) []float64 {
	n := d.count(8, what)
	out := make([]float64, n)
	for i := range out {
		out[i] = d.f64(what)
	}
	return out
}

func (d *decoder) ints(what string) []int {
	n := d.count(8, what)
	out := make([]int, n)
	for i := range out {
		out[i] = d.i64(what)
	}
	return out
}

func decodeFloats[T nn.Float](d *decoder, what string) []T {
	var zero T
	size := 8
	if _, ok := any(zero).(float32); ok {
		size = 4
	}
	n := d.count(size, what)
	out := make([]T, n)
	for i := range out {
		p := d.take(size, what)
		if p == nil {
			return nil
		}
		if size == 4 {
			out[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		} else {
			out[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(p)))
		}
	}
	return out
}

func elemSize[T nn.Float]() byte {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return 4
	}
	return 8
}

// EncodeSnapshot returns the checkpoint bytes of a training snapshot.
func EncodeSnapshot[T nn.Float](s *nn.Snapshot[T]) []byte {
	e := &encoder{b: make([]byte, 0, 64+2*len(s.Params)*int(elemSize[T]())+8*len(s.LossHistory))}
	e.b = append(e.b, ckMagic...)
	version := uint16(1)
	if s.BatchRNG != nil {
		version = 2
	}
	e.b = binary.LittleEndian.AppendUint16(e.b, version)
	e.b = append(e.b, elemSize[T]())
	e.i64(s.Iteration)
	e.i64(s.Epoch)
	e.f64(s.LearningRate)
	floats(e, s.Params)
	e.bytes([]byte(s.Optimizer.Rule))
	e.i64(s.Optimizer.Step)
	e.u64(uint64(len(s.Optimizer.Slots)))
	for _, sl := range s.Optimizer.Slots {
		floats(e, sl)
	}
	e.bytes(s.RNG)
	e.ints(s.TrainSubset)
	e.f64s(s.LossHistory)
	e.u64(uint64(len(s.History)))
	for _, h := range s.History {
		e.f64(h.Epoch)
		e.i64(h.Iteration)
		for _, v := range []float64{h.LearningRate, h.Loss, h.TrainAcc, h.ValAcc, h.ValLoss} {
			e.f64(v)
		}
	}
	e.f64(s.EpochLoss)
	e.i64(s.EpochSteps)
	e.f64(s.BestValAcc)
	e.f64(s.BestValLoss)
	e.f64(s.BestEpoch)
	floats(e, s.BestParams)
	if version == 2 {
		e.bytes(s.BatchRNG)
	}
	return e.b
}

// DecodeSnapshot decodes checkpoint bytes written by EncodeSnapshot for the
// same element type. Whether the snapshot fits a net is checked when
// training resumes from it.
func DecodeSnapshot[T nn.Float](b []byte) (*nn.Snapshot[T], error) {
	d := &decoder{b: b}
	if string(d.take(4, "magic")) != ckMagic {
		return nil, fmt.Errorf("%w: not a checkpoint (no %q magic)", ErrBadCheckpoint, ckMagic)
	}
	var version uint16
	if v := d.take(2, "version"); v != nil {
		version = binary.LittleEndian.Uint16(v)
		if version < 1 || version > ckVersion {
			return nil, fmt.Errorf("%w: version %d, want 1 to %d", ErrBadCheckpoint, version, ckVersion)
		}
	}
	if sz := d.take(1, "element size"); sz != nil && sz[0] != elemSize[T]() {
		return nil, fmt.Errorf("%w: elements of %d bytes, want %d", ErrBadCheckpoint, sz[0], elemSize[T]())
	}
	s := &nn.Snapshot[T]{}
	s.Iteration = d.i64("iteration")
	s.Epoch = d.i64("epoch")
	s.LearningRate = d.f64("learning rate")
	s.Params = decodeFloats[T](d, "params")
	s.Optimizer.Rule = string(d.bytes("optimizer rule"))
	s.Optimizer.Step = d.i64("optimizer step")
	nslots := d.count(8, "optimizer slots")
	for range nslots {
		s.Optimizer.Slots = append(s.Optimizer.Slots, decodeFloats[T](d, "optimizer slot"))
	}
	s.RNG = d.bytes("rng")
	s.TrainSubset = d.ints("train subset")
	s.LossHistory = d.f64s("loss history")
	nh := d.count(7*8, "history")
	for range nh {
		var h nn.EpochStats
		h.Epoch = d.f64("history")
		h.Iteration = d.i64("history")
		h.LearningRate = d.f64("history")
		h.Loss = d.f64("history")
		h.TrainAcc = d.f64("history")
		h.ValAcc = d.f64("history")
		h.ValLoss = d.f64("history")
		s.History = append(s.History, h)
	}
	s.EpochLoss = d.f64("epoch loss")
	s.EpochSteps = d.i64("epoch steps")
	s.BestValAcc = d.f64("best val acc")
	s.BestValLoss = d.f64("best val loss")
	s.BestEpoch = d.f64("best epoch")
	s.BestParams = decodeFloats[T](d, "best params")
	if version == 2 {
		s.BatchRNG = d.bytes("batch rng")
		if d.err == nil && len(s.BatchRNG) == 0 {
			d.fail("empty batch rng")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the end", ErrBadCheckpoint, len(b)-d.off)
	}
	return s, nil
}
