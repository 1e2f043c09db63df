package data

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// CIFAR-10 as users download it: cifar-10-python.tar.gz, whose
// cifar-10-batches-py/ folder holds data_batch_1 .. data_batch_5,
// test_batch, batches.meta and readme.html, or cifar-10-binary.tar.gz,
// whose cifar-10-batches-bin/ holds the .bin batches, batches.meta.txt and
// readme.html. The archive is read in one pass, as a stream, with nothing
// extracted to disk: each batch member is read into memory as it comes (in
// whatever order the archive has them) and parsed; other members are
// skipped. The archive may be gzip-compressed or plain, under any name:
// its first bytes decide.

// tarBatch is a member of a tar archive that is a CIFAR-10 batch file.
type tarBatch struct {
	i      int // training batch 1..5, or 0 for the test batch
	binary bool
	member string // its name in the archive
	size   int64
}

// slot is the batch's index in the order training batches 1..5, test.
func (b tarBatch) slot() int { return (b.i + cifarBatches) % (cifarBatches + 1) }

// memberName names member of archive in errors.
func memberName(archive, member string) string { return archive + ":" + member }

// cifarBatchName reports whether base is the name of a batch file, and
// which: data_batch_1 .. data_batch_5 or test_batch, with .bin for the
// binary format.
func cifarBatchName(base string) (i int, binary, ok bool) {
	name, binary := strings.CutSuffix(base, ".bin")
	if name == "test_batch" {
		return 0, binary, true
	}
	if d, ok := strings.CutPrefix(name, "data_batch_"); ok && len(d) == 1 && d[0] >= '1' && d[0] <= '0'+cifarBatches {
		return int(d[0] - '0'), binary, true
	}
	return 0, false, false
}

// walkCIFARTar reads the tar archive r (gzip-compressed if gz) once, to
// its end, and calls visit for each member that is a CIFAR-10 batch file
// (named as cifarBatchName says, in any folder) with a reader of its
// bytes, valid until visit returns; visit need not read them all. Other
// members are skipped. It checks that the batch members are regular
// files, all of one format, each there once, and all six there, and
// returns them in the order training batches 1..5, test batch.
//
// It checks ctx before each member; visit checks it while reading one.
func walkCIFARTar(ctx context.Context, r io.Reader, archive string, gz bool, visit func(tarBatch, io.Reader) error) ([]tarBatch, error) {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, tarErr(archive, "at its start", err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	found := make([]tarBatch, cifarBatches+1)
	var first *tarBatch // the first batch met: its format is the archive's
	var others []string // the first few other members, for errors
	members := 0
	where := "before its first member"
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) && hdr != nil {
			err = nil // nothing is extracted: a member's name is only a name
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, tarErr(archive, where, err)
		}
		members++
		where = fmt.Sprintf("in member %q or the header after it", hdr.Name)
		i, binary, ok := cifarBatchName(path.Base(hdr.Name))
		if !ok {
			if hdr.Typeflag != tar.TypeDir && len(others) < 4 {
				others = append(others, hdr.Name)
			}
			continue
		}
		b := tarBatch{i: i, binary: binary, member: hdr.Name, size: hdr.Size}
		switch {
		case hdr.Typeflag != tar.TypeReg:
			return nil, badData(memberName(archive, hdr.Name), -1, "%s; want a CIFAR-10 batch file", tarTypeName(hdr.Typeflag))
		case first != nil && binary != first.binary:
			return nil, badData(archive, -1, "holds batches of both formats, %q and %q: want an archive of one", first.member, hdr.Name)
		case found[b.slot()].member != "":
			return nil, badData(archive, -1, "holds %s twice: %q and %q", cifarFile(i, binary), found[b.slot()].member, hdr.Name)
		}
		found[b.slot()] = b
		if first == nil {
			first = &found[b.slot()]
		}
		if err := visit(b, tr); err != nil {
			return nil, tarErr(archive, fmt.Sprintf("in member %q", hdr.Name), err)
		}
	}
	if gz {
		// The tar stream ends before the gzip stream: read the rest (the
		// last record's padding) to check the gzip trailer.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, tarErr(archive, "after its last member", err)
		}
	}
	if first == nil {
		held := ""
		if len(others) > 0 {
			held = ", " + strings.Join(others, ", ")
			if members > len(others) {
				held += ", ..."
			}
		}
		return nil, fmt.Errorf("data: cifar10: archive %q (%d members%s) holds no CIFAR-10 batch: want %s/data_batch_1 .. data_batch_5 and test_batch, or %s/ with the same .bin files: %w",
			archive, members, held, cifarPythonDir, cifarBinaryDir, ErrNotFound)
	}
	for i, b := range found {
		if b.member == "" {
			want := path.Join(path.Dir(first.member), cifarFile((i+1)%(cifarBatches+1), first.binary))
			return nil, fmt.Errorf("data: cifar10: archive %q has no member %s, next to its %s: %w", archive, want, first.member, ErrNotFound)
		}
	}
	return found, nil
}

