package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// This file reads bbolt's own page format, with bounds checks, before bbolt
// maps a file. bbolt trusts every page it reads: on damaged pages it reads
// outside the file (a fault), panics, or loops without end, and its
// consistency check (Tx.Check) runs in a goroutine of its own, where none of
// that can be recovered. So a Store checks the meta pages of every file it
// opens (vetFile: a truncated file is refused before bbolt touches a page
// past its end), and walks every page reachable from the root (walkPages)
// before it lets Tx.Check or a run's first write loose on the file.
//
// The format mirrors go.etcd.io/bbolt/internal/common (page.go, meta.go,
// inlinebucket.go), format version 2, unchanged since bolt 1.0; integers
// are in the machine's byte order, as bbolt writes its structs. The layout
// of the results database on top of it is schema.go's.
//
//	page         header: id u64, flags u16, count u16, overflow u32;
//	             a page spans 1+overflow pages of the meta's page size
//	branch page  count elements: pos u32, ksize u32, child pgid u64;
//	             an element's key is at the element's offset + pos
//	leaf page    count elements: flags u32, pos u32, ksize u32, vsize u32;
//	             key at the element's offset + pos, value right after it
//	bucket       a leaf value with flag bucketLeafFlag: root pgid u64,
//	             sequence u64; root 0 means the bucket's leaf page follows
//	             inline, in the value
//	meta         pages 0 and 1, after the header: magic u32, version u32,
//	             page size u32, flags u32, root bucket (16 bytes), freelist
//	             pgid u64, high water mark pgid u64, txid u64, FNV-64a
//	             checksum of the 56 bytes before it
//	freelist     count free pgids u64 (when count is 0xFFFF, the first u64
//	             is the count)
const (
	pageHeaderSize   = 16
	pageElementSize  = 16
	bucketHeaderSize = 16
	metaSize         = 64
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxPageSize      = 1 << 20
)

var native = binary.NativeEndian

// boltMeta is the part of a meta page a check needs.
type boltMeta struct {
	pageSize uint64
	root     uint64 // the root bucket's page
	freelist uint64 // noFreelist if the freelist is not stored
	hwm      uint64 // the high water mark: pages 0..hwm-1 are in use or free
	txid     uint64
}

// parseMeta decodes the meta page p (from its header on), or reports that
// it is not a valid meta page.
func parseMeta(p []byte) (boltMeta, bool) {
	if len(p) < pageHeaderSize+metaSize {
		return boltMeta{}, false
	}
	m := p[pageHeaderSize : pageHeaderSize+metaSize]
	h := fnv.New64a()
	h.Write(m[:56])
	if native.Uint32(m[0:]) != boltMagic || native.Uint32(m[4:]) != boltVersion || h.Sum64() != native.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{
		pageSize: uint64(native.Uint32(m[8:])),
		root:     native.Uint64(m[16:]),
		freelist: native.Uint64(m[32:]),
		hwm:      native.Uint64(m[40:]),
		txid:     native.Uint64(m[48:]),
	}, true
}

// readMeta returns the meta page bbolt will use: the valid one of pages 0
// and 1 with the higher transaction id. ok is false if neither is valid
// (bbolt then refuses the file itself, with ErrInvalid or ErrChecksum).
func readMeta(f io.ReaderAt, size int64) (m boltMeta, ok bool, err error) {
	buf := make([]byte, pageHeaderSize+metaSize)
	read := func(off int64) (boltMeta, bool, error) {
		if off+int64(len(buf)) > size {
			return boltMeta{}, false, nil
		}
		if _, err := f.ReadAt(buf, off); err != nil {
			return boltMeta{}, false, err
		}
		m, ok := parseMeta(buf)
		return m, ok, nil
	}
	m0, ok0, err := read(0)
	if err != nil {
		return m, false, err
	}
	var m1 boltMeta
	var ok1 bool
	if ok0 {
		m1, ok1, err = read(int64(m0.pageSize))
	} else {
		// Page 0 is damaged: find page 1 at the page sizes bbolt tries.
		for i := 0; i <= 6 && !ok1 && err == nil; i++ {
			off := int64(1024) << i
			if m1, ok1, err = read(off); ok1 && m1.pageSize != uint64(off) {
				ok1 = false
			}
		}
	}
	if err != nil {
		return m, false, err
	}
	switch {
	case ok0 && ok1:
		if m1.txid > m0.txid {
			return m1, true, nil
		}
		return m0, true, nil
	case ok0:
		return m0, true, nil
	case ok1:
		return m1, true, nil
	}
	return m, false, nil
}

