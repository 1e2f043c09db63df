package main

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
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

// npyDescr is the numpy type string of a tensor's dtype.
var npyDescr = map[string]string{"float32": "<f4", "float64": "<f8"}

// npyHeader returns the .npy v1.0 preamble and header of an array.
func npyHeader(dtype string, shape []int) ([]byte, error) {
	descr, ok := npyDescr[dtype]
	if !ok {
		return nil, fmt.Errorf("dtype %q has no .npy equivalent", dtype)
	}
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

// writeNPZ writes m's tensors to w as an .npz archive, each entry dated
// modified (so the same weights give the same bytes).
func writeNPZ(w io.Writer, m *results.Model, modified time.Time) error {
	zw := zip.NewWriter(w)
	for _, t := range m.Tensors {
		h, err := npyHeader(t.DType, t.Shape)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		fh := &zip.FileHeader{Name: t.Name + ".npy", Method: zip.Store, Modified: modified.UTC()}
		f, err := zw.CreateHeader(fh)
		if err != nil {
			return err
		}
		if _, err := f.Write(h); err != nil {
			return err
		}
		if _, err := f.Write(t.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
