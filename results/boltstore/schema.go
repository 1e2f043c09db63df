package boltstore

import (
	"bytes"
	"encoding/binary"
	"math"

	bolt "go.etcd.io/bbolt"
)

// This file is the whole on-disk layout of a results database. Nothing else
// in the package names a bucket or builds a key.
//
// Root buckets:
//
//	meta                      bucket
//	  "schema"                uint64 big-endian: schemaVersion
//	sweeps                    bucket, one nested bucket per sweep, keyed by the sweep's name
//	  <name>                  bucket
//	    "sweep"               JSON of Sweep (without Spec and Canonical); records
//	                          written before test_evaluations existed lack it
//	                          (see Sweep.TestSetUses), and before elapsed_s and
//	                          elapsed_at existed, those (read as 0)
//	    "spec"                raw bytes: the spec as written
//	    "canonical"           raw bytes: search's canonical form of the spec
//	    trials                bucket: trial number (uint64 big-endian) -> JSON of Trial, without
//	                          Decisions; its adaptive fields (target, rung, bracket, evals as
//	                          [{"resource":R,"value":V}], promoted) and its group are omitted
//	                          when zero (records written before they existed lack them)
//	    keys                  bucket: trial key (string) -> trial number (uint64 big-endian)
//	    open                  bucket: number -> status (string), for every trial not finished
//	                          (pending, running, paused, interrupted): what Claim and
//	                          ClaimNext scan
//	    done                  bucket: number -> val_acc, val_loss (2 x float64 bits, big-endian),
//	                          for every done trial: what ranking for kept models scans
//	    history               bucket: number -> history encoding (below)
//	    checkpoints           bucket: blob (below) of each unfinished trial's checkpoint encoding
//	                          (a paused trial always has one; it is deleted when the trial finishes)
//	    models                bucket: blob (below) of the model encoding of the best Keep done trials
//	    decisions             bucket, optional (created by the first decision recorded; a sweep
//	                          without one has no decisions): trial number -> JSON array of the
//	                          trial's decision records (Trial.Decisions), each opaque JSON, at
//	                          most MaxDecisions of them
//
// A blob is a large value split in chunks so that bbolt never needs a long
// run of free pages for it (which fragments the file and grows it): keys are
// trial number (8 bytes big-endian) + chunk index (4 bytes big-endian);
// chunk 0 holds the total length (uint64 big-endian), chunks 1.. hold up to
// blobChunk bytes each.
//
// Binary encodings, all starting with a one-byte format version (1):
//
//	history     1, uvarint n, n rows of 7 x 8 bytes big-endian:
//	            epoch (float64 bits), iteration (uint64), learning rate, loss,
//	            train acc, val acc, val loss (float64 bits)
//	checkpoint  1, epoch (float64 bits, 8 bytes), iteration (uint64, 8 bytes), data (the rest)
//	model       1, uvarint tensor count, per tensor: uvarint len + name, uvarint len + dtype,
//	            uvarint rank, rank uvarint dims, uvarint len + data (little-endian values)
//
// JSON records are decoded with encoding/json; any decoding failure is ErrCorrupt.
// A float that can be NaN or infinite (metrics, evaluations) is encoded as the
// string "NaN", "+Inf" or "-Inf" then (jsonfloat.go). Large byte arrays
// (checkpoints, weights) are never inside JSON, nor are decision records in
// a trial's record: listing trials, and ClaimNext's reading of every trial
// for its scheduler, decode neither.
//
// Invariants (Check verifies them all): every sweep bucket holds its record,
// naming it, spec, canonical form and the seven sub-buckets (decisions is
// optional); the record's elapsed time is not negative; trial numbers
// are 1..N, each record has its key's number and a valid status; a running
// trial, and only a running one, has a lease; keys maps each trial's key to
// it and nothing else; open lists exactly the unfinished trials with their
// status, done exactly the done trials with their metrics; histories,
// checkpoints (of unfinished trials) and models (of done trials) belong to
// existing trials and decode; Best and every test evaluation name a done
// trial, Best the latest evaluation. Adaptive state: a trial's Rung is
// len(Evals), whose resources are positive and increasing; Target and
// Bracket are not negative; a Promoted trial has reached a rung; a paused
// trial has reached a rung, is not Promoted and has a checkpoint; decision
// records belong to existing trials and decode. A trial's Group is not
// negative.
//
// Schema versions:
//
//	1  the layout above without the paused status. Its readers ignore what
//	   they do not know (the adaptive fields, the decisions bucket, the
//	   sweep's elapsed time), but refuse a paused trial as corrupt.
//	2  the paused status. A file at 1 is read and written as it is, and
//	   raised to 2 by the first Pause, in its transaction, so a reader of
//	   version 1 refuses it as written by a newer sweep rather than as
//	   damaged.
//	3  trial groups (Trial.Group, "group" in a trial's record, omitted when
//	   0). A new file is created at 3; a file at 1 or 2 is read and written
//	   as it is, and raised to 3 by the first write of a trial with a group
//	   (EnsureSweep, Load), in its transaction: a reader of version 2 would
//	   drop the field when it rewrites a record, splitting the group, so it
//	   must refuse the file instead.
//
// Below the buckets lies bbolt's own page format, which bboltfile.go reads
// to check a file before bbolt maps it.

