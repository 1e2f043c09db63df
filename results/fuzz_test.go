package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to every decoder of stored records
// (trial records with their adaptive state, decision lists too): each
// returns a value or an error wrapping ErrCorrupt, never panics, and what
// decodes re-encodes to the same value.
func FuzzDecode(f *testing.F) {
	f.Add(EncodeHistory([]Epoch{
		{Epoch: 1, Iteration: 295, LearningRate: 1e-3, Loss: 2.3, TrainAcc: 0.3, ValAcc: 0.29, ValLoss: 2.2},
		{Epoch: 2, Iteration: 590, LearningRate: 9.5e-4, Loss: math.NaN(), TrainAcc: 0.31, ValAcc: 0.3, ValLoss: math.Inf(1)},
	}))
	f.Add(EncodeHistory(nil))
	f.Add(EncodeCheckpoint(Checkpoint{Epoch: 2, Iteration: 590, Data: []byte("snap")}))
	m, _ := EncodeModel(&Model{Tensors: []Tensor{
		{Name: "W1", Shape: []int{3, 2}, DType: "float32", Data: make([]byte, 4*6)},
		{Name: "b1", Shape: []int{2}, DType: "float64", Data: make([]byte, 8*2)},
	}})
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
		if h, err := DecodeHistory(b); err == nil {
			if h2, err := DecodeHistory(EncodeHistory(h)); err != nil || len(h2) != len(h) {
				t.Fatalf("history round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("history: %v", err)
		}
		if ck, err := DecodeCheckpoint(b); err == nil {
			if ck2, err := DecodeCheckpoint(EncodeCheckpoint(*ck)); err != nil || len(ck2.Data) != len(ck.Data) {
				t.Fatalf("checkpoint round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("checkpoint: %v", err)
		}
		if m, err := DecodeModel(b); err == nil {
			enc, err := EncodeModel(m)
			if err != nil {
				t.Fatalf("re-encode a decoded model: %v", err)
			}
			m2, err := DecodeModel(enc)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("model round trip: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("model: %v", err)
		}
		if tr, err := DecodeTrial("g", 1, b); err == nil {
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
		if ds, err := DecodeDecisions(b); err == nil {
			enc, err := EncodeDecisions(ds)
			if err != nil {
				t.Fatalf("re-encode decoded decisions: %v", err)
			}
			if ds2, err := DecodeDecisions(enc); err != nil || len(ds2) != len(ds) {
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
