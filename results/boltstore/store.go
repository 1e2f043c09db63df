package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sweep-dev/sweep/results"
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

	mu     sync.Mutex
	walked fileVersion // the file as this Store last walked its pages
}

// fileVersion is a file, and the transaction its meta page was at.
type fileVersion struct {
	ok   bool
	id   fileID
	txid uint64
}

// mustWalk reports whether the file (fi, with meta page m) must have its
// pages walked (walkPages) before bbolt reads them: unless this Store has
// walked this file (same device and inode) at this transaction or an
// earlier one. Pages written since were written by bbolt, which writes
// whole pages; what damages a file behind bbolt's back after the walk
// goes unseen until Check, or the next Store.
func (s *Store) mustWalk(fi os.FileInfo, m boltMeta) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.walked.ok || s.walked.id != fileIdentity(fi) || m.txid < s.walked.txid
}

func (s *Store) remember(fi os.FileInfo, m boltMeta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.walked = fileVersion{ok: true, id: fileIdentity(fi), txid: m.txid}
}

// Open opens the results database at path, creating the file (and writing
// the schema version) if it does not exist or is empty. It refuses a file
// that is not a bbolt database or whose pages are damaged (ErrCorrupt: it
// walks them, see doc.go), a bbolt file that is not a results database or
// was written by a newer schema (ErrSchema), and a file locked past the
// timeout (ErrLocked). A refused file is left untouched.
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
		err = s.open(ctx, access{}, func(tx *bolt.Tx) error {
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
		err = s.open(ctx, access{write: true, create: true}, initSchema)
	}
	if err != nil {
		return nil, s.openFail(err)
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
		return nil, s.openFail(err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open results %q: %w: it is a directory", path, ErrNotFound)
	}
	if err := s.open(context.Background(), access{}, checkSchema); err != nil {
		return nil, s.openFail(err)
	}
	return s, nil
}

// openFail names the file in an error of Open or OpenExisting.
func (s *Store) openFail(err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrDiskFull) {
		return s.fail("open results", err)
	}
	return fmt.Errorf("open results %q: %w", s.path, err)
}

func newStore(path string, o Options) *Store {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Store{path: path, timeout: o.Timeout}
}

// Path returns the file's path, as given to Open.
func (s *Store) Path() string { return s.path }

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
		c := tx.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.Equal(k, bucketMeta) {
				return corruptf("the %q bucket is in the file, but looking it up misses it", k)
			}
		}
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
		return corruptf("schema version 0")
	}
	if tx.Bucket(bucketSweeps) == nil {
		return corruptf("no %q bucket", bucketSweeps)
	}
	return nil
}

// access is how a transaction opens the file.
type access struct {
	write  bool // exclusive lock and a read-write transaction; else shared lock, read-only
	create bool // the file may be created, or initialised if empty (Open only)
	walk   bool // walk every page before bbolt maps the file (walkPages)
}

// view runs fn in a read-only transaction on a read-only (shared-lock) open.
func (s *Store) view(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.do(ctx, op, access{}, withSchema(fn))
}

// update runs fn in a read-write transaction (exclusive lock).
func (s *Store) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.do(ctx, op, access{write: true}, withSchema(fn))
}

// do runs fn in one transaction opened as a says; errors are named by op.
func (s *Store) do(ctx context.Context, op string, a access, fn func(*bolt.Tx) error) error {
	if err := s.open(ctx, a, fn); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// fail is the boundary every error of a method crosses: it names the
// operation and the file, and turns a corruption found below (whatever
// wraps it) into a *CorruptError naming the file.
func (s *Store) fail(op string, err error) error {
	var ce *CorruptError
	switch {
	case errors.As(err, &ce):
		if ce.Path == "" {
			ce.Path = s.path
		}
		return fmt.Errorf("%s: %w", op, ce)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%s: %w", op, &CorruptError{Path: s.path, Problems: []string{err.Error()}})
	case errors.Is(err, ErrDiskFull):
		return fmt.Errorf("%s: %w", op, err) // it names the file
	}
	return fmt.Errorf("%s (results %q): %w", op, s.path, err)
}

func withSchema(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := checkSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	}
}

