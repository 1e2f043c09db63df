package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

func TestNPYHeader(t *testing.T) {
	tests := []struct {
		descr string
		shape []int
		dict  string
	}{
		{"<f4", []int{3072, 50}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3072, 50), }"},
		{"<f8", []int{50}, "{'descr': '<f8', 'fortran_order': False, 'shape': (50,), }"},
		{"<f4", []int{}, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"},
		{"<U5", nil, "{'descr': '<U5', 'fortran_order': False, 'shape': (), }"},
	}
	for _, tt := range tests {
		h, err := npyHeader(tt.descr, tt.shape)
		if err != nil {
			t.Fatal(err)
		}
		if len(h)%64 != 0 || !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) || h[len(h)-1] != '\n' {
			t.Errorf("%v: header %q: want the v1.0 magic, a multiple of 64 bytes, a final newline", tt.shape, h)
		}
		if n := int(binary.LittleEndian.Uint16(h[8:])); n != len(h)-10 {
			t.Errorf("%v: header length field %d, want %d", tt.shape, n, len(h)-10)
		}
		if got := strings.TrimRight(string(h[10:]), " \n"); got != tt.dict {
			t.Errorf("%v: dict %q, want %q", tt.shape, got, tt.dict)
		}
	}
}

func TestStringArray(t *testing.T) {
	a := stringArray("class_names", []int{2}, "cat", "Ankle boot")
	if a.descr != "<U10" || len(a.data) != 2*10*4 {
		t.Fatalf("descr %s, %d bytes: want <U10 and 80 bytes", a.descr, len(a.data))
	}
	if got := binary.LittleEndian.Uint32(a.data[40:]); got != 'A' {
		t.Errorf("second string starts with %q, want 'A'", rune(got))
	}
	if got := binary.LittleEndian.Uint32(a.data[12:]); got != 0 {
		t.Errorf("padding after \"cat\" is %d, want 0", got)
	}
}

// TestWriteNPZ reads the archive back in Go: one stored .npy entry per
// tensor, in order, header then the tensor's bytes unchanged.
func TestWriteNPZ(t *testing.T) {
	m := fixtureModel(1)
	var arrays []npyArray
	for _, tn := range m.Tensors {
		a, err := tensorArray(tn)
		if err != nil {
			t.Fatal(err)
		}
		arrays = append(arrays, a)
	}
	var buf bytes.Buffer
	if err := writeNPZ(&buf, arrays, t0); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(m.Tensors) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(m.Tensors))
	}
	for i, f := range zr.File {
		tn := m.Tensors[i]
		if f.Name != tn.Name+".npy" || f.Method != zip.Store || !f.Modified.Equal(t0) {
			t.Errorf("entry %d: %s, method %d, modified %v", i, f.Name, f.Method, f.Modified)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(r); err != nil {
			t.Fatal(err)
		}
		h, _ := npyHeader(npyDescr[tn.DType], tn.Shape)
		if !bytes.Equal(b.Bytes(), append(h, tn.Data...)) {
			t.Errorf("%s: entry is not the header and the tensor's bytes", f.Name)
		}
	}
	var again bytes.Buffer
	if err := writeNPZ(&again, arrays, t0); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("the same weights gave different bytes (%v)", err)
	}
	if _, err := tensorArray(results.Tensor{Name: "W1", DType: "int8"}); err == nil {
		t.Error("int8 tensor: no error")
	}
}
