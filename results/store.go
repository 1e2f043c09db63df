package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long a Store waits for another process's lock on the
// file when Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// allocStep is how much a write transaction that needs more room grows the
// file by beyond what it needs (bbolt's default: to a power of two below
// 16 MB, then 16 MB steps).
const allocStep = 128 << 10

// Options configure a Store.
type Options struct {
	// Timeout bounds the wait for the file's lock, held by another
	// transaction (of this or another process); past it a method returns
	// ErrLocked. 0 means DefaultTimeout.
	Timeout time.Duration
}

// Store is a results database file. It holds no open file between calls:
// each method opens the file, runs one bbolt transaction and closes it, so
// several processes share the file and readers never wait for a whole run.
// A Store is safe for concurrent use by several goroutines, and several
// Stores (in one or many processes) may use the same file.
type Store struct {
	path    string
	timeout time.Duration
}

// Open opens the results database at path, creating the file (and writing
// the schema version) if it does not exist or is empty. It refuses a file
// that is not a bbolt database (ErrCorrupt), a bbolt file that is not a
// results database or was written by a newer schema (ErrSchema), and a file
// locked past the timeout (ErrLocked). A refused file is left untouched.
func Open(path string, o Options) (*Store, error) {
	s := newStore(path, o)
	ctx := context.Background()
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil, fmt.Errorf("open results %q: %w: it is a directory", path, ErrNotFound)
	}
	switch {
	case err == nil && fi.Size() > 0:
		empty := false
		err = s.open(ctx, false, false, func(tx *bolt.Tx) error {
			if k, _ := tx.Cursor().First(); k == nil {
				empty = true // a bbolt file without buckets: ours to initialise
				return nil
			}
			return checkSchema(tx)
		})
		if err != nil || !empty {
			break
		}
		fallthrough
	case err == nil || errors.Is(err, fs.ErrNotExist):
		err = s.open(ctx, true, true, initSchema)
	}
	if err != nil {
		return nil, fmt.Errorf("open results %q: %w", path, err)
	}
	return s, nil
}

// OpenExisting opens the results database at path read-only to validate it,
// like Open, but never creates a file: ErrNotFound if path does not exist.
func OpenExisting(path string, o Options) (*Store, error) {
	s := newStore(path, o)
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: no such file", ErrNotFound)
		}
		return nil, fmt.Errorf("open results %q: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open results %q: %w: it is a directory", path, ErrNotFound)
	}
	if err := s.open(context.Background(), false, false, checkSchema); err != nil {
		return nil, fmt.Errorf("open results %q: %w", path, err)
	}
	return s, nil
}

func newStore(path string, o Options) *Store {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Store{path: path, timeout: o.Timeout}
}

// Path returns the file's path, as given to Open.
func (s *Store) Path() string { return s.path }

// Check runs bbolt's consistency check of the whole file (page structure,
// freelist) in a read transaction and returns the problems it finds,
// wrapped in ErrCorrupt.
func (s *Store) Check(ctx context.Context) error {
	return s.view(ctx, "check", func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
		}
		return nil
	})
}

func initSchema(tx *bolt.Tx) error {
	if tx.Bucket(bucketMeta) == nil {
		if k, _ := tx.Cursor().First(); k != nil {
			return checkSchema(tx)
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, encodeSchema(schemaVersion)); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketSweeps); err != nil {
			return err
		}
	}
	return checkSchema(tx)
}

// checkSchema refuses a file that is not a results database of a schema
// this code reads.
func checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if k, _ := tx.Cursor().First(); k != nil {
			return fmt.Errorf("%w: not a sweep results database (a bbolt file of another program, with bucket %q)", ErrSchema, k)
		}
		return fmt.Errorf("%w: not a sweep results database (no %q bucket)", ErrSchema, bucketMeta)
	}
	v, err := decodeSchema(meta.Get(keySchema))
	if err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("%w: schema version %d was written by a newer sweep (this one reads up to %d)", ErrSchema, v, schemaVersion)
	}
	if v == 0 {
		return fmt.Errorf("%w: schema version 0", ErrCorrupt)
	}
	if tx.Bucket(bucketSweeps) == nil {
		return fmt.Errorf("%w: no %q bucket", ErrCorrupt, bucketSweeps)
	}
	return nil
}

