package results

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// jsonFloat is a float64 whose JSON form is a number, or one of the strings
// "NaN", "+Inf" and "-Inf", which JSON numbers cannot express (a diverged
// trial's losses can be any of them).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
	case `"+Inf"`, `"Inf"`:
		*f = jsonFloat(math.Inf(1))
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
	case "null":
	default:
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("bad number %.20s", b)
		}
		*f = jsonFloat(v)
	}
	return nil
}

// plainTrial is Trial without its JSON methods.
type plainTrial Trial

// trialJSON is a Trial's JSON form: its float metrics, at a shallower depth,
// take the place of the embedded Metrics' float64 fields.
type trialJSON struct {
	*plainTrial
	ValAcc      jsonFloat  `json:"val_acc"`
	ValLoss     jsonFloat  `json:"val_loss"`
	TrainAcc    jsonFloat  `json:"train_acc"`
	FinalValAcc jsonFloat  `json:"final_val_acc"`
	Epochs      jsonFloat  `json:"epochs"`
	TestAcc     *jsonFloat `json:"test_acc,omitempty"`
}

// MarshalJSON encodes t with the field names of its struct tags; a NaN or
// infinite metric is encoded as the string "NaN", "+Inf" or "-Inf".
func (t Trial) MarshalJSON() ([]byte, error) {
	j := trialJSON{
		plainTrial: (*plainTrial)(&t),
		ValAcc:     jsonFloat(t.ValAcc), ValLoss: jsonFloat(t.ValLoss), TrainAcc: jsonFloat(t.TrainAcc),
		FinalValAcc: jsonFloat(t.FinalValAcc), Epochs: jsonFloat(t.Epochs),
		TestAcc: (*jsonFloat)(t.TestAcc),
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (t *Trial) UnmarshalJSON(b []byte) error {
	*t = Trial{}
	j := trialJSON{plainTrial: (*plainTrial)(t)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t.ValAcc, t.ValLoss, t.TrainAcc = float64(j.ValAcc), float64(j.ValLoss), float64(j.TrainAcc)
	t.FinalValAcc, t.Epochs = float64(j.FinalValAcc), float64(j.Epochs)
	t.TestAcc = (*float64)(j.TestAcc)
	return nil
}

// evalJSON is an Eval's JSON form.
type evalJSON struct {
	Resource int       `json:"resource"`
	Value    jsonFloat `json:"value"`
}

// MarshalJSON encodes e as {"resource":R,"value":V}; a NaN or infinite
// value is encoded as the string "NaN", "+Inf" or "-Inf".
func (e Eval) MarshalJSON() ([]byte, error) {
	return json.Marshal(evalJSON{e.Resource, jsonFloat(e.Value)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (e *Eval) UnmarshalJSON(b []byte) error {
	// ClaimNext decodes every evaluation of every trial for its scheduler,
	// under the write lock: MarshalJSON's exact form is parsed by hand
	// (4x faster than encoding/json), anything else by encoding/json.
	if v, ok := parseEval(b); ok {
		*e = v
		return nil
	}
	var j evalJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Eval{Resource: j.Resource, Value: float64(j.Value)}
	return nil
}

// parseEval parses an Eval in the exact form MarshalJSON writes,
// {"resource":R,"value":V}; ok is false for any other form.
func parseEval(b []byte) (e Eval, ok bool) {
	const head, mid = `{"resource":`, `,"value":`
	if len(b) < len(head)+len(mid)+3 || string(b[:len(head)]) != head || b[len(b)-1] != '}' {
		return Eval{}, false
	}
	b = b[len(head) : len(b)-1]
	i := 0
	for i < len(b) && i < 10 && b[i] >= '0' && b[i] <= '9' {
		e.Resource = e.Resource*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || (b[0] == '0' && i > 1) || len(b)-i < len(mid) || string(b[i:i+len(mid)]) != mid {
		return Eval{}, false
	}
	v := b[i+len(mid):]
	if len(v) == 0 || v[0] == '"' || v[0] == 'n' || v[0] == '+' {
		var f jsonFloat
		if len(v) == 0 || v[0] == '+' || f.UnmarshalJSON(v) != nil {
			return Eval{}, false
		}
		e.Value = float64(f)
		return e, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || !json.Valid(v) {
		return Eval{}, false
	}
	e.Value = f
	return e, true
}

// DecodeTrial decodes the stored JSON record v of trial n of sweep,
// checking that it names trial n and has a valid status; a failure is a
// corruption (errors.Is(err, ErrCorrupt)).
func DecodeTrial(sweep string, n int, v []byte) (*Trial, error) {
	var t Trial
	// Decoding without Trial's UnmarshalJSON saves a pass over the record;
	// only a record with a NaN or infinite metric needs the method.
	if err := json.Unmarshal(v, (*plainTrial)(&t)); err != nil {
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, Corruptf("sweep %q trial %d record: %v", sweep, n, err)
		}
	}
	if t.Number != n {
		return nil, Corruptf("sweep %q trial %d record says trial %d", sweep, n, t.Number)
	}
	if !t.Status.Valid() {
		return nil, Corruptf("sweep %q trial %d record: status %q is not a status", sweep, n, t.Status)
	}
	return &t, nil
}
