#!/usr/bin/env bash
# make bench: sweep's benchmarks side by side with the coursework's numpy
# yardstick (../shared/bench, or $YARDSTICK), in the same run on the same
# machine, and the ratios between them. Machines are shared and noisy: quote
# the ratios, not the absolute times.
#
#   TAGS=openblas scripts/bench.sh     # what make bench does when OpenBLAS is installed
set -euo pipefail
cd "$(dirname "$0")/.."
TAGS=${TAGS:-}
YARDSTICK=${YARDSTICK:-../shared/bench}
PY=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== sweep $(go run -tags "$TAGS" ./cmd/sweep version | tr '\n' ' ')"
echo "== go test -bench (nn: training step, gemm)"
go test -tags "$TAGS" -run '^$' -bench 'TrainStep|Gemm' -benchmem ./nn | tee "$out/nn.txt"
echo "== go test -bench (nn: fused groups, per trial-step, group sizes 1-24)"
go test -tags "$TAGS" -run '^$' -bench 'TrainGroupStep' -benchtime 200x ./nn | tee "$out/group.txt"

have_fmnist=
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && have_fmnist=1
if [ -n "$have_fmnist" ]; then
  echo "== go test -bench (trial: the coursework's grid on Fashion-MNIST, 2 workers)"
  go test -tags "$TAGS" -run '^$' -bench CourseworkGrid -benchtime 1x ./trial | tee "$out/grid.txt"
  echo "== peak RSS of sweep run on that grid"
  go build -tags "$TAGS" -o "$out/sweep" ./cmd/sweep
  if [ -x "$PY" ]; then
    "$PY" - "$out/sweep" sweeps/coursework-grid-fashion-mnist.toml "$out/grid.db" <<'PYEOF' | tee "$out/rss.txt"
import resource, subprocess, sys
exe, spec, db = sys.argv[1:]
subprocess.run([exe, "run", spec, "--db", db], check=True, stdout=subprocess.DEVNULL)
data_mb = (59000 + 1000 + 1000) * 784 * 4 / 2**20  # the float32 splits of the spec
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("peak RSS %.1f MiB = float32 data %.1f MiB + %.1f MiB" % (rss, data_mb, rss - data_mb))
PYEOF
  fi
fi

echo "== go test -bench (data, results)"
go test -run '^$' -bench . -benchmem ./data ./results | tee "$out/other.txt"

# ns/op of a benchmark line whose name starts with $1
nsop() { awk -v n="$1" 'index($1, n) == 1 { for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { print $i; exit } }' "$2"; }
metric() { awk -v n="$1" -v m="$2" 'index($1, n) == 1 { for (i = 2; i < NF; i++) if ($(i+1) == m) { print $i; exit } }' "$3"; }

if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "== no numpy at $PY: no yardstick ratios (apt-get install python3-numpy)"
  exit 0
fi
echo "== yardstick (numpy, same run)"
"$PY" "$YARDSTICK/ref_numpy.py" synth3072 1000 | tee "$out/np3072.json"
[ -n "$have_fmnist" ] && "$PY" "$YARDSTICK/ref_numpy.py" fmnist 1000 | tee "$out/np784.json"
# numpy gives one trial both cores (OpenBLAS threads); sweep gives each trial
# one and runs trials side by side. The same yardstick on one core, per core:
[ -n "$have_fmnist" ] && OPENBLAS_NUM_THREADS=1 "$PY" "$YARDSTICK/ref_numpy.py" fmnist 1000 | tee "$out/np784-1.json"
[ -n "$have_fmnist" ] && (cd "$YARDSTICK" && "$PY" grid_numpy.py) | tee "$out/npgrid.json"
if "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" scripts/torch_step.py 784 1000 | tee "$out/torch784.json"
fi
json() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

