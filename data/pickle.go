package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// A strict reader of exactly the pickles that make up cifar-10-batches-py:
// dictionaries written by Python 2's cPickle with protocol 2, whose "data"
// is a numpy uint8 array (N, 3072) pickled through
// numpy.core.multiarray._reconstruct with its raw bytes in one BINSTRING,
// and whose "labels" is a list of ints. It is a small stack machine over
// the opcodes cPickle emits for such a dict and nothing else: no other
// globals can be named, nothing is called but the two numpy constructors,
// which are modelled, not run. It works on the file's bytes in memory, so a
// length field can never make it allocate more than the file holds, and the
// array's pixels alias the input instead of being copied.
//
// Why not github.com/nlpodyssey/gopickle (v0.2.0, a general unpickler)? It
// reads these files once given Go stand-ins for the numpy globals, but: a
// short fuzz run made it panic (index out of range in loadDict on a 19-byte
// input); it allocates whatever a BINSTRING length claims (2 GB for 5 bytes
// of input) before reading; it copies the 30 MB of pixels twice per batch
// (65 MB and 40,000 allocations per 10,000-image batch, about 14x slower than this
// reader); and it accepts any global and opcode, so the CIFAR-10 checks
// would still have to be written on top of its generic values.

// The pickle opcodes of a Python 2 cPickle protocol-2 CIFAR-10 batch.
const (
	opProto          = 0x80 // PROTO n: protocol version, first opcode
	opStop           = '.'  // STOP: end of the pickle
	opMark           = '('  // MARK: push a mark
	opEmptyDict      = '}'  // EMPTY_DICT
	opEmptyList      = ']'  // EMPTY_LIST
	opEmptyTuple     = ')'  // EMPTY_TUPLE
	opShortBinstring = 'U'  // SHORT_BINSTRING len:u8 bytes: a Python 2 str
	opBinstring      = 'T'  // BINSTRING len:i32le bytes: a Python 2 str
	opBinput         = 'q'  // BINPUT i:u8: memo[i] = top
	opLongBinput     = 'r'  // LONG_BINPUT i:u32le
	opBinget         = 'h'  // BINGET i:u8: push memo[i]
	opLongBinget     = 'j'  // LONG_BINGET i:u32le
	opGlobal         = 'c'  // GLOBAL module\nname\n
	opBinint1        = 'K'  // BININT1 u8
	opBinint2        = 'M'  // BININT2 u16le
	opBinint         = 'J'  // BININT i32le
	opNone           = 'N'  // NONE
	opNewtrue        = 0x88 // NEWTRUE
	opNewfalse       = 0x89 // NEWFALSE
	opTuple1         = 0x85 // TUPLE1
	opTuple2         = 0x86 // TUPLE2
	opTuple3         = 0x87 // TUPLE3
	opTuple          = 't'  // TUPLE: items since the mark
	opReduce         = 'R'  // REDUCE: callable(*args)
	opBuild          = 'b'  // BUILD: obj.__setstate__(state)
	opAppend         = 'a'  // APPEND
	opAppends        = 'e'  // APPENDS: items since the mark
	opSetitem        = 's'  // SETITEM
	opSetitems       = 'u'  // SETITEMS: pairs since the mark
)

// The only globals a CIFAR-10 batch names.
const (
	globalReconstruct = "numpy.core.multiarray._reconstruct"
	globalNdarray     = "numpy.ndarray"
	globalDtype       = "numpy.dtype"
)

// Python values, as far as a CIFAR-10 batch needs them. None is nil, a bool
// is bool, an int is int64.
type (
	pyStr    []byte // a Python 2 str; aliases the input
	pyTuple  []any
	pyList   struct{ items []any }
	pyDict   map[string]any // keys are Python 2 strs
	pyGlobal string         // "module.name"
	pyDtype  struct {
		str   string // "u1"
		built bool
	}
	pyArray struct {
		shape []int
		raw   []byte
		built bool
	}
)

