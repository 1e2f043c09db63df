package data

import (
	"context"
	"embed"
	"io/fs"
)

// The embedded default: a fixed subset of Fashion-MNIST, cut from Debian's
// dataset-fashion-mnist by fashion-mnist-subset/cut.py. See
// fashion-mnist-subset/README.md for exactly which images, their checksums
// and the licence (MIT, Zalando SE).
//
//go:generate /usr/bin/python3 fashion-mnist-subset/cut.py
//go:embed fashion-mnist-subset/*.gz
var embeddedFS embed.FS

const (
	embeddedDir  = "fashion-mnist-subset"
	embeddedName = "fashion-mnist-subset"
	// EmbeddedTrain and EmbeddedTest are the numbers of training-side and
	// test-side images of the embedded subset: its default split is
	// train 9000, val 1000, test 2000.
	EmbeddedTrain = 10000
	EmbeddedTest  = 2000
)

// loadEmbedded loads the embedded Fashion-MNIST subset.
func loadEmbedded(ctx context.Context, o Options) (*Dataset, error) {
	sub, err := fs.Sub(embeddedFS, embeddedDir)
	if err != nil {
		return nil, err
	}
	ds, err := loadIDX(ctx, sub, "embedded:"+embeddedDir, o, embeddedName, fashionClasses)
	if ds != nil {
		ds.Path = ""
	}
	return ds, err
}