// vetFile checks the meta pages of the open bbolt file f of size bytes:
// the page size is sane, the file holds every page up to the high water
// mark (a truncated file is refused here, where bbolt would fault reading
// past its end), and the root and freelist pages are within it. It walks
// every page (walkPages) when walk says so for the meta page m bbolt will
// use, and always when the file keeps no freelist (bbolt would then rebuild
// it walking the pages in a goroutine that crashes the process on a
// damaged page); walked reports that it did, and found the pages whole. A
// file whose meta pages are both invalid is left to bbolt, which refuses
// it.
func vetFile(f *os.File, size int64, walk func(m boltMeta) bool) (walked bool, m boltMeta, err error) {
	m, ok, err := readMeta(f, size)
	if err != nil || !ok {
		return false, m, err
	}
	if problems := vetMeta(m, size); len(problems) > 0 {
		return false, m, &CorruptError{Problems: problems}
	}
	if m.freelist != noFreelist && !walk(m) {
		// bbolt reads the freelist of every file it opens for writing,
		// allocating what its header says.
		problem, err := vetFreelist(f, m)
		if err == nil && problem != "" {
			err = &CorruptError{Problems: []string{problem}}
		}
		return false, m, err
	}
	data, unmap := mapFile(f, size)
	defer unmap()
	problems, err := walkPages(f, data, m)
	if err == nil && len(problems) > 0 {
		err = &CorruptError{Problems: problems}
	}
	return err == nil, m, err
}

// vetFreelist checks the header of m's freelist page: its type, and that
// the count of free pages fits in the page and its overflow.
func vetFreelist(f io.ReaderAt, m boltMeta) (problem string, err error) {
	var h [pageHeaderSize + 8]byte
	if _, err := f.ReadAt(h[:], int64(m.freelist*m.pageSize)); err != nil {
		return "", err
	}
	flags, count, overflow := native.Uint16(h[8:]), uint64(native.Uint16(h[10:])), uint64(native.Uint32(h[12:]))
	start := uint64(pageHeaderSize)
	if count == 0xFFFF {
		start += 8
		count = native.Uint64(h[pageHeaderSize:])
	}
	switch extent := (1 + overflow) * m.pageSize; {
	case flags != freelistPageFlag:
		return fmt.Sprintf("freelist: page %d has type %#x", m.freelist, flags), nil
	case m.freelist+overflow >= m.hwm || overflow > m.hwm:
		return fmt.Sprintf("freelist: page %d and its %d overflow pages are not within pages 2..%d", m.freelist, overflow, m.hwm-1), nil
	case count > (extent-start)/8:
		return fmt.Sprintf("freelist: page %d: %d free pages do not fit in %d bytes", m.freelist, count, extent), nil
	}
	return "", nil
}

func vetMeta(m boltMeta, size int64) []string {
	if m.pageSize < 512 || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return []string{fmt.Sprintf("meta page: page size %d", m.pageSize)}
	}
	pages := uint64(size) / m.pageSize
	if m.hwm < 3 || m.hwm > pages {
		if m.hwm > pages {
			return []string{fmt.Sprintf("truncated: the file has %d bytes, its %d pages of %d bytes need %d", size, m.hwm, m.pageSize, m.hwm*m.pageSize)}
		}
		return []string{fmt.Sprintf("meta page: %d pages in use", m.hwm)}
	}
	var problems []string
	if m.root < 2 || m.root >= m.hwm {
		problems = append(problems, fmt.Sprintf("meta page: root page %d is not within pages 2..%d", m.root, m.hwm-1))
	}
	if m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm) {
		problems = append(problems, fmt.Sprintf("meta page: freelist page %d is not within pages 2..%d", m.freelist, m.hwm-1))
	}
	return problems
}

// pageWalk walks a file's pages; see walkPages.
type pageWalk struct {
	f        io.ReaderAt
	data     []byte // f's bytes, when mapped: read without copying
	m        boltMeta
	seen     []uint64 // bitmap of the pages reached
	problems []string
	err      error // an error reading the file: the walk stops
}

// walkPages checks, with bounds checks and without trusting any of it, the
// pages of f reachable from the meta page m: the freelist page, then every
// bucket's pages, depth first. Every page and its overflow lie below the
// high water mark and are reached once (so there is no cycle), has the
// right type and a header naming it, every element lies within its page,
// keys are in the order bbolt's Tx.Check demands, and every bucket value
// (and inline bucket) is well formed. It returns the problems found. A
// file that passes can be given to bbolt's Tx.Check, and read with
// cursors, without a fault or an endless loop. data, if not nil, is f's
// bytes, mapped (mapFile), and read instead of f. err is an error reading
// f, which stops the walk.
func walkPages(f io.ReaderAt, data []byte, m boltMeta) (problems []string, err error) {
	w := &pageWalk{f: f, data: data, m: m, seen: make([]uint64, (m.hwm+63)/64)}
	w.mark(0, 1)
	if m.freelist != noFreelist {
		w.freelist(m.freelist)
	}
	w.page(m.root, nil, nil, "root bucket")
	return w.problems, w.err
}