// schemaVersion is the layout this code reads and writes. A file with a
// higher version is refused with ErrSchema.
const schemaVersion = 3

// schemaPaused is the version that introduced the paused status: a file
// of a lower version is raised to it by the first Pause (raiseSchema).
const schemaPaused = 2

// schemaGroups is the version that introduced trial groups: a file of a
// lower version is raised to it by the first write of a trial with a
// group (raiseSchema).
const schemaGroups = 3

var (
	bucketMeta   = []byte("meta")
	keySchema    = []byte("schema")
	bucketSweeps = []byte("sweeps")

	keySweep       = []byte("sweep")
	keySpec        = []byte("spec")
	keyCanonical   = []byte("canonical")
	bucketTrials   = []byte("trials")
	bucketKeys     = []byte("keys")
	bucketOpen     = []byte("open")
	bucketDone     = []byte("done")
	bucketHistory  = []byte("history")
	bucketCkpt     = []byte("checkpoints")
	bucketModels   = []byte("models")
	sweepSubBucket = [][]byte{bucketTrials, bucketKeys, bucketOpen, bucketDone, bucketHistory, bucketCkpt, bucketModels}

	// bucketDecisions is optional: created by the first decision recorded.
	bucketDecisions = []byte("decisions")
)

// itob is the key of trial number n.
func itob(n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

// btoi decodes a trial-number key or value.
func btoi(b []byte) (int, error) {
	if len(b) != 8 {
		return 0, corruptf("trial number of %d bytes", len(b))
	}
	v := binary.BigEndian.Uint64(b)
	if v > math.MaxInt32 {
		return 0, corruptf("trial number %d out of range", v)
	}
	return int(v), nil
}

// encodeDone is the value of a done trial in the done bucket.
func encodeDone(m Metrics) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], math.Float64bits(m.ValAcc))
	binary.BigEndian.PutUint64(b[8:], math.Float64bits(m.ValLoss))
	return b[:]
}

func decodeDone(b []byte) (valAcc, valLoss float64, err error) {
	if len(b) != 16 {
		return 0, 0, corruptf("done index entry of %d bytes", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b[:8])), math.Float64frombits(binary.BigEndian.Uint64(b[8:])), nil
}

