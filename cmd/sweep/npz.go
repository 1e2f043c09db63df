package main

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// The .npz format is what numpy.savez writes: a zip archive (entries
// stored, not compressed) of one .npy file per array, named NAME.npy, which
// numpy.load lists as NAME. A .npy file (format version 1.0) is:
//
//	"\x93NUMPY", major 1, minor 0, header length (uint16 little-endian),
//	header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3072, 50), }
//	padded with spaces and a final '\n' so that the data starts at a
//	multiple of 64 bytes,
//	data: the values, C order, in the byte order descr gives.
//
// results.Tensor already holds little-endian C-order values, so the data is
// copied as it is. The header is written here rather than with a .npy
// library (codeberg.org/sbinet/npyio): it is a dozen lines, and the
// library would convert the bytes to Go slices and back.

// npyArray is one array of an .npz file: its name (without .npy), numpy
// type string ("<f4", "<f8", "<i8", "<U12"), shape (empty: a 0-d array,
// a scalar) and little-endian C-order data.
type npyArray struct {
	name  string
	descr string
	shape []int
	data  []byte
}

// npyDescr is the numpy type string of a tensor's dtype.
var npyDescr = map[string]string{"float32": "<f4", "float64": "<f8"}

// tensorArray is a kept model's tensor as an array.
func tensorArray(t results.Tensor) (npyArray, error) {
	descr, ok := npyDescr[t.DType]
	if !ok {
		return npyArray{}, fmt.Errorf("tensor %s: dtype %q has no .npy equivalent", t.Name, t.DType)
	}
	return npyArray{name: t.Name, descr: descr, shape: t.Shape, data: t.Data}, nil
}

// float32Array is a 1-d float32 array.
func float32Array(name string, v []float32) npyArray {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return npyArray{name: name, descr: "<f4", shape: []int{len(v)}, data: b}
}

// float64Scalar is a 0-d float64 array (NaN for a value not measured).
func float64Scalar(name string, v float64) npyArray {
	return npyArray{name: name, descr: "<f8", data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))}
}

// intArray is a 1-d int64 array.
func intArray(name string, v []int) npyArray {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(x)))
	}
	return npyArray{name: name, descr: "<i8", shape: []int{len(v)}, data: b}
}

// stringArray is an array of unicode strings: numpy's '<U{n}', n UTF-32
// code points per element, zero-padded. shape is nil for a 0-d array of one
// string (np.load(...)["activation"].item() is then a str).
func stringArray(name string, shape []int, v ...string) npyArray {
	n := 1
	for _, s := range v {
		n = max(n, len([]rune(s)))
	}
	b := make([]byte, 0, 4*n*len(v))
	for _, s := range v {
		rs := []rune(s)
		for i := range n {
			var r rune
			if i < len(rs) {
				r = rs[i]
			}
			b = binary.LittleEndian.AppendUint32(b, uint32(r))
		}
	}
	return npyArray{name: name, descr: "<U" + strconv.Itoa(n), shape: shape, data: b}
}

// npyHeader returns the .npy v1.0 preamble and header of an array.
func npyHeader(descr string, shape []int) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	shp := strings.Join(dims, ", ")
	if len(shape) == 1 {
		shp += "," // a Python 1-tuple
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shp)
	const preamble = 10 // magic (6), version (2), header length (2)
	total := (preamble + len(dict) + 1 + 63) / 64 * 64
	hlen := total - preamble
	if hlen > 0xffff {
		return nil, fmt.Errorf("shape %v: .npy header too long", shape)
	}
	b := make([]byte, 0, total)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	b = append(b, dict...)
	for len(b) < total-1 {
		b = append(b, ' ')
	}
	return append(b, '\n'), nil
}

// writeNPZ writes arrays to w as an .npz archive, each entry dated
// modified (so the same weights give the same bytes).
func writeNPZ(w io.Writer, arrays []npyArray, modified time.Time) error {
	zw := zip.NewWriter(w)
	for _, a := range arrays {
		h, err := npyHeader(a.descr, a.shape)
		if err != nil {
			return fmt.Errorf("array %s: %w", a.name, err)
		}
		fh := &zip.FileHeader{Name: a.name + ".npy", Method: zip.Store, Modified: modified.UTC()}
		f, err := zw.CreateHeader(fh)
		if err != nil {
			return err
		}
		if _, err := f.Write(h); err != nil {
			return err
		}
		if _, err := f.Write(a.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
