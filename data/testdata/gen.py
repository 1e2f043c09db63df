#!/usr/bin/python3
"""Make the data-set fixtures of data/testdata. Run from anywhere:

    /usr/bin/python3 data/testdata/gen.py

    /usr/bin/python3 data/testdata/gen.py tarballs     # only some steps: cifar mnist tarballs golden

Needs Python 3 and numpy (Debian: python3-numpy); the Go tests need neither, they read
the committed outputs. Deterministic: the same bytes on every run.

Writes, next to this script:
  cifar10/cifar-10-batches-bin/   data_batch_1.bin .. data_batch_5.bin, test_batch.bin
  cifar10/cifar-10-batches-py/    data_batch_1 .. data_batch_5, test_batch
      The same random images in both CIFAR-10 formats (training batches of 4, 3, 5, 2
      and 4 images, a test batch of 6). The python files are byte for byte what Python
      2's cPickle.dump(batch, f, 2) writes for a CIFAR-10 batch dict (keys 'data',
      'labels', 'batch_label', 'filenames' in that order), assembled opcode by opcode
      because Python 3's pickle cannot write Python 2 str objects: byte-string keys as
      SHORT_BINSTRING, the uint8 array through numpy.core.multiarray._reconstruct with
      its raw bytes in a BINSTRING, memo indices from 1 as cPickle numbers them. Each is
      checked by loading it back with Python 3's pickle and numpy.
  cifar10/cifar-10-python.tar.gz, cifar10/cifar-10-binary.tar.gz, cifar10/cifar-10-python.tar
      The two folders above packed as the official archives are: the folder at the top
      level, its batches with stand-ins of batches.meta[.txt] and readme.html, in the
      archives' own unsorted member order; gzip-compressed, and the python one also plain.
  mnist-gz/, mnist-raw/           an MNIST-style IDX set (12 training, 4 test images of
      28x28), gzip-compressed and raw, same content.
  fashion-mnist-golden.json       values computed with numpy from Debian's
      dataset-fashion-mnist (if installed): counts, first labels, and the mean image and
      per-feature standard deviation (np.std, ddof=0) of the first 59000 training images,
      for the Go test of the real files.
"""
import gzip, io, json, os, pickle, pickletools, struct, sys, tarfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_SIZES, TEST_SIZE = [4, 3, 5, 2, 4], 6


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


class Py2Pickler:
    """Emits the opcodes of Python 2 cPickle protocol 2 for a CIFAR-10 batch."""

    def __init__(self):
        self.out = io.BytesIO()
        self.memo = 0

    def w(self, b):
        self.out.write(b)

    def put(self):
        # cPickle memoizes objects referenced elsewhere, numbering from 1.
        self.memo += 1
        self.w(b'q' + bytes([self.memo]) if self.memo < 256 else b'r' + struct.pack('<I', self.memo))

    def string(self, s, memo=True):  # a Python 2 str
        if len(s) < 256:
            self.w(b'U' + bytes([len(s)]) + s)
        else:
            self.w(b'T' + struct.pack('<i', len(s)) + s)
        if memo:
            self.put()

    def int(self, v):
        if 0 <= v < 256:
            self.w(b'K' + bytes([v]))
        elif 0 <= v < 65536:
            self.w(b'M' + struct.pack('<H', v))
        else:
            self.w(b'J' + struct.pack('<i', v))

    def items(self, xs, one):  # cPickle's batch_list: batches of 1000
        for i in range(0, len(xs), 1000):
            chunk = xs[i:i + 1000]
            if len(chunk) == 1:
                one(chunk[0])
                self.w(b'a')
            else:
                self.w(b'(')
                for x in chunk:
                    one(x)
                self.w(b'e')

    def array(self, a):  # numpy's ndarray.__reduce__ under Python 2
        assert a.dtype == np.uint8 and a.ndim == 2 and a.flags.c_contiguous
        self.w(b'cnumpy.core.multiarray\n_reconstruct\n'); self.put()
        self.w(b'cnumpy\nndarray\n'); self.put()
        self.int(0); self.w(b'\x85'); self.string(b'b', memo=False); self.w(b'\x87R'); self.put()
        self.w(b'('); self.int(1)
        self.int(a.shape[0]); self.int(a.shape[1]); self.w(b'\x86')
        self.w(b'cnumpy\ndtype\n'); self.put()
        self.string(b'u1', memo=False); self.int(0); self.int(1); self.w(b'\x87R'); self.put()
        self.w(b'('); self.int(3); self.string(b'|', memo=False)
        self.w(b'NNN'); self.w(b'J' + struct.pack('<i', -1)); self.w(b'J' + struct.pack('<i', -1)); self.int(0)
        self.w(b'tb')
        self.w(b'\x89')                        # is_fortran = False
        self.string(a.tobytes(), memo=False)   # BINSTRING: raw bytes
        self.w(b'tb')

    def batch(self, data, labels, batch_label, filenames):
        self.w(b'\x80\x02}'); self.put(); self.w(b'(')
        self.string(b'data'); self.array(data)
        self.string(b'labels'); self.w(b']'); self.put(); self.items(labels, self.int)
        self.string(b'batch_label'); self.string(batch_label)
        self.string(b'filenames'); self.w(b']'); self.put(); self.items(filenames, self.string)
        self.w(b'u.')
        return self.out.getvalue()


