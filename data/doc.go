// Package data loads the data sets that sweeps train on (CIFAR-10, MNIST and
// Fashion-MNIST, an embedded default, synthetic data), splits them and applies
// the coursework's preprocessing.
//
// # Sources
//
// Options.Source selects one of:
//
//   - cifar10: CIFAR-10 in either of its distributed forms, detected
//     automatically: cifar-10-batches-bin (data_batch_1.bin ..
//     data_batch_5.bin, test_batch.bin; records of one label byte and 3072
//     pixel bytes) or cifar-10-batches-py (data_batch_1 .. data_batch_5,
//     test_batch; Python 2 cPickle protocol-2 dicts holding a numpy uint8
//     array). Options.Path is the batches folder itself, a parent holding
//     one of them (binary preferred when both are there), or the archive as
//     downloaded, cifar-10-python.tar.gz or cifar-10-binary.tar.gz: a tar
//     file, gzip-compressed or plain, under any name (its first bytes
//     decide), whose batch members may sit in any folder and come in any
//     order (tarball.go). The pickles are read by a small strict reader of
//     exactly the opcodes such a batch uses (pickle.go): no Python at run
//     time, no other code run or object built.
//   - fashion-mnist, mnist: the four IDX files (train-images-idx3-ubyte,
//     train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte),
//     each gzip-compressed (.gz) or raw. fashion-mnist defaults to
//     DefaultFashionMNISTPath, where Debian's dataset-fashion-mnist installs it.
//   - embedded: 10,000 training-side and 2,000 test-side Fashion-MNIST images
//     compiled into the binary (fashion-mnist-subset/README.md says exactly
//     which), so that a sweep runs with no data files at all.
//   - synthetic: a seeded generator of classes that are separable but not
//     linearly so (synthetic.go), for fast tests.
//
// # Splits and preprocessing
//
// As in the coursework: train = the first Train images of the training files
// (in file order, batch 1 first), val = the next Val, test = the first Test of
// the test file. Pixels become float32 on their raw 0-255 scale, the mean
// image of the training split is subtracted from all three splits, and each
// image is one row of D = product(Shape) features. Rows keep the files'
// layout: feature c*H*W + h*W + w is channel c of pixel (h, w) (CIFAR-10's
// 1024 red, 1024 green, 1024 blue bytes). Options' zero split sizes select
// the source's defaults: CIFAR-10 49000/1000/1000, (Fashion-)MNIST
// 59000/1000/1000, embedded 9000/1000/2000, synthetic 4000/500/500.
//
// The per-feature standard deviation of the training split (Dataset.Std,
// numpy's np.std) is computed at load too, but not applied: a trial that
// standardises its input divides by it (StdOrOne) as it reads rows, so
// that trials with different preprocessing share one copy of the data.
// For pixel data the mean and standard deviation come from exact integer
// sums, so they do not depend on the order in which files are read; for
// synthetic data from float64 sums in row order (two passes).
//
// Invariants of every Dataset returned: for each Split s, len(s.X) == s.N*s.D,
// len(s.Y) == s.N, 0 <= s.Y[i] < len(Classes), s.D == len(Mean) == len(Std)
// == product(Shape), Std[j] >= 0; Train.N >= 1.
//
// # Ownership and concurrency
//
// Load keeps one Dataset per distinct (normalised) Options for the life of
// the process and hands the same pointer to every caller: a sweep's workers
// share one float32 copy of the data. A Dataset is therefore read-only:
// callers must never write to its slices (a trial that needs to change rows,
// e.g. to augment them, copies them into its own batch buffers). Reading a
// Dataset from any number of goroutines is safe. Load itself is safe for
// concurrent use; concurrent first calls with equal Options load once and
// the others wait (or return when their context is done). A failed or
// cancelled load is not cached.
//
// While loading, the raw bytes of a file are held only until they are
// converted. CIFAR-10's six batches are read GOMAXPROCS at a time and
// converted in parallel; the four IDX files are read concurrently, each with
// gunzip (github.com/klauspost/compress/gzip) a chunk ahead of conversion.
// A CIFAR-10 archive is read once, as a stream, with nothing extracted to
// disk: each batch member is read into memory when the stream reaches it
// and parsed, other members are skipped, and the six batches (one copy,
// 180 MB in full) are converted once the stream has ended. Load, Inspect
// and Fingerprint check ctx between files, and while reading an archive
// between its members and every 1 MiB of one.
//
// # Checking without loading
//
// Inspect checks a data set's files from their headers (IDX dimensions, the
// sizes of binary batches, the start of each pickle, an archive's member
// list) and the split against the image counts, with the errors Load gives
// for the same faults, in a few milliseconds for Fashion-MNIST: for a spec
// validator. Fingerprint identifies the contents of the files a source
// reads (names, sizes, SHA-256 of each file's first and last 64 KiB),
// wherever they are, so that a sweep whose data moved can be pointed at
// the new place only if they are the same (CheckFingerprint). Neither
// touches Load's cache.
//
// # Errors
//
// An error about the data or the options wraps one of ErrNotFound (a
// missing directory, file or archive member), ErrBadData (a path of the
// wrong kind, or bytes that are not what the format promises: wrong magic
// number or dimension, truncated or oversized files, a pickle that is not
// a CIFAR-10 batch, a label out of range, a broken archive) or
// ErrBadOptions (invalid options, or more images asked for than the files
// hold), and names the file (an archive's member as "archive:member") and,
// where it helps, the byte offset (uncompressed, for gzip files) or the
// pickle key. A path that exists but is not what the source reads (a
// file where a directory is wanted, a zip, an IDX file given for
// CIFAR-10, a directory where a batch file should be) is never "not
// found": the error says what it is and what is wanted. ErrMismatch, of
// CheckFingerprint, wraps ErrBadData. Other failures come wrapped as they
// are: the context's error when it is done, and the operating system's for
// files that exist but cannot be read (permissions).
//
// No input bytes make this package panic: the parsers of outside bytes
// have fuzz targets (FuzzIDX, FuzzCIFARBinary, FuzzCIFARPickle,
// FuzzCIFARTar), and no length read from a file makes it allocate more
// than the file holds or the Options ask for, except that a member of an
// archive is read into a buffer of up to 8 MiB, or four times what the
// archive holds, before its claimed size is known to be there.
//
// Fixtures in testdata/ are made by testdata/gen.py; the embedded subset by
// fashion-mnist-subset/cut.py. See README.md for a [data] table per source.
package data
