package data

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Info is what Inspect learns of a data set without loading it.
type Info struct {
	// Options are the normalised options inspected.
	Options Options
	// Source is Options.Source.
	Source string
	// Name and Path are those of the Dataset that Load would return: Path
	// is the directory or archive the files are read from ("" for embedded
	// and synthetic data).
	Name, Path string
	// Files are the files Load reads: the four IDX files, the six CIFAR-10
	// batch files, or the one archive ("embedded:..." names for the
	// embedded data, none for synthetic data).
	Files []string
	// Shape is the shape of one image, as Dataset.Shape; Classes is the
	// number of classes.
	Shape   []int
	Classes int
	// TrainImages and TestImages are the numbers of images in the training
	// and the test files (synthetic: train + val, and test).
	TrainImages, TestImages int
}

// inspectHead is how much of a python-format CIFAR-10 batch Inspect reads:
// the pickle's start, up to the pixels, is a few hundred bytes.
const inspectHead = 16 << 10

// Inspect checks what it can of the data set o describes without loading
// its pixels, for a spec validator, and returns what it learnt. It checks
// that the files exist and are of the right kind and format, reading only
// their headers: the IDX magic numbers and dimensions (for a gzip file,
// those of the uncompressed stream, and the size in its trailer), the
// sizes of CIFAR-10 binary batches, the start of each python batch's
// pickle up to its array's shape, and of an archive the member names and
// sizes (a gzip-compressed archive is decompressed, once, to find them).
// Then it checks that the requested split fits in the files, with the
// errors Load gives.
//
// Inspect fails where Load would, with the same class of error (ErrNotFound,
// ErrBadData, ErrBadOptions), for every fault of the headers, names, kinds
// and sizes of the files and for a split that does not fit; Load also
// checks every byte (labels, the pickles after the shape, gzip streams
// past their headers) and so finds faults that Inspect does not.
//
// Inspect reads nothing into the cache of Load. It checks ctx between
// files and while decompressing an archive.
func Inspect(ctx context.Context, o Options) (Info, error) {
	o, err := o.Normalize()
	if err != nil {
		return Info{}, err
	}
	info := Info{Options: o, Source: o.Source, Name: o.Source, Path: o.Path}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	switch o.Source {
	case SourceSynthetic:
		info.Shape, info.Classes = []int{o.Dim}, o.Classes
		info.TrainImages, info.TestImages = o.Train+o.Val, o.Test
		return info, nil
	case SourceEmbedded:
		sub, err := fs.Sub(embeddedFS, embeddedDir)
		if err != nil {
			return Info{}, err
		}
		info.Name, info.Path = embeddedName, ""
		return info, inspectIDX(sub, "embedded:"+embeddedDir, o, &info)
	case SourceFashionMNIST, SourceMNIST:
		fsys, err := idxDir(o)
		if err != nil {
			return Info{}, err
		}
		return info, inspectIDX(fsys, o.Path, o, &info)
	case SourceCIFAR10:
		return info, inspectCIFAR(ctx, o, &info)
	}
	return Info{}, badOptions("unknown source %q", o.Source)
}

// inspectIDX fills in info from the headers of the IDX files in fsys.
func inspectIDX(fsys fs.FS, dir string, o Options, info *Info) error {
	set, err := openIDXSet(fsys, dir, o)
	defer set.close()
	if err != nil {
		return err
	}
	for _, x := range []*idxReader{set.trainX, set.trainY, set.testX, set.testY} {
		info.Files = append(info.Files, x.name)
	}
	info.Shape = []int{1, set.trainX.dims[1], set.trainX.dims[2]}
	info.Classes = len(idxClasses(o.Source))
	info.TrainImages, info.TestImages = set.trainX.count(), set.testX.count()
	return nil
}

// inspectCIFAR fills in info from the batch files' sizes and heads, or the
// archive's member list.
func inspectCIFAR(ctx context.Context, o Options, info *Info) error {
	loc, err := locateCIFAR(o.Path)
	if err != nil {
		return err
	}
	info.Path = loc.path
	info.Shape, info.Classes = []int{3, 32, 32}, len(cifarClasses)
	counts := make([]int, cifarBatches+1) // training batches 1..5, test
	names := cifarDirFiles(loc.path, loc.binary)
	if loc.tar {
		info.Files = []string{loc.path}
		batches, err := inspectCIFARTar(ctx, loc, counts)
		if err != nil {
			return err
		}
		for i, b := range batches {
			names[i] = memberName(loc.path, b.member)
		}
	} else {
		info.Files = names
		if err := inspectCIFARDir(ctx, loc, names, counts); err != nil {
			return err
		}
	}
	for _, n := range counts[:cifarBatches] {
		info.TrainImages += n
	}
	info.TestImages = counts[cifarBatches]
	return checkCIFARSplit(o, loc.path, info.TrainImages, names[cifarBatches], info.TestImages)
}

// inspectCIFARDir counts the images of the batch files names into counts.
func inspectCIFARDir(ctx context.Context, loc cifarLocation, names []string, counts []int) error {
	for _, name := range names {
		if _, err := statBatchFile(name); err != nil {
			return err
		}
	}
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := openBatchFile(name)
		if err != nil {
			return err
		}
		counts[i], err = countBatch(ctx, f, name, loc.binary)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// countBatch counts the images of the batch file f from its size and, for
// the python format, its head.
func countBatch(ctx context.Context, f *os.File, name string, binary bool) (int, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("data: cifar10: %w", err)
	}
	n, err := checkCIFARSize(name, fi.Size(), binary)
	if err != nil || binary {
		return n, err
	}
	n, err = countPickle(ctx, f, fi.Size(), name)
	if err != nil && !isCanceled(err) && !isDataErr(err) {
		err = fmt.Errorf("data: read %q: %w", name, err)
	}
	return n, err
}

// countPickle counts the images of the python-format batch of size bytes
// that r reads, from its head if peekCIFARPickle can, else by parsing it
// all.
func countPickle(ctx context.Context, r io.Reader, size int64, name string) (int, error) {
	head, err := readMember(ctx, r, min(size, inspectHead))
	if err != nil {
		return 0, err
	}
	n, ok, err := peekCIFARPickle(head, size, name)
	if err != nil || ok {
		return n, err
	}
	rest, err := readMember(ctx, r, size-int64(len(head)))
	if err != nil {
		return 0, err
	}
	c, err := parseCIFARPickle(append(head, rest...), name)
	return c.n, err
}

// inspectCIFARTar counts the images of the batches in the archive loc
// into counts.
func inspectCIFARTar(ctx context.Context, loc cifarLocation, counts []int) ([]tarBatch, error) {
	f, err := os.Open(loc.path)
	if err != nil {
		return nil, fmt.Errorf("data: cifar10: %w", err)
	}
	defer f.Close()
	return countCIFARTar(ctx, f, loc.path, loc.gz, counts)
}

// countCIFARTar counts the images of the batches in the tar archive r
// (gzip-compressed if gz) into counts, reading of each member only its
// header, and of a python batch its head. Members it does not read are
// skipped with Seek if r can, and else read and discarded.
func countCIFARTar(ctx context.Context, r io.Reader, archive string, gz bool, counts []int) ([]tarBatch, error) {
	return walkCIFARTar(ctx, r, archive, gz, func(b tarBatch, r io.Reader) error {
		name := memberName(archive, b.member)
		n, err := checkCIFARSize(name, b.size, b.binary)
		if err == nil && !b.binary {
			n, err = countPickle(ctx, r, b.size, name)
		}
		counts[b.slot()] = n
		return err
	})
}
