// Package nn holds the networks of the CS231n / UCLA C147/C247 coursework in
// Go: layers, fully connected nets, update rules, the trainer (the
// coursework's Solver) and gradient checks. It knows nothing of sweeps,
// storage or files, and is usable as a library on its own.
//
// # Element type
//
// Everything numeric is generic over Float (float32 or float64). Training
// runs in float32 for speed; gradient checks run in float64. Matrix products
// go through gonum's blas32 / blas64 implementations, so a build that
// installs another BLAS (blas32.Use) speeds up every net; BLASBackend names
// the one in use. Losses and other reductions are accumulated in float64.
//
// # Layout conventions
//
//   - Matrices (Mat) are dense and row-major: element (i, j) is Data[i*Cols+j].
//     A Mat is a view; copying it shares Data.
//   - A minibatch is N rows of D features. An input of shape (N, d1, ..., dk)
//     is viewed as N×(d1·...·dk) with FromShape, without copying.
//   - Weights are (in, out): W is D_in×D_out and a layer computes x·W + b, as
//     in the coursework; biases have D_out elements.
//   - A net's parameters live in one flat slice in the order W1, b1, W2, b2,
//     ... (Layout gives the offsets); gradients live in a second slice of the
//     same layout. Update rules, snapshots and kept models work on these flat
//     slices.
//   - L2 regularisation is 0.5·reg·Σ‖W‖² over weights only, gradient reg·W.
//
// # Who owns which buffer
//
//   - Layer functions (AffineForward, ReluBackward, SoftmaxLoss, ...) are
//     stateless: the caller owns every input and output, and outputs are
//     written in place. Where a doc comment says so, an output may alias an
//     input.
//   - A FullyConnectedNet owns its parameters, gradients and scratch
//     (activations of each layer, their gradients, the scores). Scratch is
//     sized on first use for the largest batch seen and reused afterwards.
//     Scores returns a view of that scratch, valid until the next call.
//   - An UpdateRule owns its state (velocity, moments); State returns a copy.
//   - Train and TrainGroup own their minibatch buffers (and TrainGroup the
//     fused products' buffers); a Snapshot passed to an epoch hook, and a
//     Result, belong to the caller. A group's member is an ordinary
//     FullyConnectedNet with its own Params and Grads: its snapshots and
//     kept models are those of Train. While it trains in the group, though,
//     its first layer's weights live in its block of the group's buffer
//     (transposed, with its rule's state for them in the same order),
//     updated there in place, and its net's W1 is brought up to date
//     before anything reads it: evaluations, snapshots, results.
//   - Data passed to Train and Evaluate is only read.
//
// # Concurrency
//
// A net, an update rule and a training are not safe for concurrent use. Many
// trainings may run at once, each with its own net, sharing read-only Data.
// Layer functions are safe to call concurrently on distinct outputs.
//
// # Randomness and reproducibility
//
// Randomness is injected: NewFullyConnectedNet takes a *rand.Rand, and Train
// seeds a math/rand/v2 PCG from Config.Seed, used in this order: initial
// weights (layer by layer, row-major), the training-accuracy subset, then
// the minibatch indices of each iteration. A Snapshot holds the PCG's state,
// so a training resumed from a snapshot ends bitwise identical to an
// uninterrupted one.
//
// # Groups
//
// Trials that share their minibatches can be trained side by side
// (TrainGroup): one minibatch stream for the group, seeded by
// GroupOptions.Seed, one gather per step, and the first layer of every
// member computed as one wide product, X·[W1_a | W1_b | ...], and one for
// every dW1 (the first layer's products are most of a step's cost, and
// wider products run faster). The rest of each net, its update, its
// evaluations and its outcome are each member's, as in Train; each member's
// own source draws its weights, training subset and dropout masks, but not
// its minibatches. A member's result depends on its config and on the
// group (the members and the seed), not on the group's interruptions: the
// fused products' layout is a function of the group's history (see
// TrainGroup), because OpenBLAS rounds a column of a product according to
// the product's width. With gonum's products a member's columns do not
// depend on the others, and a member trains bitwise as it would in a
// group of one. A group computes the first layer transposed (x·(W1ᵀ)ᵀ,
// dW1ᵀ = dZ1ᵀ·x, so that each member's weights are one contiguous block
// that its rule updates in place, without copies): a member trains as
// Train's loop would on the group's minibatches within rounding, not
// bitwise.
//
// # Errors
//
// A configuration, data set or snapshot that cannot be trained is an error
// wrapping ErrConfig. A NaN or Inf loss is not an error but the outcome
// Diverged. Shape mismatches in direct calls of the layer functions are
// programmer errors and panic, as gonum's do.
//
// # Speed
//
// Matrix products go through gonum's pure-Go BLAS by default, or OpenBLAS
// through cgo in builds with -tags openblas (BLASBackend says which). A
// steady-state training step, of Train or of a group, does not allocate
// with OpenBLAS (gonum's parallel gemm allocates a few small objects per
// call for its goroutines): the minibatch is gathered into a reused buffer,
// and the first layer does not compute the gradient with respect to the
// data. In a group of 8 to 24, a trial's step costs about a third less
// than Train's step with OpenBLAS (BenchmarkTrainGroupStep has the
// figures).
//
// OpenBLAS runs one thread per product: its results depend on its thread
// count, and a sweep's results must not depend on its number of workers.
// Sweeps use the cores by training several nets at once instead.
package nn
