package data

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// IDX is the file format of MNIST and Fashion-MNIST: a big-endian header
// (two zero bytes, a type byte, the number of dimensions, then each
// dimension as a uint32) followed by the items, row-major. Only the type
// 0x08 (unsigned byte) is used by these data sets and accepted here. Files
// may be gzip-compressed; the gzip magic number decides, not the name.
//
// Decompression uses github.com/klauspost/compress/gzip, a drop-in for the
// standard library's that inflates Fashion-MNIST's 26 MB training images
// about a quarter faster (155 vs 210 ms here): the largest part of a load,
// and what keeps it ahead of the numpy yardstick (see README.md).

const (
	idxUbyte    = 0x08
	maxItemSize = 1 << 20 // bytes in one item (one image): far above 28x28
)

// idxReader streams the items of one IDX file.
type idxReader struct {
	name     string    // file name, for errors
	r        io.Reader // the uncompressed stream
	gz       bool      // whether the file is gzip-compressed
	dims     []int     // dims[0] items of dims[1]*...*dims[n-1] bytes
	itemSize int
	hdrLen   int64
}

// openIDX reads and checks the header of the IDX file r, which must have
// ndim dimensions, and returns a reader positioned at the first item.
func openIDX(r io.Reader, name string, ndim int) (*idxReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	x := &idxReader{name: name, r: br}
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, badData(name, 0, "gzip header: %v", err)
		}
		x.r, x.gz = z, true
	}
	var hdr [4]byte
	if _, err := io.ReadFull(x.r, hdr[:]); err != nil {
		return nil, x.readErr(0, err, "the 4-byte magic number")
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	want := uint32(idxUbyte)<<8 | uint32(ndim)
	if magic != want {
		return nil, x.bad(0, "magic number 0x%08x, want 0x%08x (IDX of unsigned bytes, %d-dimensional)", magic, want, ndim)
	}
	x.hdrLen = 4 + 4*int64(ndim)
	dims := make([]byte, 4*ndim)
	if _, err := io.ReadFull(x.r, dims); err != nil {
		return nil, x.readErr(4, err, fmt.Sprintf("the %d dimensions", ndim))
	}
	x.itemSize = 1
	for i := range ndim {
		v := binary.BigEndian.Uint32(dims[4*i:])
		x.dims = append(x.dims, int(v))
		if i == 0 {
			continue
		}
		if v == 0 || uint64(x.itemSize)*uint64(v) > maxItemSize {
			return nil, x.bad(int64(4+4*i), "dimension %d is %d: want 1..%d bytes per item", i, v, maxItemSize)
		}
		x.itemSize *= int(v)
	}
	return x, nil
}

// bad returns an ErrBadData error at offset off of the file; for a
// gzip-compressed file the offset is in the uncompressed stream.
func (x *idxReader) bad(off int64, format string, args ...any) error {
	if x.gz {
		return badData(x.name, -1, "uncompressed offset %d: %s", off, fmt.Sprintf(format, args...))
	}
	return badData(x.name, off, format, args...)
}

// count is the number of items the header declares.
func (x *idxReader) count() int { return x.dims[0] }

// itemOffset is the offset of item i in the uncompressed file.
func (x *idxReader) itemOffset(i int) int64 { return x.hdrLen + int64(i)*int64(x.itemSize) }

// readErr describes err, met while reading what at uncompressed offset off.
func (x *idxReader) readErr(off int64, err error, what string) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return x.bad(off, "truncated: file ends before %s", what)
	case errors.As(err, &ce), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return x.bad(off, "corrupt gzip stream: %v", err)
	}
	return fmt.Errorf("data: read %q: %w", x.name, err)
}

