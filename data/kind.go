package data

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// What a path is, told from its first bytes: for the errors about a path of
// the wrong kind ("a zip archive; want a directory holding ..."), and to
// tell a CIFAR-10 tarball from other files.

// sniffLen is how many bytes sniff looks at: one tar header block.
const sniffLen = 512

// fileKind is what the first bytes of a file say it is.
type fileKind struct {
	desc string // with its article: "a zip archive", "an IDX file (60000 items of 28x28)"
	tar  bool   // a tar archive, plain or gzip-compressed
	idx  bool   // an IDX file, plain or gzip-compressed
	gz   bool   // gzip-compressed
}

// sniffPath tells what the regular file p is. It reads its first sniffLen
// bytes (for a gzip file, as many as gunzip needs for the first sniffLen
// bytes of the uncompressed stream).
func sniffPath(p string) (fileKind, error) {
	f, err := os.Open(p)
	if err != nil {
		return fileKind{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fileKind{}, err
	}
	return sniff(f, fi.Size())
}

// sniff tells what the file of size bytes that r reads is from its first
// bytes.
func sniff(r io.Reader, size int64) (fileKind, error) {
	head, err := readUpTo(r, sniffLen)
	if err != nil {
		return fileKind{}, err
	}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		var in []byte
		zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(head), r))
		if err == nil {
			in, err = readUpTo(zr, sniffLen)
		}
		if err != nil && len(in) < sniffLen {
			return fileKind{desc: fmt.Sprintf("a corrupt gzip-compressed file (%v)", err), gz: true}, nil
		}
		noun, isTar, isIDX := kindNoun(in)
		if len(in) == 0 {
			noun = "file"
		}
		return fileKind{desc: "a gzip-compressed " + noun, tar: isTar, idx: isIDX, gz: true}, nil
	}
	for _, m := range []struct{ magic, desc string }{
		{"PK\x03\x04", "a zip archive"},
		{"PK\x05\x06", "a zip archive"},
		{"BZh", "a bzip2-compressed file"},
		{"\xfd7zXZ\x00", "an xz-compressed file"},
		{"\x28\xb5\x2f\xfd", "a zstd-compressed file"},
		{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	} {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return fileKind{desc: m.desc}, nil
		}
	}
	if size == 0 {
		return fileKind{desc: "an empty file"}, nil
	}
	noun, isTar, isIDX := kindNoun(head)
	if noun == "file" {
		d := fmt.Sprintf("a file of %d bytes", size)
		if size%cifarRecord == 0 {
			d += fmt.Sprintf(" (the size of %d CIFAR-10 binary records)", size/cifarRecord)
		}
		return fileKind{desc: d}, nil
	}
	article := "a "
	if strings.HasPrefix(noun, "IDX") || strings.HasPrefix(noun, "HTML") {
		article = "an "
	}
	return fileKind{desc: article + noun, tar: isTar, idx: isIDX}, nil
}

// readUpTo reads the first n bytes of r, or all of r if shorter.
func readUpTo(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := io.ReadFull(r, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return b[:k], err
}

// kindNoun names what the (uncompressed) bytes b start like: "tar
// archive", "IDX file (...)", "Python pickle (...)", "HTML page (...)", or
// "file".
func kindNoun(b []byte) (noun string, isTar, isIDX bool) {
	if isTarHeader(b) {
		return "tar archive", true, false
	}
	// IDX: two zero bytes, a type byte, the number of dimensions.
	if len(b) >= 4 && b[0] == 0 && b[1] == 0 && strings.IndexByte("\x08\x09\x0b\x0c\x0d\x0e", b[2]) >= 0 && b[3] >= 1 && b[3] <= 4 {
		nd := int(b[3])
		if len(b) >= 4+4*nd {
			dims := make([]string, nd)
			for i := range dims {
				dims[i] = fmt.Sprint(binary.BigEndian.Uint32(b[4+4*i:]))
			}
			if nd == 1 {
				return fmt.Sprintf("IDX file (%s items)", dims[0]), false, true
			}
			return fmt.Sprintf("IDX file (%s items of %s)", dims[0], strings.Join(dims[1:], "x")), false, true
		}
		return "IDX file", false, true
	}
	if len(b) >= 2 && b[0] == opProto && b[1] >= 2 && b[1] <= 5 {
		return fmt.Sprintf("Python pickle (protocol %d)", b[1]), false, false
	}
	if t := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 64)])); bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html")) {
		return "HTML page (a failed download?)", false, false
	}
	return "file", false, false
}

// isTarHeader reports whether b starts with a tar header block: the
// ustar magic of POSIX and GNU tar, a block of zeros (an empty archive),
// or an old-style header whose checksum archive/tar accepts.
func isTarHeader(b []byte) bool {
	if len(b) < sniffLen {
		return false
	}
	if bytes.HasPrefix(b[257:], []byte("ustar")) {
		return true
	}
	if !slices.ContainsFunc(b[:sniffLen], func(c byte) bool { return c != 0 }) {
		return true // the end-of-archive marker: an empty archive
	}
	_, err := tar.NewReader(bytes.NewReader(b[:sniffLen])).Next()
	return err == nil
}

// describe says what the existing path p, of info fi, is: "a directory",
// "a named pipe", or what sniffPath says of a regular file.
func describe(p string, fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case !m.IsRegular():
		return fmt.Sprintf("not a regular file (mode %v)", m)
	}
	k, err := sniffPath(p)
	if err != nil {
		return fmt.Sprintf("a file that cannot be read (%v)", err)
	}
	return k.desc
}

// wrongKind is the ErrBadData error for a path that exists but is not
// what the source reads: found says what it is, want what was wanted.
func wrongKind(source, p, found, want string) error {
	return fmt.Errorf("data: %s: %q: %s; want %s: %w", source, p, found, want, ErrBadData)
}