// pyRepr shows a str or an int as Python would, other values by type.
func pyRepr(v any) string {
	switch v := v.(type) {
	case pyStr:
		return fmt.Sprintf("'%s'", []byte(v[:min(len(v), 32)]))
	case int64:
		return fmt.Sprint(v)
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return typeName(v)
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case pyStr:
		return "str"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case pyDict:
		return "dict"
	case pyGlobal:
		return string(v)
	case *pyDtype:
		return "numpy.dtype"
	case *pyArray:
		return "numpy.ndarray"
	}
	return fmt.Sprintf("%T", v)
}

// unpickler is the stack machine.
type unpickler struct {
	name  string
	b     []byte
	pos   int // offset of the next byte to read
	op    int // offset of the opcode being executed
	stack []any
	marks []int // stack heights at each MARK
	memo  map[uint32]any
	// size is the size of the whole file. It is len(b) except when b is
	// only its head (peekCIFARPickle): then whatever needs a byte past b
	// stops the machine with errHeadEnd.
	size int64
}

// errHeadEnd stops an unpickler that has run to the end of the head of a
// file it was given (peekCIFARPickle); it never leaves this package.
var errHeadEnd = errors.New("end of the pickle's head")

func (u *unpickler) errf(format string, args ...any) error {
	return badData(u.name, int64(u.op), "pickle opcode %s: %s", opName(u.b[u.op]), fmt.Sprintf(format, args...))
}

func opName(op byte) string {
	if op >= 0x20 && op < 0x7f {
		return fmt.Sprintf("%q", rune(op))
	}
	return fmt.Sprintf("0x%02x", op)
}

// arg returns the next n bytes of the opcode's argument.
func (u *unpickler) arg(n int) ([]byte, error) {
	if left := u.size - int64(u.pos); n < 0 || int64(n) > left {
		return nil, u.errf("truncated: argument of %d bytes, %d left in the file", n, left)
	}
	if n > len(u.b)-u.pos {
		return nil, errHeadEnd
	}
	a := u.b[u.pos : u.pos+n]
	u.pos += n
	return a, nil
}