// each reads every item of the file, in order, and passes them to fn in
// chunks of whole items: items[k*itemSize:(k+1)*itemSize] is item first+k.
// Once fn has seen the first n items (n <= count), the rest are read and
// discarded. each then checks that the file ends exactly after the items
// its header declares. It stops at the first error of fn, of the file or
// of ctx.
//
// Reading (and gunzip) runs in a goroutine of its own, one chunk ahead of
// fn, so that decompression and conversion overlap.
func (x *idxReader) each(ctx context.Context, n int, fn func(first int, items []byte) error) error {
	type chunk struct {
		first int
		b     []byte
		err   error // the reader's final status when b is nil
	}
	per := max(1, (1<<18)/x.itemSize) // items per chunk
	const nbuf = 3
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, per*x.itemSize)
	}
	full := make(chan chunk, nbuf)
	done := make(chan struct{})   // closed when fn is done with the chunks
	exited := make(chan struct{}) // closed when the reader has returned
	defer func() { close(done); <-exited }()
	go func() {
		defer close(exited)
		defer close(full)
		send := func(c chunk) bool {
			select {
			case full <- c:
				return true
			case <-done:
				return false
			}
		}
		for first := 0; first < x.count(); first += per {
			var buf []byte
			select {
			case buf = <-free:
			case <-done:
				return
			}
			k := min(per, x.count()-first)
			buf = buf[:k*x.itemSize]
			if got, err := io.ReadFull(x.r, buf); err != nil {
				send(chunk{err: x.readErr(x.itemOffset(first)+int64(got), err,
					fmt.Sprintf("the %d items of %d bytes its header declares", x.count(), x.itemSize))})
				return
			}
			if !send(chunk{first: first, b: buf}) {
				return
			}
		}
		send(chunk{err: x.checkEnd()})
	}()
	for c := range full {
		if c.b == nil {
			return c.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.first < n {
			if err := fn(c.first, c.b[:min(len(c.b)/x.itemSize, n-c.first)*x.itemSize]); err != nil {
				return err
			}
		}
		free <- c.b[:cap(c.b)]
	}
	return nil // not reached: the reader always ends with a status
}

// checkSize checks, before anything is allocated for the items, that the
// file f has the size the header declares: a raw file by its size, a gzip
// file by the uncompressed size (mod 2^32) in its trailer (so a gzip file
// must be one member, as every distributed IDX file is). It returns nil if
// f cannot tell (no Stat or ReadAt).
func (x *idxReader) checkSize(f io.Reader) error {
	st, ok1 := f.(interface{ Stat() (fs.FileInfo, error) })
	ra, ok2 := f.(io.ReaderAt)
	if !ok1 || !ok2 {
		return nil
	}
	fi, err := st.Stat()
	if err != nil {
		return nil
	}
	want := x.itemOffset(x.count())
	if !x.gz {
		switch size := fi.Size(); {
		case size < want:
			return x.bad(size, "truncated: the header declares %d items of %d bytes, the file ends after %d", x.count(), x.itemSize, (size-x.hdrLen)/int64(x.itemSize))
		case size > want:
			return x.bad(want, "oversized: data continues after the %d items its header declares", x.count())
		}
		return nil
	}
	var trailer [4]byte
	if fi.Size() < 18 {
		return badData(x.name, -1, "truncated gzip file of %d bytes", fi.Size())
	}
	if _, err := ra.ReadAt(trailer[:], fi.Size()-4); err != nil {
		return fmt.Errorf("data: read %q: %w", x.name, err)
	}
	if isize := binary.LittleEndian.Uint32(trailer[:]); isize != uint32(want) {
		return badData(x.name, fi.Size()-4, "gzip trailer: %d bytes uncompressed (mod 2^32), but the header declares %d items of %d bytes (%d bytes): truncated, or not one gzip member", isize, x.count(), x.itemSize, want)
	}
	return nil
}

// checkEnd checks that the file ends where its header says.
func (x *idxReader) checkEnd() error {
	end := x.itemOffset(x.count())
	var one [1]byte
	switch got, err := io.ReadFull(x.r, one[:]); {
	case got > 0:
		return x.bad(end, "oversized: data continues after the %d items its header declares", x.count())
	case err != io.EOF:
		return x.readErr(end, err, "the end of the gzip stream")
	}
	return nil
}