def cifar():
    rng = np.random.RandomState(20261126)
    root = os.path.join(HERE, 'cifar10')
    files = [('data_batch_%d' % (i + 1), n, b'training batch %d of 5' % (i + 1)) for i, n in enumerate(TRAIN_SIZES)]
    files.append(('test_batch', TEST_SIZE, b'testing batch 1 of 1'))
    k = 0
    for name, n, label in files:
        x = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
        y = [int(v) for v in rng.randint(0, 10, size=n)]
        fn = [b'fixture_%05d.png' % (k + i) for i in range(n)]
        k += n
        rec = np.concatenate([np.array(y, dtype=np.uint8)[:, None], x], axis=1)
        write(os.path.join(root, 'cifar-10-batches-bin', name + '.bin'), rec.tobytes())
        blob = Py2Pickler().batch(x, y, label, fn)
        # The bytes must be a valid pickle that numpy reads back as the same batch.
        ops = {op.name for op, _, _ in pickletools.genops(blob)}
        assert 'BINSTRING' in ops and 'SHORT_BINSTRING' in ops and 'BINUNICODE' not in ops, ops
        d = pickle.loads(blob, encoding='bytes')
        assert list(d.keys()) == [b'data', b'labels', b'batch_label', b'filenames'], d.keys()
        assert d[b'data'].dtype == np.uint8 and (d[b'data'] == x).all() and d[b'labels'] == y
        write(os.path.join(root, 'cifar-10-batches-py', name), blob)


# The member order of the official archives (tar tzf), which is not sorted.
PY_MEMBERS = ['data_batch_4', 'readme.html', 'test_batch', 'data_batch_3', 'batches.meta',
              'data_batch_2', 'data_batch_5', 'data_batch_1']
BIN_MEMBERS = ['data_batch_1.bin', 'batches.meta.txt', 'data_batch_3.bin', 'data_batch_4.bin',
               'test_batch.bin', 'readme.html', 'data_batch_5.bin', 'data_batch_2.bin']
CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
README = b'<meta HTTP-EQUIV="REFRESH" content="0; url=http://www.cs.toronto.edu/~kriz/cifar.html">\n'