// view runs fn in a read-only transaction on a read-only (shared-lock) open.
func (s *Store) view(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	if err := s.open(ctx, false, false, withSchema(fn)); err != nil {
		return fmt.Errorf("%s (results %q): %w", op, s.path, err)
	}
	return nil
}

// update runs fn in a read-write transaction (exclusive lock).
func (s *Store) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	if err := s.open(ctx, true, false, withSchema(fn)); err != nil {
		return fmt.Errorf("%s (results %q): %w", op, s.path, err)
	}
	return nil
}

func withSchema(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := checkSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	}
}

// open opens the file (creating it only when create), runs fn in one
// transaction (read-write when write) and closes the file. bbolt's
// errors are mapped to this package's sentinels; a panic or a memory fault
// in bbolt on a damaged file is returned as ErrCorrupt.
func (s *Store) open(ctx context.Context, write, create bool, fn func(*bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A damaged file can make bbolt index its memory map beyond the end of
	// the file (SIGBUS) or panic on a bad page: both become ErrCorrupt.
	// bbolt may then still hold its internal locks, so db is not closed
	// (that could deadlock): the file is, which drops the flock; the memory
	// map is leaked.
	var file *os.File
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
			if file != nil {
				file.Close()
			}
		}
	}()
	opts := &bolt.Options{
		Timeout:  s.timeout,
		ReadOnly: !write,
		// The freelist is written at each commit (NoFreelistSync false) so
		// that opening the file, which happens per transaction, does not
		// scan every page to rebuild it.
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistArrayType,
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			if !create {
				flag &^= os.O_CREATE
			}
			f, err := os.OpenFile(name, flag, mode)
			if err != nil {
				return nil, err
			}
			if err := lockFile(ctx, f, write, s.timeout); err != nil {
				return nil, err
			}
			// bbolt initialises an empty file; only Open may (a read-only
			// open would fail writing, and an empty file found later is
			// not a database). Checked under the lock: a creating Open
			// holds it until the file is initialised.
			if !create {
				if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
					f.Close()
					if err == nil {
						err = fmt.Errorf("%w: empty file", ErrCorrupt)
					}
					return nil, err
				}
			}
			file = f
			return f, nil
		},
	}
	db, err := bolt.Open(s.path, 0o644, opts)
	if err != nil {
		return mapOpenError(err)
	}
	if write {
		// bbolt grows a file below 16 MB to its next power of two; grow it
		// by what is needed plus allocStep instead, so a small sweep's file
		// stays small.
		db.AllocSize = allocStep
		err = db.Update(fn)
	} else {
		err = db.View(fn)
	}
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func mapOpenError(err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, ErrLocked), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %v", ErrLocked, err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: no such file", ErrNotFound)
	case errors.As(err, &pe):
		return err
	}
	// ErrInvalid, ErrVersionMismatch, ErrChecksum, "file size too small", ...
	return fmt.Errorf("%w: not a valid bbolt file: %v", ErrCorrupt, err)
}

// sweepTx is a sweep's buckets within one transaction.
type sweepTx struct {
	name                                         string
	b                                            *bolt.Bucket
	trials, keys, open, done, hist, ckpt, models *bolt.Bucket
}

// getSweep returns the buckets of sweep name, or ErrNoSweep.
func getSweep(tx *bolt.Tx, name string) (*sweepTx, error) {
	root := tx.Bucket(bucketSweeps)
	b := root.Bucket([]byte(name))
	if b == nil || name == "" {
		return nil, noSweep(root, name)
	}
	st := &sweepTx{name: name, b: b}
	for i, p := range []**bolt.Bucket{&st.trials, &st.keys, &st.open, &st.done, &st.hist, &st.ckpt, &st.models} {
		if *p = b.Bucket(sweepSubBucket[i]); *p == nil {
			return nil, fmt.Errorf("%w: sweep %q has no %q bucket", ErrCorrupt, name, sweepSubBucket[i])
		}
	}
	return st, nil
}