func (w *pageWalk) problem(format string, args ...any) {
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
}

// mark records pages id..last as reached; false if one was reached before
// or lies beyond the high water mark.
func (w *pageWalk) mark(id, last uint64) bool {
	if last < id || last >= w.m.hwm {
		return false
	}
	for p := id; p <= last; p++ {
		if w.seen[p/64]&(1<<(p%64)) != 0 {
			return false
		}
	}
	for p := id; p <= last; p++ {
		w.seen[p/64] |= 1 << (p % 64)
	}
	return true
}

// read returns n bytes of the file from page id on.
func (w *pageWalk) read(id uint64, n uint64) ([]byte, bool) {
	if w.err != nil {
		return nil, false
	}
	off := id * w.m.pageSize
	if w.data != nil {
		if off > uint64(len(w.data)) || n > uint64(len(w.data))-off {
			w.err = fmt.Errorf("page %d: %d bytes beyond the mapping", id, n)
			return nil, false
		}
		return w.data[off : off+n : off+n], true
	}
	b := make([]byte, n)
	if _, err := w.f.ReadAt(b, int64(off)); err != nil {
		w.err = err
		return nil, false
	}
	return b, true
}

// header reads page id's header and first page; it checks that the page
// and its overflow lie within the file and were not reached before.
func (w *pageWalk) header(id uint64, what string) (p []byte, flags uint16, count int, extent uint64, ok bool) {
	if id < 2 || id >= w.m.hwm {
		w.problem("%s: page %d is not within pages 2..%d", what, id, w.m.hwm-1)
		return nil, 0, 0, 0, false
	}
	p, ok = w.read(id, w.m.pageSize)
	if !ok {
		return nil, 0, 0, 0, false
	}
	overflow := uint64(native.Uint32(p[12:]))
	if hid := native.Uint64(p[0:]); hid != id {
		w.problem("%s: page %d: its header says page %d", what, id, hid)
		return nil, 0, 0, 0, false
	}
	if !w.mark(id, id+overflow) {
		w.problem("%s: page %d (and %d overflow pages): reached twice, or beyond page %d", what, id, overflow, w.m.hwm-1)
		return nil, 0, 0, 0, false
	}
	return p, native.Uint16(p[8:]), int(native.Uint16(p[10:])), (1 + overflow) * w.m.pageSize, true
}

// extend returns p grown to n bytes of page id, whose extent is extent.
func (w *pageWalk) extend(p []byte, id, n, extent uint64) ([]byte, bool) {
	if n <= uint64(len(p)) {
		return p, true
	}
	if n > extent {
		return nil, false
	}
	return w.read(id, n)
}

func (w *pageWalk) freelist(id uint64) {
	p, flags, count, extent, ok := w.header(id, "freelist")
	if !ok {
		return
	}
	if flags != freelistPageFlag {
		w.problem("freelist: page %d has type %#x", id, flags)
		return
	}
	start, n := uint64(pageHeaderSize), uint64(count)
	if count == 0xFFFF {
		start += 8
		n = native.Uint64(p[pageHeaderSize:])
	}
	if n > (extent-start)/8 {
		w.problem("freelist: page %d: %d free pages do not fit in %d bytes", id, n, extent)
		return
	}
	if p, ok = w.extend(p, id, start+n*8, extent); !ok {
		return
	}
	bad := 0
	for i := range n {
		if free := native.Uint64(p[start+8*i:]); free < 2 || free >= w.m.hwm {
			bad++
		}
	}
	if bad > 0 {
		w.problem("freelist: page %d: %d of %d free pages are not within pages 2..%d", id, bad, n, w.m.hwm-1)
	}
}

// page walks the tree of pages rooted at id, whose keys must lie within
// [lo, hi) (nil: unbounded), as bbolt's Tx.Check requires. It returns the
// largest key in the tree (a copy), for the caller's order check.
func (w *pageWalk) page(id uint64, lo, hi []byte, what string) []byte {
	p, flags, count, extent, ok := w.header(id, what)
	if !ok {
		return nil
	}
	switch flags {
	case branchPageFlag, leafPageFlag:
	default:
		w.problem("%s: page %d has type %#x, not a branch or leaf page", what, id, flags)
		return nil
	}
	end := uint64(pageHeaderSize + count*pageElementSize)
	if p, ok = w.extend(p, id, end, extent); !ok {
		w.problem("%s: page %d: %d elements do not fit in %d bytes", what, id, count, extent)
		return nil
	}
	// The keys and values lie after the elements; read as far as the
	// furthest reaches.
	for i := range count {
		e := p[pageHeaderSize+i*pageElementSize:]
		off := uint64(pageHeaderSize + i*pageElementSize)
		if flags == branchPageFlag {
			end = max(end, off+uint64(native.Uint32(e[0:]))+uint64(native.Uint32(e[4:])))
		} else {
			end = max(end, off+uint64(native.Uint32(e[4:]))+uint64(native.Uint32(e[8:]))+uint64(native.Uint32(e[12:])))
		}
	}
	if p, ok = w.extend(p, id, end, extent); !ok {
		w.problem("%s: page %d: an element reaches byte %d of a %d-byte page", what, id, end, extent)
		return nil
	}
	if flags == branchPageFlag {
		return w.branch(id, p, count, lo, hi, what)
	}
	return w.leaf(fmt.Sprintf("page %d", id), p, count, lo, hi, what)
}

