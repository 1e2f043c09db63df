package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to every decoder of stored records
// (trial records with their adaptive state, decision lists too): each
// returns a value or an error wrapping ErrCorrupt, never panics, and what
// decodes re-encodes to the same value.
func FuzzDecode(f *testing.F) {
	f.Add(encodeHistory(history(3)))
	f.Add(encodeHistory(nil))
	f.Add(encodeCheckpoint(Checkpoint{Epoch: 2, Iteration: 590, Data: []byte("snap")}))
	m, _ := encodeModel(twoLayer(3, 2, 2, 1))
	f.Add(m)
	f.Add([]byte(`{"trial":1,"key":"a","params":{"lr":0.001,"hidden":[50,50]},"status":"done","val_acc":0.5}`))
	f.Add([]byte(`{"trial":1,"params":[1,2]}`))
	f.Add([]byte(`{"trial":1,"key":"a","status":"paused","target":3,"rung":1,"bracket":2,"evals":[{"resource":1,"value":"NaN"}],"promoted":true}`))
	f.Add([]byte(`{"trial":1,"evals":[{"resource":"x"}]}`))
	f.Add([]byte(`[{"action":"promote","trial":3},{"why":"x"}]`))
	f.Add([]byte(`{"resource":3,"value":0.41}`))
	f.Add([]byte(`{"resource":12,"value":"-Inf"}`))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Add([]byte(` { "a\\"b" : "x\\u00e9" , "c":[1,{"d":"]"}],"e":-1.5e-3,"f":null,"g":true} `))
	f.Add([]byte(`{"a":1e400}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decodeHistory(b); err == nil {
			if h2, err := decodeHistory(encodeHistory(h)); err != nil || len(h2) != len(h) {
				t.Fatalf("history round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("history: %v", err)
		}
		if ck, err := decodeCheckpoint(b); err == nil {
			if ck2, err := decodeCheckpoint(encodeCheckpoint(*ck)); err != nil || len(ck2.Data) != len(ck.Data) {
				t.Fatalf("checkpoint round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("checkpoint: %v", err)
		}
		if m, err := decodeModel(b); err == nil {
			enc, err := encodeModel(m)
			if err != nil {
				t.Fatalf("re-encode a decoded model: %v", err)
			}
			m2, err := decodeModel(enc)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("model round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("model: %v", err)
		}
		if tr, err := decodeTrial("g", 1, b); err == nil {
			if _, err := json.Marshal(tr); err != nil {
				t.Fatalf("re-encode a decoded trial: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trial: %v", err)
		}
		if json.Valid(b) {
			var got Params
			gotErr := got.UnmarshalJSON(b)
			want, wantErr := referenceParams(b)
			if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !reflect.DeepEqual(got, want)) {
				t.Fatalf("Params.UnmarshalJSON(%q) = %#v, %v; reference %#v, %v", b, got, gotErr, want, wantErr)
			}
		}
		if ds, err := decodeDecisions(b); err == nil {
			enc, err := encodeDecisions(ds)
			if err != nil {
				t.Fatalf("re-encode decoded decisions: %v", err)
			}
			if ds2, err := decodeDecisions(enc); err != nil || len(ds2) != len(ds) {
				t.Fatalf("decisions round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decisions: %v", err)
		}
		if e, ok := parseEval(b); ok {
			var j evalJSON
			if err := json.Unmarshal(b, &j); err != nil || j.Resource != e.Resource || (float64(j.Value) != e.Value && !(math.IsNaN(e.Value) && math.IsNaN(float64(j.Value)))) {
				t.Fatalf("parseEval(%q) = %+v; encoding/json: %+v, %v", b, e, j, err)
			}
		}
		var sw Sweep
		_ = json.Unmarshal(b, &sw)
		decodeDone(b)
		decodeSchema(b)
		btoi(b)
	})
}

// FuzzOpenFile gives the Store files of arbitrary bytes. Open and
// OpenExisting give an error or a usable store, never a panic or a crash (a
// page beyond the end of the file faults: SetPanicOnFault turns that into
// ErrCorrupt, see testdata/fuzz/FuzzOpenFile), and a refused file is
// untouched. Then every read method, the checks and a run's first write
// are called as TestCorruptFile calls them (exerciseDamaged): no panic,
// every error a sentinel or ErrCorrupt naming the file, and a file that
// fails its check is not written to.
//
// Page trees with cycles, on which bbolt loops or recurses without end,
// are refused by the walk of a Store's first transaction (walkPages). The
// body is slow (some twenty transactions an input), so fuzzing spends most
// of its time minimising; truncated files, flipped bytes, bad page types
// and files of other formats are covered by the seeds.
func FuzzOpenFile(f *testing.F) {
	path, kept, dropped := corruptFixture(f)
	valid, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:4096])
	f.Add(valid[:len(valid)/2])
	flipped := append([]byte(nil), valid...)
	for i := 0; i < len(flipped); i += 509 {
		flipped[i] ^= 0x5a
	}
	f.Add(flipped)
	for p := 4096; p < len(valid); p += 4096 * 7 {
		page := append([]byte(nil), valid...)
		page[p+8] ^= 0xff // a page's type
		f.Add(page)
	}
	f.Add([]byte("SQLite format 3\x00"))
	calls := storeCalls(kept, dropped)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenExisting(path, Options{}); err != nil {
			if _, err := Open(path, Options{}); err != nil {
				checkDamagedError(t, "Open", path, err, sentinelOf(err))
				if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
					t.Fatalf("a refused file was changed")
				}
			}
		}
		exerciseDamaged(t, path, calls, nil)
	})
}

// referenceParams decodes a params object with json.Decoder's tokens.
func referenceParams(data []byte) (Params, error) {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	out := Params{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, Param{Name: tok.(string), Value: v})
	}
	return out, nil
}