// le returns the next argument: one byte, or if long a little-endian uint32.
func (u *unpickler) le(long bool) (uint32, error) {
	if !long {
		a, err := u.arg(1)
		if err != nil {
			return 0, err
		}
		return uint32(a[0]), nil
	}
	a, err := u.arg(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(a), nil
}

// line returns the next '\n'-terminated argument, without the newline.
func (u *unpickler) line() (string, error) {
	const maxLine = 256
	rest := u.b[u.pos:min(len(u.b), u.pos+maxLine)]
	i := slices.Index(rest, '\n')
	if i < 0 {
		if len(rest) < maxLine && int64(len(u.b)) < u.size {
			return "", errHeadEnd
		}
		return "", u.errf("no newline within %d bytes", maxLine)
	}
	u.pos += i + 1
	return string(rest[:i]), nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) bottom() int {
	if len(u.marks) > 0 {
		return u.marks[len(u.marks)-1]
	}
	return 0
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.bottom() {
		return nil, u.errf("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.bottom() {
		return nil, u.errf("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops the items pushed since the last MARK, and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errf("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := slices.Clone(u.stack[m:])
	u.stack = u.stack[:m]
	return items, nil
}

// unpickle runs the pickle b (named name in errors) and returns its value.
func unpickle(b []byte, name string) (any, error) {
	u := newUnpickler(b, int64(len(b)), name)
	return u.run()
}

// newUnpickler returns an unpickler of the file of size bytes whose first
// len(b) bytes are b.
func newUnpickler(b []byte, size int64, name string) *unpickler {
	return &unpickler{name: name, b: b, size: size, memo: map[uint32]any{}}
}

func (u *unpickler) run() (any, error) {
	for {
		op, err := u.next()
		if err != nil {
			return nil, err
		}
		if err := u.step(op); err != nil {
			return nil, err
		}
		if op == opStop {
			if int64(u.pos) != u.size {
				return nil, badData(u.name, int64(u.pos), "oversized: %d bytes after the STOP opcode", u.size-int64(u.pos))
			}
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, u.errf("%d values and %d marks left on the stack, want 1 value", len(u.stack), len(u.marks))
			}
			return u.stack[0], nil
		}
	}
}

// next reads the next opcode.
func (u *unpickler) next() (byte, error) {
	u.op = u.pos
	if u.pos >= len(u.b) {
		if int64(u.pos) < u.size {
			return 0, errHeadEnd
		}
		return 0, badData(u.name, int64(u.pos), "truncated: the pickle ends without a STOP opcode")
	}
	op := u.b[u.pos]
	u.pos++
	if u.op == 0 && op != opProto {
		return 0, u.errf("want PROTO 2 first: not a Python 2 cPickle protocol-2 pickle")
	}
	return op, nil
}

// step executes one opcode whose argument starts at u.pos.
func (u *unpickler) step(op byte) error {
	switch op {
	case opProto:
		a, err := u.arg(1)
		if err != nil {
			return err
		}
		if u.op != 0 || a[0] != 2 {
			return u.errf("protocol %d: want protocol 2 (Python 2 cPickle), first", a[0])
		}
	case opStop:
		// handled by run
	case opMark:
		u.marks = append(u.marks, len(u.stack))
	case opEmptyDict:
		u.push(pyDict{})
	case opEmptyList:
		u.push(&pyList{})
	case opEmptyTuple:
		u.push(pyTuple{})
	case opNone:
		u.push(nil)
	case opNewtrue, opNewfalse:
		u.push(op == opNewtrue)
	case opShortBinstring, opBinstring:
		n, err := u.le(op == opBinstring)
		if err != nil {
			return err
		}
		s, err := u.arg(int(int32(n))) // BINSTRING's length is signed: arg rejects < 0
		if err != nil {
			return err
		}
		u.push(pyStr(s))
	case opBinint1, opBinint:
		v, err := u.le(op == opBinint)
		if err != nil {
			return err
		}
		u.push(int64(int32(v))) // BININT is signed; BININT1 < 256 either way
	case opBinint2:
		a, err := u.arg(2)
		if err != nil {
			return err
		}
		u.push(int64(binary.LittleEndian.Uint16(a)))
	case opBinput, opLongBinput, opBinget, opLongBinget:
		i, err := u.le(op == opLongBinput || op == opLongBinget)
		if err != nil {
			return err
		}
		if op == opBinget || op == opLongBinget {
			v, ok := u.memo[i]
			if !ok {
				return u.errf("memo %d not set", i)
			}
			u.push(v)
			return nil
		}
		v, err := u.top()
		if err != nil {
			return err
		}
		u.memo[i] = v
	case opGlobal:
		mod, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		if err != nil {
			return err
		}
		g := pyGlobal(mod + "." + name)
		switch g {
		case globalReconstruct, globalNdarray, globalDtype:
		default:
			return u.errf("global %q: only %s, %s and %s may appear in a CIFAR-10 batch", g, globalReconstruct, globalNdarray, globalDtype)
		}
		u.push(g)
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(u.stack)-u.bottom() < n {
			return u.errf("stack underflow")
		}
		t := pyTuple(slices.Clone(u.stack[len(u.stack)-n:]))
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(pyTuple(items))
	case opAppend, opAppends:
		var items []any
		var err error
		if op == opAppend {
			var v any
			v, err = u.pop()
			items = []any{v}
		} else {
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		l, ok := t.(*pyList)
		if !ok {
			return u.errf("append to %s, want a list", typeName(t))
		}
		l.items = append(l.items, items...)
	case opSetitem, opSetitems:
		var items []any
		var err error
		if op == opSetitem {
			items = make([]any, 2)
			if items[1], err = u.pop(); err == nil {
				items[0], err = u.pop()
			}
		} else {
			items, err = u.popMark()
		}
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return u.errf("odd number of items (%d) for a dict", len(items))
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		d, ok := t.(pyDict)
		if !ok {
			return u.errf("set item of %s, want a dict", typeName(t))
		}
		for i := 0; i < len(items); i += 2 {
			k, ok := items[i].(pyStr)
			if !ok {
				return u.errf("dict key is %s, want a str", typeName(items[i]))
			}
			if _, dup := d[string(k)]; dup {
				return u.errf("duplicate dict key %q", k)
			}
			d[string(k)] = items[i+1]
		}
	case opReduce:
		args, err := u.pop()
		if err != nil {
			return err
		}
		fn, err := u.pop()
		if err != nil {
			return err
		}
		v, err := u.reduce(fn, args)
		if err != nil {
			return err
		}
		u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		return u.build(obj, state)
	default:
		return u.errf("not an opcode of a Python 2 cPickle protocol-2 CIFAR-10 batch")
	}
	return nil
}

// reduce models the two calls a CIFAR-10 batch makes:
// _reconstruct(ndarray, (0,), 'b') and dtype('u1', 0, 1).
func (u *unpickler) reduce(fn, args any) (any, error) {
	t, ok := args.(pyTuple)
	if !ok {
		return nil, u.errf("arguments are %s, want a tuple", typeName(args))
	}
	switch fn {
	case pyGlobal(globalReconstruct):
		if len(t) != 3 || t[0] != pyGlobal(globalNdarray) {
			return nil, u.errf("want %s(numpy.ndarray, (0,), 'b')", globalReconstruct)
		}
		return &pyArray{}, nil
	case pyGlobal(globalDtype):
		if len(t) != 3 {
			return nil, u.errf("want numpy.dtype('u1', 0, 1), have %d arguments", len(t))
		}
		s, ok := t[0].(pyStr)
		if !ok || string(s) != "u1" {
			return nil, u.errf("dtype(%s): CIFAR-10 pixels are uint8 ('u1')", pyRepr(t[0]))
		}
		return &pyDtype{str: string(s)}, nil
	}
	return nil, u.errf("cannot call %s", typeName(fn))
}

// build models ndarray.__setstate__ and dtype.__setstate__.
func (u *unpickler) build(obj, state any) error {
	t, ok := state.(pyTuple)
	if !ok {
		return u.errf("state of %s is %s, want a tuple", typeName(obj), typeName(state))
	}
	switch o := obj.(type) {
	case *pyDtype:
		// (3, '|', None, None, None, -1, -1, 0): version, byte order, ...
		if o.built || len(t) < 2 {
			return u.errf("bad dtype state")
		}
		if v, ok := t[0].(int64); !ok || v < 3 || v > 4 {
			return u.errf("dtype state version %s, want 3 or 4", pyRepr(t[0]))
		}
		o.built = true
	case *pyArray:
		// (version, shape, dtype, is_fortran, raw bytes); the version may be
		// absent.
		if len(t) == 5 {
			t = t[1:]
		}
		if o.built || len(t) != 4 {
			return u.errf("bad ndarray state: want (version, shape, dtype, is_fortran, data)")
		}
		shape, ok := t[0].(pyTuple)
		if !ok {
			return u.errf("ndarray shape is %s, want a tuple", typeName(t[0]))
		}
		size := int64(1)
		for _, s := range shape {
			v, ok := s.(int64)
			if !ok || v < 0 || v > 1<<31 {
				return u.errf("ndarray shape has %s, want non-negative ints", pyRepr(s))
			}
			o.shape = append(o.shape, int(v))
			size *= v
			if size > 1<<40 {
				return u.errf("ndarray shape %v too large", o.shape)
			}
		}
		if dt, ok := t[1].(*pyDtype); !ok || !dt.built {
			return u.errf("ndarray dtype is %s, want numpy.dtype('u1')", typeName(t[1]))
		}
		if f, ok := t[2].(bool); !ok || (f && len(o.shape) > 1) {
			return u.errf("ndarray is_fortran is %s, want False (C order)", pyRepr(t[2]))
		}
		raw, ok := t[3].(pyStr)
		if !ok {
			return u.errf("ndarray data is %s, want a str of raw bytes", typeName(t[3]))
		}
		if int64(len(raw)) != size {
			return u.errf("ndarray of shape %v holds %d bytes of data, want %d", o.shape, len(raw), size)
		}
		o.raw, o.built = raw, true
	default:
		return u.errf("cannot set the state of %s", typeName(obj))
	}
	return nil
}

// parseCIFARPickle reads one batch of cifar-10-batches-py from its bytes b.
// The batch's pixels alias b.
func parseCIFARPickle(b []byte, name string) (cifarBatch, error) {
	v, err := unpickle(b, name)
	if err != nil {
		return cifarBatch{}, err
	}
	d, ok := v.(pyDict)
	if !ok {
		return cifarBatch{}, badData(name, -1, "the pickle holds %s, want a dict (a CIFAR-10 batch)", typeName(v))
	}
	keyErr := func(k, format string, args ...any) error {
		return badData(name, -1, "key %q: %s", k, fmt.Sprintf(format, args...))
	}
	dv, ok := d["data"]
	if !ok {
		return cifarBatch{}, keyErr("data", "missing: not a CIFAR-10 batch")
	}
	a, ok := dv.(*pyArray)
	if !ok || !a.built {
		return cifarBatch{}, keyErr("data", "is %s, want a numpy uint8 array", typeName(dv))
	}
	if len(a.shape) != 2 || a.shape[1] != cifarPixels || a.shape[0] < 1 || a.shape[0] > cifarBatchMax {
		return cifarBatch{}, keyErr("data", "shape %v, want (n, %d) with 1 <= n <= %d", a.shape, cifarPixels, cifarBatchMax)
	}
	n := a.shape[0]
	lv, ok := d["labels"]
	if !ok {
		return cifarBatch{}, keyErr("labels", "missing: not a CIFAR-10 batch")
	}
	l, ok := lv.(*pyList)
	if !ok {
		return cifarBatch{}, keyErr("labels", "is %s, want a list of ints", typeName(lv))
	}
	if len(l.items) != n {
		return cifarBatch{}, keyErr("labels", "%d labels for the %d images of key \"data\"", len(l.items), n)
	}
	labels := make([]byte, n)
	for i, it := range l.items {
		y, ok := it.(int64)
		if !ok || y < 0 || y >= int64(len(cifarClasses)) {
			return cifarBatch{}, keyErr("labels", "item %d is %s, want an int in [0,%d)", i, pyRepr(it), len(cifarClasses))
		}
		labels[i] = byte(y)
	}
	return cifarBatch{name: name, n: n, labels: labels, px: a.raw, stride: cifarPixels}, nil
}

// peekCIFARPickle counts the images of a cifar-10-batches-py batch of size
// bytes from its head, the first len(head) bytes, without the pixels: it
// runs the pickle up to the BINSTRING of the pixels, which in a batch as
// cPickle writes it follows the array's shape and dtype, and checks what
// it has seen so far as parseCIFARPickle would. ok is false, with a nil
// error, when the head does not reach that point or the pickle takes
// another form before it: then only parsing the whole file can tell. An
// error is the one parseCIFARPickle would give for the same file.
func peekCIFARPickle(head []byte, size int64, name string) (n int, ok bool, err error) {
	if int64(len(head)) >= size {
		c, err := parseCIFARPickle(head[:size], name)
		return c.n, err == nil, err
	}
	u := newUnpickler(head, size, name)
	_, err = u.run()
	if !errors.Is(err, errHeadEnd) {
		if err == nil { // not reached: run reads to the end of the file
			err = badData(name, -1, "pickle ends early")
		}
		return 0, false, err
	}
	// The stack is [dict, MARK, 'data', ndarray, MARK, 1, (n, 3072),
	// dtype('u1'), False] when the BINSTRING of n*3072 pixel bytes is next.
	if len(u.b) < u.op+5 || u.b[u.op] != opBinstring || len(u.marks) != 2 {
		return 0, false, nil
	}
	m := u.bottom()
	st := u.stack[m:]
	if m < 2 || len(st) != 4 {
		return 0, false, nil
	}
	if k, ok := u.stack[m-2].(pyStr); !ok || string(k) != "data" {
		return 0, false, nil
	}
	if a, ok := u.stack[m-1].(*pyArray); !ok || a.built {
		return 0, false, nil
	}
	shape, ok1 := st[1].(pyTuple)
	dt, ok2 := st[2].(*pyDtype)
	fortran, ok3 := st[3].(bool)
	if !ok1 || !ok2 || !ok3 || !dt.built || fortran || len(shape) != 2 {
		return 0, false, nil
	}
	rows, ok1 := shape[0].(int64)
	cols, ok2 := shape[1].(int64)
	if !ok1 || !ok2 || cols != cifarPixels || rows < 1 || rows > cifarBatchMax {
		return 0, false, nil
	}
	if l := binary.LittleEndian.Uint32(u.b[u.op+1:]); int64(l) != rows*cols {
		return 0, false, nil
	}
	return int(rows), true, nil
}