echo "== ratios (numpy time / sweep time; > 1 means sweep is faster)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
step() { nsop "BenchmarkTrainStep/dtype=$1/d=$2/" "$out/nn.txt"; }
for d in 784 3072; do
  np=$out/np$d.json
  [ -e "$np" ] || continue
  npsec=$(json "$np" train_s)
  for dt in float32 float64; do
    ns=$(step $dt $d)
    [ -n "$ns" ] && echo "training step d=$d/h=50/batch=200 $dt: numpy ${npsec}s/1000 it, sweep $(awk -v n="$ns" 'BEGIN{printf "%.3f", n*1000/1e9}')s/1000 it: $(ratio "$npsec" "$(awk -v n="$ns" 'BEGIN{print n*1000/1e9}')")x"
  done
done
if [ -e "$out/np784-1.json" ]; then
  npsec=$(json "$out/np784-1.json" train_s)
  ns=$(step float32 784)
  echo "training step d=784/h=50/batch=200 float32, per core (numpy with OPENBLAS_NUM_THREADS=1): numpy ${npsec}s/1000 it: $(ratio "$npsec" "$(awk -v n="$ns" 'BEGIN{print n*1000/1e9}')")x"
fi
if [ -e "$out/torch784.json" ]; then
  ts=$(json "$out/torch784.json" train_s)
  ns=$(step float32 784)
  echo "training step d=784/h=50/batch=200 float32 vs PyTorch $(json "$out/torch784.json" torch) (CPU, 1 thread): torch ${ts}s/1000 it: $(ratio "$ts" "$(awk -v n="$ns" 'BEGIN{print n*1000/1e9}')")x"
fi
for dt in float32 float64; do
  sq=$(metric "BenchmarkGemm/dtype=$dt/square/" GFLOP/s "$out/nn.txt")
  st=$(metric "BenchmarkTrainStep/dtype=$dt/d=784/" GFLOP/s "$out/nn.txt")
  st3=$(metric "BenchmarkTrainStep/dtype=$dt/d=3072/" GFLOP/s "$out/nn.txt")
  [ -n "$sq" ] && echo "training step GFLOP/s vs large gemm ($dt, ${sq} GFLOP/s): d=784 $(ratio "$st" "$sq"), d=3072 $(ratio "$st3" "$sq")"
done
if [ -e "$out/grid.txt" ] && [ -e "$out/npgrid.json" ]; then
  # fused: the trials in groups (sweep run's default); unfused: fuse = false.
  for mode in fused unfused; do
    gns=$(nsop "BenchmarkCourseworkGrid/$mode-" "$out/grid.txt")
    [ -n "$gns" ] || continue
    gs=$(awk -v n="$gns" 'BEGIN{print n/1e9}')
    np=$(json "$out/npgrid.json" wall_s)
    echo "coursework grid ($mode): numpy ${np}s (best val $(json "$out/npgrid.json" best_val)), sweep ${gs}s (best val $(metric "BenchmarkCourseworkGrid/$mode-" best_val_acc "$out/grid.txt")): $(ratio "$np" "$gs")x, sweep/numpy $(ratio "$gs" "$np")"
  done
  # The physical limit: the grid's FLOPs (24 trials x 1000 steps x the
  # 6 products of forward and backward, 2·m·n·k each) on both cores at
  # the large-gemm rate.
  sq=$(metric "BenchmarkGemm/dtype=float32/square/" GFLOP/s "$out/nn.txt")
  gns=$(nsop "BenchmarkCourseworkGrid/fused-" "$out/grid.txt")
  if [ -n "$sq" ] && [ -n "$gns" ]; then
    awk -v sq="$sq" -v ns="$gns" 'BEGIN {
      f = 24 * 1000 * 2 * (2*200*784*50 + 3*200*50*10) ; lim = f / (2 * sq * 1e9)
      printf "coursework grid FLOPs %.2f TFLOP: at 2 cores x %.0f GFLOP/s the limit is %.2fs; fused sweep %.2fs = %.0f%% of it\n", f/1e12, sq, lim, ns/1e9, 100*lim/(ns/1e9) }'
  fi
fi
