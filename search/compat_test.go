package search

import (
	"errors"
	"reflect"
	"testing"
)

const baseSpec = `name = "c"
seed = 1
workers = 2
[data]
source = "fashion-mnist"
train = 59000
[train]
iterations = 1000
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`

func TestCheckCompatible(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []Change // nil: compatible
	}{
		{"same", baseSpec, nil},
		{"more grid values", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[search]
keep = 5
[search.params]
learning_rate = [1e-2, 1e-3, 1e-4]
reg = [0.1, 0.25, 0.5]
`, nil},
		{"a searched key becomes fixed", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[train]
reg = 0.1
[search.params]
learning_rate = [1e-3, 1e-4]
`, nil},
		{"fixed settings changed", `name = "c"
seed = 2
[data]
source = "fashion-mnist"
[train]
epochs = 10
batch_size = 100
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`, []Change{
			{Key: "seed", Old: "1", New: "2"},
			{Key: "data.train", Old: "59000", New: ""},
			{Key: "train.iterations", Old: "1000", New: ""},
			{Key: "train.batch_size", Old: "200", New: "100"},
			{Key: "train.epochs", Old: "", New: "10"},
		}},
		{"method changed", `name = "c"
seed = 1
[data]
source = "fashion-mnist"
train = 59000
[search]
method = "random"
trials = 4
[search.params]
learning_rate = [1e-3, 1e-4]
reg = [0.1, 0.25]
`, []Change{{Key: "search.method", Old: `"grid"`, New: `"random"`}, {Key: "search.sampler", Old: "", New: `"random"`}}},
	}
	old := mustParse(t, baseSpec)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCompatible(old, mustParse(t, tt.spec))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckCompatible: %v", err)
				}
				return
			}
			var ce *ChangeError
			if !errors.As(err, &ce) || !errors.Is(err, ErrChanged) {
				t.Fatalf("CheckCompatible = %v, want a *ChangeError", err)
			}
			if !reflect.DeepEqual(ce.Changes, tt.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", ce.Changes, tt.want)
			}
		})
	}
}