// tarErr describes err, met while reading the archive at where; errors
// of this package and the context's pass as they are.
func tarErr(archive, where string, err error) error {
	var ce flate.CorruptInputError
	switch {
	case isDataErr(err), isCanceled(err):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badData(archive, -1, "truncated: the archive breaks off %s", where)
	case errors.As(err, &ce), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return badData(archive, -1, "corrupt gzip stream (found %s): %v", where, err)
	case errors.Is(err, tar.ErrHeader):
		return badData(archive, -1, "bad tar header %s: %v", where, err)
	}
	return fmt.Errorf("data: read %q: %w", archive, err)
}

// tarTypeName says what kind of member a tar type flag marks.
func tarTypeName(t byte) string {
	switch t {
	case tar.TypeDir:
		return "a directory"
	case tar.TypeSymlink:
		return "a symbolic link"
	case tar.TypeLink:
		return "a hard link"
	}
	return fmt.Sprintf("a member of tar type %q, not a regular file", t)
}

// readMember reads the next size bytes of r, checking ctx between chunks
// of 1 MiB. It allocates as the bytes arrive: 8 MiB at first, then four
// times as much each time that is full, up to size. So a header that
// claims a large member makes it allocate no more than 8 MiB or four times
// what the archive holds, and a 30 MB batch costs one 8 MiB buffer more
// than its own.
func readMember(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	const (
		chunk = 1 << 20
		first = 8 << 20
	)
	buf := make([]byte, 0, min(size, first))
	for int64(len(buf)) < size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(size, 4*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+min(chunk, cap(buf)-len(buf))])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// readCIFARTar reads and parses the six batches of the CIFAR-10 tar
// archive r (gzip-compressed if gz), named archive in errors. Each batch
// is held in memory from when its member is met: at most one copy of the
// batches, as from a folder.
func readCIFARTar(ctx context.Context, r io.Reader, archive string, gz bool) ([]cifarBatch, error) {
	batches := make([]cifarBatch, cifarBatches+1)
	_, err := walkCIFARTar(ctx, r, archive, gz, func(b tarBatch, r io.Reader) error {
		name := memberName(archive, b.member)
		if _, err := checkCIFARSize(name, b.size, b.binary); err != nil {
			return err
		}
		buf, err := readMember(ctx, r, b.size)
		if err != nil {
			return err
		}
		parse := parseCIFARPickle
		if b.binary {
			parse = parseCIFARBinary
		}
		batches[b.slot()], err = parse(buf, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return batches, nil
}

// readCIFARTarFile reads the batches of the archive loc.
func readCIFARTarFile(ctx context.Context, loc cifarLocation) ([]cifarBatch, error) {
	f, err := os.Open(loc.path)
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	defer f.Close()
	return readCIFARTar(ctx, f, loc.path, loc.gz)
}
