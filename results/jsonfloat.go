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