func (w *pageWalk) branch(id uint64, p []byte, count int, lo, hi []byte, what string) []byte {
	if count == 0 {
		w.problem("%s: page %d: a branch page without elements", what, id)
		return nil
	}
	key := func(i int) []byte {
		e := p[pageHeaderSize+i*pageElementSize:]
		off := pageHeaderSize + i*pageElementSize + int(native.Uint32(e[0:]))
		return p[off : off+int(native.Uint32(e[4:]))]
	}
	prev := lo
	var last []byte
	for i := range count {
		k := key(i)
		if !w.inOrder(i, k, prev, hi) {
			w.problem("%s: page %d: key %d (%x) is out of order", what, id, i, k)
			return nil
		}
		next := hi
		if i < count-1 {
			next = key(i + 1)
		}
		child := native.Uint64(p[pageHeaderSize+i*pageElementSize+8:])
		last = w.page(child, bytes.Clone(k), bytes.Clone(next), what)
		if last == nil {
			last = bytes.Clone(k)
		}
		prev = last
	}
	return last
}

// printable is k as text if it is printable ASCII, else in hex.
func printable(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", k)
		}
	}
	return string(k)
}

// inOrder is bbolt's verifyKeyOrder: the first key is at least prev (the
// lower bound), later ones above prev (the previous key), all below hi.
func (w *pageWalk) inOrder(i int, k, prev, hi []byte) bool {
	if prev != nil {
		c := bytes.Compare(prev, k)
		if c > 0 || (i > 0 && c == 0) {
			return false
		}
	}
	return hi == nil || bytes.Compare(k, hi) < 0
}

// leaf checks the count elements of the leaf page p (a page of the file,
// or an inline bucket's page), named where, and walks the buckets it holds.
func (w *pageWalk) leaf(where string, p []byte, count int, lo, hi []byte, what string) []byte {
	prev := lo
	for i := range count {
		off := pageHeaderSize + i*pageElementSize
		e := p[off:]
		flags := native.Uint32(e[0:])
		ks := off + int(native.Uint32(e[4:]))
		vs := ks + int(native.Uint32(e[8:]))
		k, v := p[ks:vs], p[vs:vs+int(native.Uint32(e[12:]))]
		if !w.inOrder(i, k, prev, hi) {
			w.problem("%s: %s: key %d (%x) is out of order", what, where, i, k)
			return nil
		}
		prev = k
		if flags&bucketLeafFlag != 0 {
			w.bucket(where, k, v, what)
		}
	}
	return bytes.Clone(prev)
}

// bucket checks the bucket value v stored under key k, and walks its pages.
func (w *pageWalk) bucket(where string, k, v []byte, what string) {
	name := fmt.Sprintf("%s/%s", what, printable(k))
	if what == "root bucket" {
		name = fmt.Sprintf("bucket %s", printable(k))
	}
	if len(v) < bucketHeaderSize {
		w.problem("%s: %s: bucket value of %d bytes", name, where, len(v))
		return
	}
	if root := native.Uint64(v); root != 0 {
		w.page(root, nil, nil, name)
		return
	}
	// An inline bucket: its leaf page is in the value.
	p := v[bucketHeaderSize:]
	if len(p) < pageHeaderSize {
		w.problem("%s: %s: inline bucket of %d bytes", name, where, len(p))
		return
	}
	flags, count := native.Uint16(p[8:]), int(native.Uint16(p[10:]))
	if flags != leafPageFlag {
		w.problem("%s: %s: inline bucket page has type %#x", name, where, flags)
		return
	}
	if pageHeaderSize+count*pageElementSize > len(p) {
		w.problem("%s: %s: inline bucket's %d elements do not fit in %d bytes", name, where, count, len(p))
		return
	}
	for i := range count {
		off := pageHeaderSize + i*pageElementSize
		e := p[off:]
		end := uint64(off) + uint64(native.Uint32(e[4:])) + uint64(native.Uint32(e[8:])) + uint64(native.Uint32(e[12:]))
		if end > uint64(len(p)) {
			w.problem("%s: %s: inline bucket element %d reaches byte %d of %d", name, where, i, end, len(p))
			return
		}
	}
	w.leaf(where+" (inline)", p, count, nil, nil, name)
}
