package data_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sweep-dev/sweep/data"
)

func ExampleLoad() {
	// The embedded Fashion-MNIST subset: no files needed.
	ds, err := data.Load(context.Background(), data.Options{Source: data.SourceEmbedded})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Name, ds.Shape, ds.Train.N, ds.Val.N, ds.Test.N, ds.Train.D)
	fmt.Println("first training image:", ds.Classes[ds.Train.Y[0]])
	// Output:
	// fashion-mnist-subset [1 28 28] 9000 1000 2000 784
	// first training image: Ankle boot
}

func ExampleLoad_errors() {
	_, err := data.Load(context.Background(), data.Options{Source: data.SourceCIFAR10, Path: "/nonexistent"})
	fmt.Println(errors.Is(err, data.ErrNotFound))
	_, err = data.Load(context.Background(), data.Options{Source: data.SourceEmbedded, Train: 9500, Val: 1000})
	fmt.Println(errors.Is(err, data.ErrBadOptions))
	// Output:
	// true
	// true
}