// encodeSchema is the value of the schema key.
func encodeSchema(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// raiseSchema raises the file's schema version to v if it is lower, in
// the write transaction tx (whose schema was checked).
func raiseSchema(tx *bolt.Tx, v uint64) error {
	meta := tx.Bucket(bucketMeta)
	old, err := decodeSchema(meta.Get(keySchema))
	if err != nil || old >= v {
		return err
	}
	return meta.Put(keySchema, encodeSchema(v))
}

func decodeSchema(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, corruptf("schema version of %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// blobChunk is the size of a blob's chunks: with its page header and leaf
// element, a chunk's node fits in four 4 KB pages.
const blobChunk = 16<<10 - 128

// maxBlob bounds the length a blob header may announce.
const maxBlob = 1 << 36

func blobKey(n int, i int) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, uint64(n))
	binary.BigEndian.PutUint32(k[8:], uint32(i))
	return k
}

// putBlob stores data as trial n's blob in b, replacing any previous one.
// data must not change until the transaction ends.
func putBlob(b *bolt.Bucket, n int, data []byte) error {
	if err := deleteBlob(b, n); err != nil {
		return err
	}
	if err := b.Put(blobKey(n, 0), binary.BigEndian.AppendUint64(nil, uint64(len(data)))); err != nil {
		return err
	}
	for i, off := 1, 0; off < len(data); i, off = i+1, off+blobChunk {
		if err := b.Put(blobKey(n, i), data[off:min(off+blobChunk, len(data))]); err != nil {
			return err
		}
	}
	return nil
}

// getBlob returns a copy of trial n's blob in b, or nil if it has none.
func getBlob(b *bolt.Bucket, n int) ([]byte, error) {
	c := b.Cursor()
	k, v := c.Seek(blobKey(n, 0))
	if k == nil || !bytes.HasPrefix(k, itob(n)) {
		return nil, nil
	}
	if !bytes.Equal(k, blobKey(n, 0)) {
		return nil, corruptf("blob of trial %d: chunk %x without a header chunk", n, k)
	}
	if len(v) != 8 || binary.BigEndian.Uint64(v) > maxBlob {
		return nil, corruptf("blob of trial %d: bad header", n)
	}
	total := int(binary.BigEndian.Uint64(v))
	out := make([]byte, 0, min(total, 1<<26))
	prefix := itob(n)
	i := 1
	for k, v = c.Next(); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != 12 || int(binary.BigEndian.Uint32(k[8:])) != i || len(out)+len(v) > total {
			return nil, corruptf("blob of trial %d: bad chunk %x", n, k)
		}
		out = append(out, v...)
		i++
	}
	if len(out) != total {
		return nil, corruptf("blob of trial %d: %d of %d bytes", n, len(out), total)
	}
	return out, nil
}

// blobInfo is what a check learns of one blob without copying it whole.
type blobInfo struct {
	n     int    // the trial
	total int    // its length, from its header chunk
	head  []byte // a copy of its first bytes (up to 64): enough for a checkpoint's header
	err   error  // what is wrong with its chunks, if anything
}

// scanBlobs walks the blobs of b in key order and checks each: a header
// chunk, then chunks 1, 2, ... whose lengths add up to the header's.
func scanBlobs(b *bolt.Bucket) []blobInfo {
	var (
		out       []blobInfo
		cur       *blobInfo
		got, next int
	)
	finish := func() {
		if cur != nil {
			if cur.err == nil && got != cur.total {
				cur.err = corruptf("blob of trial %d: %d of %d bytes", cur.n, got, cur.total)
			}
			out = append(out, *cur)
			cur = nil
		}
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n, err := btoi(k[:min(len(k), 8)])
		if err != nil || len(k) != 12 || v == nil {
			finish()
			out = append(out, blobInfo{n: -1, err: corruptf("blob key %x", k)})
			continue
		}
		i := int(binary.BigEndian.Uint32(k[8:]))
		if cur == nil || n != cur.n {
			finish()
			cur, got, next = &blobInfo{n: n}, 0, 1
			switch {
			case i != 0:
				cur.err = corruptf("blob of trial %d: chunk %d without a header chunk", n, i)
			case len(v) != 8 || binary.BigEndian.Uint64(v) > maxBlob:
				cur.err = corruptf("blob of trial %d: bad header", n)
			default:
				cur.total = int(binary.BigEndian.Uint64(v))
			}
			continue
		}
		if cur.err != nil {
			continue
		}
		if i != next || got+len(v) > cur.total {
			cur.err = corruptf("blob of trial %d: bad chunk %d", n, i)
			continue
		}
		if i == 1 {
			cur.head = bytes.Clone(v[:min(len(v), 64)])
		}
		got += len(v)
		next++
	}
	finish()
	return out
}

// deleteBlob deletes trial n's blob from b, if any.
func deleteBlob(b *bolt.Bucket, n int) error {
	prefix := itob(n)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// blobNumbers lists the trials that have a blob in b.
func blobNumbers(b *bolt.Bucket) ([]int, error) {
	var ns []int
	err := b.ForEach(func(k, _ []byte) error {
		if len(k) != 12 {
			return corruptf("blob key %x", k)
		}
		if binary.BigEndian.Uint32(k[8:]) == 0 {
			n, err := btoi(k[:8])
			if err != nil {
				return err
			}
			ns = append(ns, n)
		}
		return nil
	})
	return ns, err
}
