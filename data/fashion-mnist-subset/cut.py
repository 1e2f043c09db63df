#!/usr/bin/python3
"""Cut the embedded Fashion-MNIST subset from Debian's dataset-fashion-mnist.

usage: /usr/bin/python3 cut.py [SRC_DIR [OUT_DIR]]
  SRC_DIR  default /usr/share/datasets/fashion-mnist (the Debian package)
  OUT_DIR  default: the directory of this script

Writes train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz (images
0..9999 of the training file, in file order) and t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz (images 0..1999 of the test file, in file order):
the same IDX format as the originals with the item count rewritten, gzip
level 9 with mtime 0. Prints the SHA-256 of each uncompressed output, which
README.md records and the Go tests check. Standard library only.
"""
import gzip, hashlib, os, struct, sys

TRAIN, TEST = 10000, 2000

def cut(src, dst, n):
    with gzip.open(src, 'rb') as f:
        data = f.read()
    magic = struct.unpack('>I', data[:4])[0]
    ndim = magic & 0xff
    assert magic >> 8 == 0x08, 'not an unsigned-byte IDX file: %s' % src
    dims = list(struct.unpack('>%dI' % ndim, data[4:4 + 4 * ndim]))
    assert dims[0] >= n, '%s holds %d items, need %d' % (src, dims[0], n)
    item = 1
    for d in dims[1:]:
        item *= d
    hdr = 4 + 4 * ndim
    out = struct.pack('>I', magic) + struct.pack('>%dI' % ndim, n, *dims[1:]) + data[hdr:hdr + n * item]
    with open(dst, 'wb') as f:
        f.write(gzip.compress(out, compresslevel=9, mtime=0))
    print('%s  %s (%d items, %d bytes gzip)' % (hashlib.sha256(out).hexdigest(), os.path.basename(dst), n, os.path.getsize(dst)))

def main():
    src = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/datasets/fashion-mnist'
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    for name, n in [('train-images-idx3-ubyte', TRAIN), ('train-labels-idx1-ubyte', TRAIN),
                    ('t10k-images-idx3-ubyte', TEST), ('t10k-labels-idx1-ubyte', TEST)]:
        cut(os.path.join(src, name + '.gz'), os.path.join(out, name + '.gz'), n)

if __name__ == '__main__':
    main()