func noSweep(root *bolt.Bucket, name string) error {
	var names []string
	_ = root.ForEach(func(k, v []byte) error {
		if v == nil {
			names = append(names, fmt.Sprintf("%q", k))
		}
		return nil
	})
	if len(names) == 0 {
		return fmt.Errorf("%w %q (the database has no sweeps)", ErrNoSweep, name)
	}
	return fmt.Errorf("%w %q (sweeps: %s)", ErrNoSweep, name, strings.Join(names, ", "))
}

// sweep decodes the sweep's record (without Spec and Canonical).
func (st *sweepTx) sweep() (*Sweep, error) {
	var sw Sweep
	if err := json.Unmarshal(st.b.Get(keySweep), &sw); err != nil {
		return nil, fmt.Errorf("%w: sweep %q record: %v", ErrCorrupt, st.name, err)
	}
	return &sw, nil
}

func (st *sweepTx) putSweep(sw *Sweep) error {
	b, err := json.Marshal(sw)
	if err != nil {
		return err
	}
	return st.b.Put(keySweep, b)
}

// lastNumber is the highest trial number of the sweep (0 if none).
func (st *sweepTx) lastNumber() (int, error) {
	k, _ := st.trials.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	return btoi(k)
}

// trial decodes trial n, or returns ErrNoTrial.
func (st *sweepTx) trial(n int) (*Trial, error) {
	v := st.trials.Get(itob(n))
	if v == nil || n <= 0 {
		last, err := st.lastNumber()
		if err != nil {
			return nil, err
		}
		if last == 0 {
			return nil, fmt.Errorf("%w %d in sweep %q (it has no trials)", ErrNoTrial, n, st.name)
		}
		return nil, fmt.Errorf("%w %d in sweep %q (trials are 1..%d)", ErrNoTrial, n, st.name, last)
	}
	return decodeTrial(st.name, n, v)
}

func decodeTrial(sweep string, n int, v []byte) (*Trial, error) {
	var t Trial
	// Decoding without Trial's UnmarshalJSON saves a pass over the record;
	// only a record with a NaN or infinite metric needs the method.
	if err := json.Unmarshal(v, (*plainTrial)(&t)); err != nil {
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("%w: sweep %q trial %d record: %v", ErrCorrupt, sweep, n, err)
		}
	}
	if t.Number != n {
		return nil, fmt.Errorf("%w: sweep %q trial %d record says trial %d", ErrCorrupt, sweep, n, t.Number)
	}
	return &t, nil
}

// putTrial writes t's record and keeps the open and done indexes in step.
func (st *sweepTx) putTrial(t *Trial) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode trial %d: %w", t.Number, err)
	}
	k := itob(t.Number)
	if err := st.trials.Put(k, v); err != nil {
		return err
	}
	if t.Status.Finished() {
		err = st.open.Delete(k)
	} else {
		err = st.open.Put(k, []byte(t.Status))
	}
	if err != nil {
		return err
	}
	if t.Status == Done {
		return st.done.Put(k, encodeDone(t.Metrics))
	}
	return st.done.Delete(k)
}

// held returns t if it is running under owner's lease, else ErrLeaseLost.
func held(t *Trial, owner Owner) error {
	switch {
	case t.Status != Running:
		return fmt.Errorf("%w: trial %d is %s", ErrLeaseLost, t.Number, t.Status)
	case t.Lease == nil:
		return fmt.Errorf("%w: trial %d has no lease", ErrLeaseLost, t.Number)
	case !t.Lease.Owner.same(owner):
		return fmt.Errorf("%w: trial %d is held by %s (id %s)", ErrLeaseLost, t.Number, t.Lease.Owner, t.Lease.Owner.ID)
	}
	return nil
}

// numbers formats trial numbers for messages.
func numbers(ns []int) string {
	sort.Ints(ns)
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