// open opens the file (creating it only when a.create), runs fn in one
// transaction (read-write when a.write) and closes the file. bbolt's
// errors are mapped to this package's sentinels; a panic or a memory fault
// in bbolt on a damaged file is returned as ErrCorrupt.
func (s *Store) open(ctx context.Context, a access, fn func(*bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	// A damaged file can make bbolt index its memory map beyond the end of
	// the file (SIGBUS) or panic on a bad page: both become ErrCorrupt.
	// The file is then unlocked (explicitly: bbolt's memory map keeps the
	// open file, and so its lock) and closed at once; db is closed in the
	// background, as bbolt may still hold its internal locks (a panic in a
	// commit's remap): then that goroutine, and the map, are leaked.
	// vetFile, below, refuses the commonest damage (a truncated file)
	// before bbolt reads a page.
	var (
		file *os.File
		db   *bolt.DB
	)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corruptf("%s", damagedPages)
			if file != nil {
				unlockFile(file)
				file.Close()
			}
			if db != nil {
				go db.Close()
			}
		}
	}()
	opts := &bolt.Options{
		Timeout:  s.timeout,
		ReadOnly: !a.write,
		// The freelist is written at each commit (NoFreelistSync false) so
		// that opening the file, which happens per transaction, does not
		// scan every page to rebuild it.
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistArrayType,
		// A check loads the freelist here, in this goroutine, where a fault
		// is recovered, rather than in the goroutine of bbolt's Tx.Check.
		PreLoadFreelist: a.walk,
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			if !a.create {
				flag &^= os.O_CREATE
			}
			f, err := os.OpenFile(name, flag, mode)
			if err != nil {
				return nil, err
			}
			if err := lockFile(ctx, f, a.write, s.timeout); err != nil {
				return nil, err // f is closed
			}
			file = f // from here on, a panic unlocks and closes it
			// Checked under the lock, so no writer changes the file
			// meanwhile (and a creating Open holds it until the file is
			// initialised).
			if err := s.vet(f, a.create, a.walk); err != nil {
				file = nil
				f.Close()
				return nil, err
			}
			return f, nil
		},
	}
	db, err = bolt.Open(s.path, 0o644, opts)
	if err != nil {
		if df, ok := s.diskFull(err); ok {
			return df
		}
		return mapOpenError(err)
	}
	if a.write {
		// bbolt grows a file below 16 MB to its next power of two; grow it
		// by what is needed plus allocStep instead, so a small sweep's file
		// stays small.
		db.AllocSize = allocStep
		if err = db.Update(fn); errors.Is(err, errRollback) {
			err = nil
		}
	} else {
		err = db.View(fn)
	}
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if df, ok := s.diskFull(err); ok {
		return df
	}
	return err
}

// vet checks the open file f before bbolt maps it (vetFile), walking its
// pages if walk is set or this Store has not walked this file yet
// (mustWalk). bbolt initialises an empty file; only Open may (create): a
// read-only open would fail writing, and an empty file found later is not
// a database.
func (s *Store) vet(f *os.File, create, walk bool) error {
	fi, err := f.Stat()
	switch {
	case err != nil:
		return err
	case fi.Size() == 0 && !create:
		return corruptf("empty file")
	case fi.Size() == 0:
		return nil
	}
	walked, m, err := vetFile(f, fi.Size(), func(m boltMeta) bool { return walk || s.mustWalk(fi, m) })
	if walked {
		s.remember(fi, m)
	}
	return err
}

// damagedPages is the problem of a panic of bbolt on a damaged page (or
// a fault reading it), told without the runtime's or bbolt's words, which
// name the program's stumble rather than the file's damage (Check lists
// that).
const damagedPages = "damaged page structure: bbolt could not read it"

// diskFull maps the failure of a write for lack of room (ENOSPC, or EFBIG
// past a file size limit) to ErrDiskFull, naming the file. bbolt rolls the
// transaction back, so the file is as it was. bbolt formats the error of
// growing the file with %s, so that one is recognised by its text.
func (s *Store) diskFull(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	var cause error
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EFBIG):
		cause = err
	case strings.Contains(err.Error(), syscall.ENOSPC.Error()):
		cause = &errnoText{err, syscall.ENOSPC}
	case strings.Contains(err.Error(), syscall.EFBIG.Error()):
		cause = &errnoText{err, syscall.EFBIG}
	default:
		return err, false
	}
	return fmt.Errorf("%w writing results database %s (the write was rolled back; the database is as it was): %w", ErrDiskFull, s.path, cause), true
}

// errnoText is an error known only by its text to be errno.
type errnoText struct {
	err   error
	errno syscall.Errno
}

func (e *errnoText) Error() string   { return e.err.Error() }
func (e *errnoText) Unwrap() []error { return []error{e.err, e.errno} }

func mapOpenError(err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrLocked), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %v", ErrLocked, err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: no such file", ErrNotFound)
	case errors.Is(err, berrors.ErrInvalid):
		return corruptf("not a bbolt database: neither meta page (pages 0 and 1) is valid")
	case errors.Is(err, berrors.ErrChecksum):
		return corruptf("both meta pages (pages 0 and 1) fail their checksum")
	case errors.Is(err, berrors.ErrVersionMismatch):
		return corruptf("the meta pages are of another bbolt format version")
	case errors.As(err, &pe):
		return err
	}
	// "file size too small", ...
	return corruptf("not a valid bbolt file: %v", err)
}

// sweepTx is a sweep's buckets within one transaction.
type sweepTx struct {
	name                                         string
	b                                            *bolt.Bucket
	trials, keys, open, done, hist, ckpt, models *bolt.Bucket
	dec                                          *bolt.Bucket // nil until the first decision is recorded
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
			return nil, corruptf("sweep %q has no %q bucket", name, sweepSubBucket[i])
		}
	}
	st.dec = b.Bucket(bucketDecisions)
	return st, nil
}