def tarball(folder, members, content):
    """A GNU-format tar of folder/ and then folder/<m> for m in members, with fixed
    owners and times (deterministic)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w', format=tarfile.GNU_FORMAT) as tf:
        for name in [None] + members:
            ti = tarfile.TarInfo(folder if name is None else folder + '/' + name)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 1244000000, 1000, 1000, 'user', 'user'
            if name is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                data = content(name)
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
    return out.getvalue()


def cifar_tarballs():
    root = os.path.join(HERE, 'cifar10')

    def py(name):
        if name == 'readme.html':
            return README
        if name == 'batches.meta':  # a stand-in: the reader skips it
            return pickle.dumps({'num_cases_per_batch': 10000, 'label_names': CLASSES, 'num_vis': 3072}, 2)
        with open(os.path.join(root, 'cifar-10-batches-py', name), 'rb') as f:
            return f.read()

    def bin_(name):
        if name == 'readme.html':
            return README
        if name == 'batches.meta.txt':
            return ('\n'.join(CLASSES) + '\n\n').encode()
        with open(os.path.join(root, 'cifar-10-batches-bin', name), 'rb') as f:
            return f.read()

    tpy = tarball('cifar-10-batches-py', PY_MEMBERS, py)
    tbin = tarball('cifar-10-batches-bin', BIN_MEMBERS, bin_)
    write(os.path.join(root, 'cifar-10-python.tar'), tpy)
    write(os.path.join(root, 'cifar-10-python.tar.gz'), gzip.compress(tpy, compresslevel=9, mtime=0))
    write(os.path.join(root, 'cifar-10-binary.tar.gz'), gzip.compress(tbin, compresslevel=9, mtime=0))


def idx(items, ndim_dims):
    return struct.pack('>I', 0x0800 | len(ndim_dims)) + struct.pack('>%dI' % len(ndim_dims), *ndim_dims) + items.tobytes()


def mnist():
    rng = np.random.RandomState(784)
    for prefix, n in [('train', 12), ('t10k', 4)]:
        x = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        y = rng.randint(0, 10, size=n).astype(np.uint8)
        for name, blob in [('%s-images-idx3-ubyte' % prefix, idx(x, [n, 28, 28])),
                           ('%s-labels-idx1-ubyte' % prefix, idx(y, [n]))]:
            write(os.path.join(HERE, 'mnist-raw', name), blob)
            write(os.path.join(HERE, 'mnist-gz', name + '.gz'), gzip.compress(blob, compresslevel=9, mtime=0))


def load_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    nd = data[3]
    dims = struct.unpack('>%dI' % nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def fashion_golden(root='/usr/share/datasets/fashion-mnist'):
    if not os.path.isdir(root):
        print('skip fashion-mnist-golden.json: %s not installed' % root, file=sys.stderr)
        return
    X = load_idx(root + '/train-images-idx3-ubyte.gz').reshape(60000, -1)
    y = load_idx(root + '/train-labels-idx1-ubyte.gz')
    Xt = load_idx(root + '/t10k-images-idx3-ubyte.gz').reshape(10000, -1)
    yt = load_idx(root + '/t10k-labels-idx1-ubyte.gz')
    mean = X[:59000].astype(np.float64).mean(axis=0)
    std = X[:59000].astype(np.float64).std(axis=0)
    golden = {
        'train_count': int(X.shape[0]), 'test_count': int(Xt.shape[0]),
        'train_labels_first': [int(v) for v in y[:20]],
        'val_labels_first': [int(v) for v in y[59000:59020]],
        'test_labels_first': [int(v) for v in yt[:20]],
        'mean_59000': [float(v) for v in mean],
        'std_59000': [float(v) for v in std],
        'test0_pixel_sum': int(Xt[0].astype(np.int64).sum()),
    }
    with open(os.path.join(HERE, 'fashion-mnist-golden.json'), 'w') as f:
        json.dump(golden, f, indent=0)
        f.write('\n')


if __name__ == '__main__':
    steps = {'cifar': cifar, 'mnist': mnist, 'tarballs': cifar_tarballs, 'golden': fashion_golden}
    for step in sys.argv[1:] or ['cifar', 'mnist', 'tarballs', 'golden']:
        steps[step]()
