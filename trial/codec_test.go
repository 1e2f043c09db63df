package trial

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sweep-dev/sweep/nn"
)

// snapshotOf trains a tiny net for two epochs with the given optimizer and
// returns the snapshot taken at the end of the first.
func snapshotOf[T nn.Float](t *testing.T, optimizer string) *nn.Snapshot[T] {
	t.Helper()
	s, err := makeSnapshot[T](optimizer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func makeSnapshot[T nn.Float](optimizer string) (*nn.Snapshot[T], error) {
	x := nn.NewMat[float32](40, 3)
	y := make([]int, 40)
	for i := range y {
		y[i] = i % 2
		x.Data[3*i] = float32(y[i]) + 0.1*float32(i%5)
	}
	d := nn.Data{X: x, Y: y}
	cfg := nn.Config{Hidden: []int{4}, WeightScale: 0.1, Optimizer: optimizer, LearningRate: 0.01,
		LRDecay: 0.9, BatchSize: 10, Epochs: 2, Seed: 3}
	var snap *nn.Snapshot[T]
	hook := func(_ context.Context, s *nn.Snapshot[T]) (bool, error) {
		if snap == nil {
			snap = s
		}
		return false, nil
	}
	_, err := nn.Train[T](context.Background(), cfg, d, d, nn.TrainOptions[T]{Hook: hook})
	return snap, err
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, opt := range []string{"sgd", "adam"} {
		t.Run("float32/"+opt, func(t *testing.T) {
			s := snapshotOf[float32](t, opt)
			got, err := DecodeSnapshot[float32](EncodeSnapshot(s))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("round trip changed the snapshot:\n got %+v\nwant %+v", got, s)
			}
		})
		t.Run("float64/"+opt, func(t *testing.T) {
			s := snapshotOf[float64](t, opt)
			got, err := DecodeSnapshot[float64](EncodeSnapshot(s))
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

// A group member's snapshot (with the group's minibatch stream) is
// version 2 and round-trips; one without is still written as version 1.
func TestSnapshotRoundTripBatchRNG(t *testing.T) {
	s := snapshotOf[float32](t, "momentum")
	if v := EncodeSnapshot(s)[4]; v != 1 {
		t.Fatalf("a snapshot without a batch stream is written as version %d, want 1", v)
	}
	s.BatchRNG = []byte{1, 2, 3, 4, 5}
	b := EncodeSnapshot(s)
	if b[4] != 2 {
		t.Fatalf("a group member's snapshot is written as version %d, want 2", b[4])
	}
	got, err := DecodeSnapshot[float32](b)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, s)
	}
	if _, err := DecodeSnapshot[float32](b[:len(b)-3]); !errors.Is(err, ErrBadCheckpoint) {
		t.Errorf("truncated batch stream: %v, want ErrBadCheckpoint", err)
	}
}

func TestDecodeSnapshotErrors(t *testing.T) {
	good := EncodeSnapshot(snapshotOf[float32](t, "adam"))
	tests := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), good[4:]...),
		"version":   append(append([]byte(nil), good[:4]...), append([]byte{9, 0}, good[6:]...)...),
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte(nil), good...), 0),
		"huge len":  append(append([]byte(nil), good[:31]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeSnapshot[float32](b); !errors.Is(err, ErrBadCheckpoint) {
				t.Errorf("err = %v, want ErrBadCheckpoint", err)
			}
		})
	}
	if _, err := DecodeSnapshot[float64](good); !errors.Is(err, ErrBadCheckpoint) {
		t.Errorf("float32 checkpoint decoded as float64: err = %v", err)
	}
}

// FuzzDecodeSnapshot: arbitrary bytes never panic, and what decodes
// re-encodes to the same bytes.
func FuzzDecodeSnapshot(f *testing.F) {
	s, err := makeSnapshot[float32]("sgd")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeSnapshot(s))
	f.Add([]byte("SWCK\x01\x00\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSnapshot[float32](b)
		if err != nil {
			return
		}
		if again := EncodeSnapshot(s); string(again) != string(b) {
			t.Errorf("re-encoding differs: %d bytes vs %d", len(again), len(b))
		}
	})
}
