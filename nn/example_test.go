package nn_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/sweep-dev/sweep/nn"
)

// The affine layer of the coursework: an input of shape (2, 2, 2) is viewed
// as 2 rows of 4 features.
func ExampleAffineForward() {
	x := nn.FromShape([]float64{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2)
	w := nn.FromShape([]float64{1, 0, 0, 1, 1, 0, 0, 1}, 4, 2)
	b := []float64{0.5, -0.5}
	out := nn.NewMat[float64](2, 2)
	nn.AffineForward(out, x, w, b)
	fmt.Println(out.Data)
	// Output: [4.5 5.5 12.5 13.5]
}

// A two-layer net's loss and gradients, and a gradient check.
func ExampleFullyConnectedNet_Loss() {
	rng := rand.New(rand.NewPCG(1, 2))
	net, _ := nn.NewFullyConnectedNet[float64](4, []int{8}, 3, nn.ReLU, 0.1, rng)
	net.Reg = 0.1
	x := nn.FromShape([]float64{1, -2, 3, 0.5, -1, 2, 0, 1}, 2, 4)
	y := []int{2, 0}
	net.Loss(x, y)
	analytic := append([]float64(nil), net.Grads()...)
	numeric := nn.NumericalGradient(func() float64 { return net.Loss(x, y) }, net.Params(), 1e-5)
	fmt.Println("gradients agree:", nn.RelError(analytic, numeric) < 1e-6)
	// Output: gradients agree: true
}

// Training a net on a toy problem: two classes on either side of a line.
func ExampleTrain() {
	rng := rand.New(rand.NewPCG(3, 4))
	sample := func(n int) nn.Data {
		x := nn.NewMat[float32](n, 2)
		y := make([]int, n)
		for i := range n {
			a, b := rng.Float64()*2-1, rng.Float64()*2-1
			x.Data[2*i], x.Data[2*i+1] = float32(a), float32(b)
			if a+b > 0 {
				y[i] = 1
			}
		}
		return nn.Data{X: x, Y: y}
	}
	train, val := sample(2000), sample(500)
	cfg := nn.Config{Hidden: []int{20}, WeightScale: 0.5, Optimizer: "adam", LearningRate: 1e-2,
		LRDecay: 0.95, BatchSize: 100, Epochs: 10, Seed: 1}
	res, err := nn.Train[float32](context.Background(), cfg, train, val, nn.TrainOptions[float32]{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outcome, res.Iterations, "iterations,", len(res.History), "epochs")
	fmt.Println("val acc above 0.95:", res.BestValAcc > 0.95)
	// Output:
	// completed 200 iterations, 10 epochs
	// val acc above 0.95: true
}

// Training three trials side by side on the same minibatches: two learning
// rates of a two-layer net and a wild one that diverges and leaves.
func ExampleTrainGroup() {
	rng := rand.New(rand.NewPCG(3, 4))
	sample := func(n int) nn.Data {
		x := nn.NewMat[float32](n, 2)
		y := make([]int, n)
		for i := range n {
			a, b := rng.Float64()*2-1, rng.Float64()*2-1
			x.Data[2*i], x.Data[2*i+1] = float32(a), float32(b)
			if a+b > 0 {
				y[i] = 1
			}
		}
		return nn.Data{X: x, Y: y}
	}
	train, val := sample(2000), sample(500)
	trial := func(lr float64, seed uint64) nn.GroupMember[float32] {
		return nn.GroupMember[float32]{Config: nn.Config{Hidden: []int{20}, WeightScale: 0.5, Optimizer: "sgd",
			LearningRate: lr, BatchSize: 100, Epochs: 10, Seed: seed}}
	}
	members := []nn.GroupMember[float32]{trial(0.3, 1), trial(1, 2), trial(1e12, 3)}
	leave := func(i int, r *nn.Result[float32]) {
		fmt.Println("member", i, "left:", r.Outcome, "after", r.Steps(), "steps")
	}
	res, err := nn.TrainGroup(context.Background(), members, train, val, nn.GroupOptions[float32]{Seed: 5, Leave: leave})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("val acc above 0.95:", res[0].BestValAcc > 0.95, res[1].BestValAcc > 0.95)
	// Output:
	// member 2 left: diverged after 3 steps
	// member 0 left: completed after 200 steps
	// member 1 left: completed after 200 steps
	// val acc above 0.95: true true
}
