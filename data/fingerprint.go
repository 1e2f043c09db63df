package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// fingerprintVersion names the scheme below; it prefixes every
// fingerprint, so that one made by another scheme never equals one of
// this.
const fingerprintVersion = "v1"

// fingerprintEdge is how much of each end of a file Fingerprint reads.
const fingerprintEdge = 64 << 10

// Fingerprint returns a short string that identifies the contents of the
// files Load reads for o, wherever they are, for telling whether data
// that moved are the data a sweep used: the same source read from files
// of the same names, sizes and contents has the same fingerprint in any
// directory. Split sizes are not part of it.
//
// For each file Load would read (the four IDX files, the six CIFAR-10
// batch files, or the one CIFAR-10 archive), it records the file's base
// name, its size and a SHA-256 of its first and last 64 KiB, and returns
// "v1:" and the first 32 hex digits of the SHA-256 of that listing and
// the source. So it reads at most 128 KiB of each file, and is fast on
// full-size data; in exchange, a change in the middle of a file larger
// than 128 KiB that keeps its size goes unseen. The same data in another
// form are other files and have another fingerprint: CIFAR-10 as a folder
// and as an archive, its python and binary versions, IDX files raw and
// gzip-compressed, or renamed.
//
// The embedded data's fingerprint is a constant of the binary, made the
// same way from the embedded files. Synthetic data's comes from the
// generator's parameters: seed, classes, dimension (and the generator's
// version, synthVersion).
//
// Fingerprint does not check the files' formats (Inspect and Load do),
// but fails as Load does when a file is missing or of the wrong kind.
func Fingerprint(ctx context.Context, o Options) (string, error) {
	o, err := o.Normalize()
	if err != nil {
		return "", err
	}
	switch o.Source {
	case SourceSynthetic:
		return fingerprintOf(fmt.Sprintf("source %s\ngenerator %d\nseed %d\nclasses %d\ndim %d\n",
			o.Source, synthVersion, o.Seed, o.Classes, o.Dim)), nil
	case SourceEmbedded:
		return embeddedFingerprint()
	}
	fsys, names, err := sourceFiles(o)
	if err != nil {
		return "", err
	}
	return fingerprintFiles(ctx, o.Source, fsys, names)
}

// sourceFiles returns the files Load reads for o (cifar10, fashion-mnist
// or mnist), as names in fsys, failing as Load does when one is missing or
// of the wrong kind.
func sourceFiles(o Options) (fs.FS, []string, error) {
	if o.Source == SourceCIFAR10 {
		loc, err := locateCIFAR(o.Path)
		if err != nil {
			return nil, nil, err
		}
		if loc.tar {
			return os.DirFS(filepath.Dir(loc.path)), []string{filepath.Base(loc.path)}, nil
		}
		var names []string
		for _, n := range cifarDirFiles(loc.path, loc.binary) {
			if _, err := statBatchFile(n); err != nil {
				return nil, nil, err
			}
			names = append(names, filepath.Base(n))
		}
		return os.DirFS(loc.path), names, nil
	}
	fsys, err := idxDir(o)
	if err != nil {
		return nil, nil, err
	}
	names, err := idxFiles(fsys, o.Path)
	return fsys, names, err
}

// idxFiles returns the names of the four IDX files in fsys.
func idxFiles(fsys fs.FS, dir string) ([]string, error) {
	var names []string
	for _, base := range []string{trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile} {
		n, err := findIDXFile(fsys, dir, base)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// embeddedFingerprint is the fingerprint of the embedded data, computed
// once.
var embeddedFingerprint = sync.OnceValues(func() (string, error) {
	sub, err := fs.Sub(embeddedFS, embeddedDir)
	if err != nil {
		return "", err
	}
	dir := "embedded:" + embeddedDir
	names, err := idxFiles(sub, dir)
	if err != nil {
		return "", err
	}
	return fingerprintFiles(context.Background(), SourceEmbedded, sub, names)
})

// fingerprintFiles is the fingerprint of the files names of fsys, read by
// source.
func fingerprintFiles(ctx context.Context, source string, fsys fs.FS, names []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "source %s\n", source)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		size, sum, err := edgeDigest(fsys, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "file %s %d %x\n", path.Base(n), size, sum)
	}
	return fingerprintOf(b.String()), nil
}

// fingerprintOf makes a fingerprint of a listing.
func fingerprintOf(listing string) string {
	h := sha256.Sum256([]byte(fingerprintVersion + "\n" + listing))
	return fingerprintVersion + ":" + hex.EncodeToString(h[:16])
}

// edgeDigest returns the size of file name of fsys and the SHA-256 of its
// first and last fingerprintEdge bytes (of all of it, if it is no larger
// than twice that).
func edgeDigest(fsys fs.FS, name string) (int64, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := fsys.Open(name)
	if err != nil {
		return 0, sum, fmt.Errorf("data: fingerprint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, sum, fmt.Errorf("data: fingerprint: %w", err)
	}
	size := fi.Size()
	h := sha256.New()
	head := min(size, fingerprintEdge)
	tailFrom := max(head, size-fingerprintEdge)
	if ra, ok := f.(io.ReaderAt); ok {
		_, err = io.Copy(h, io.NewSectionReader(ra, 0, head))
		if err == nil {
			_, err = io.Copy(h, io.NewSectionReader(ra, tailFrom, size-tailFrom))
		}
	} else { // not reached for os and embed files, which are ReaderAts
		_, err = io.CopyN(h, f, head)
		if err == nil {
			_, err = io.CopyN(io.Discard, f, tailFrom-head)
		}
		if err == nil {
			_, err = io.CopyN(h, f, size-tailFrom)
		}
	}
	if err != nil {
		return 0, sum, fmt.Errorf("data: fingerprint %q: %w", name, err)
	}
	h.Sum(sum[:0])
	return size, sum, nil
}

// CheckFingerprint checks that the files o describes have the fingerprint
// want (see Fingerprint), as when a sweep's data moved and o points at
// their new place. A different fingerprint is an error wrapping
// ErrMismatch (and so ErrBadData); errors of Fingerprint are returned as
// they are.
func CheckFingerprint(ctx context.Context, o Options, want string) error {
	got, err := Fingerprint(ctx, o)
	if err != nil {
		return err
	}
	if got != want {
		where := o.Source
		if n, err := o.Normalize(); err == nil && n.Path != "" {
			where += " " + fmt.Sprintf("%q", n.Path)
		}
		return fmt.Errorf("data: %s: fingerprint %s, want %s: the files are not those recorded: %w", where, got, want, ErrMismatch)
	}
	return nil
}
