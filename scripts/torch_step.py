"""PyTorch on CPU as a second yardstick for `make bench`: the coursework's two-layer net
(affine - relu - affine - softmax, L2 0.5*reg*||W||^2, SGD) trained for `iters` minibatch
steps of batch 200 on random data of dimension D, float32, one thread. Not part of sweep.
The data has as many rows as the numpy yardstick's (59000 at D=784, 49000 at D=3072), as
sweep's BenchmarkTrainStep does, so that gathering a minibatch costs the same everywhere.

usage: torch_step.py [D] [iters]     prints one JSON line: train_s (seconds for iters steps)
"""
import json, sys, time
import torch

D = int(sys.argv[1]) if len(sys.argv) > 1 else 784
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
H, C, B = 50, 10, 200
N = {784: 59000, 3072: 49000}.get(D, 2000)
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
X = torch.randn(N, D, generator=g) * 50
y = torch.randint(0, C, (N,), generator=g)
W1 = (torch.randn(D, H, generator=g) * 1e-4).requires_grad_()
b1 = torch.zeros(H, requires_grad=True)
W2 = (torch.randn(H, C, generator=g) * 1e-4).requires_grad_()
b2 = torch.zeros(C, requires_grad=True)
lr, reg = 1e-3, 0.25
def step():
    idx = torch.randint(0, N, (B,), generator=g)
    xb, yb = X[idx], y[idx]
    scores = torch.relu(xb @ W1 + b1) @ W2 + b2
    loss = torch.nn.functional.cross_entropy(scores, yb) + 0.5 * reg * ((W1 * W1).sum() + (W2 * W2).sum())
    for p in (W1, b1, W2, b2):
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in (W1, b1, W2, b2):
            p -= lr * p.grad
for _ in range(20):
    step()
t = time.time()
for _ in range(iters):
    step()
print(json.dumps({"which": "torch", "D": D, "threads": 1, "torch": torch.__version__, "train_s": round(time.time() - t, 3), "iters": iters}))