// decisions returns trial n's decision records, nil if it has none.
func (st *sweepTx) decisions(n int) ([]json.RawMessage, error) {
	if st.dec == nil {
		return nil, nil
	}
	v := st.dec.Get(itob(n))
	if v == nil {
		return nil, nil
	}
	ds, err := decodeDecisions(v)
	if err != nil {
		return nil, fmt.Errorf("sweep %q trial %d: %w", st.name, n, err)
	}
	return ds, nil
}

// addDecision appends d (when not empty) to trial n's decision records,
// creating the decisions bucket if need be, and keeps at most MaxDecisions
// of them: the first and the latest.
func (st *sweepTx) addDecision(n int, d json.RawMessage) error {
	if len(d) == 0 {
		return nil
	}
	if st.dec == nil {
		if st.b.Get(bucketDecisions) != nil {
			return corruptf("sweep %q holds a plain value under %q", st.name, bucketDecisions)
		}
		var err error
		if st.dec, err = st.b.CreateBucket(bucketDecisions); err != nil {
			return err
		}
	}
	ds, err := st.decisions(n)
	if err != nil {
		return err
	}
	ds = append(ds, d)
	if len(ds) > MaxDecisions {
		ds = append(ds[:1], ds[len(ds)-MaxDecisions+1:]...)
	}
	v, err := encodeDecisions(ds)
	if err != nil {
		return fmt.Errorf("trial %d: decisions: %w", n, err)
	}
	return st.dec.Put(itob(n), v)
}

// noSweep is the error of a lookup of sweep name that found nothing. It
// lists the sweeps, and checks the listing first: a damaged page can make
// a lookup miss a sweep that is there, and a damaged key can rename one.
func noSweep(root *bolt.Bucket, name string) error {
	var names []string
	c := root.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			return corruptf("the sweeps bucket holds a plain value under %q", k)
		}
		if string(k) == name && name != "" {
			return corruptf("sweep %q is in the file, but looking it up misses it", name)
		}
		var rec struct{ Name string }
		b := root.Bucket(k)
		if b == nil {
			return corruptf("sweep %q is in the file, but looking it up misses it", k)
		}
		if err := json.Unmarshal(b.Get(keySweep), &rec); err != nil || rec.Name != string(k) {
			return corruptf("the bucket of sweep %q does not hold its record", k)
		}
		names = append(names, fmt.Sprintf("%q", k))
	}
	if len(names) == 0 {
		return fmt.Errorf("%w %q (the database has no sweeps)", ErrNoSweep, name)
	}
	return fmt.Errorf("%w %q (sweeps: %s)", ErrNoSweep, name, strings.Join(names, ", "))
}

// sweep decodes the sweep's record (without Spec and Canonical).
func (st *sweepTx) sweep() (*Sweep, error) {
	var sw Sweep
	if err := json.Unmarshal(st.b.Get(keySweep), &sw); err != nil {
		return nil, corruptf("sweep %q record: %v", st.name, err)
	}
	if sw.Name != st.name {
		return nil, corruptf("sweep %q record names sweep %q", st.name, sw.Name)
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

// scanTrials walks the sweep's trial keys in order, checking that they
// are 1..last, and returns last.
func (st *sweepTx) scanTrials() (last int, err error) {
	c := st.trials.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n, err := btoi(k)
		if err != nil {
			return 0, corruptf("sweep %q: trial key %x: %v", st.name, k, err)
		}
		if n != last+1 {
			return 0, corruptf("sweep %q: trial numbers jump from %d to %d", st.name, last, n)
		}
		last = n
	}
	return last, nil
}

// trial decodes trial n, or returns ErrNoTrial. Before it says there is
// no trial n, it checks the trial keys (scanTrials): a damaged page can
// make a lookup miss a trial that is there.
func (st *sweepTx) trial(n int) (*Trial, error) {
	v := st.trials.Get(itob(n))
	if v == nil || n <= 0 {
		last, err := st.scanTrials()
		if err != nil {
			return nil, err
		}
		if n >= 1 && n <= last {
			return nil, corruptf("sweep %q trial %d is in the file, but looking it up misses it", st.name, n)
		}
		if last == 0 {
			return nil, fmt.Errorf("%w %d in sweep %q (it has no trials)", ErrNoTrial, n, st.name)
		}
		return nil, fmt.Errorf("%w %d in sweep %q (trials are 1..%d)", ErrNoTrial, n, st.name, last)
	}
	return decodeTrial(st.name, n, v)
}

func decodeTrial(sweep string, n int, v []byte) (*Trial, error) {
	return results.DecodeTrial(sweep, n, v)
}

// putTrial writes t's record (without its Decisions, stored apart) and
// keeps the open and done indexes in step.
func (st *sweepTx) putTrial(t *Trial) error {
	rec := *t
	rec.Decisions = nil
	v, err := json.Marshal(&rec)
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

func held(t *Trial, owner Owner) error { return results.Held(t, owner) }

// numbers formats trial numbers for messages.
func numbers(ns []int) string {
	sort.Ints(ns)
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
