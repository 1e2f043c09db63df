#!/usr/bin/env bash
# Load speed of full Fashion-MNIST (59000/1000/1000 from Debian's dataset-fashion-mnist):
# Go's BenchmarkLoad/source=fashion-mnist against the numpy yardstick's load_s
# (shared/bench/ref_numpy.py fmnist 1), alternated ROUNDS times in one run, each a single load in a fresh process (as numpy's is), so that both
# see the same machine load. Prints every figure and the ratio of the medians.
#
# usage: data/testdata/loadspeed.sh [ROUNDS] [REF]    (from the repository root)
#   ROUNDS  default 5
#   REF     default ../shared/bench/ref_numpy.py, else /work/shared/bench/ref_numpy.py
set -euo pipefail
rounds=${1:-5}
ref=${2:-../shared/bench/ref_numpy.py}
[ -f "$ref" ] || ref=/work/shared/bench/ref_numpy.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/data.test" ./data
go_s=() py_s=()
for i in $(seq "$rounds"); do
	ns=$(cd data && "$tmp/data.test" -test.run '^$' -test.bench 'Load/source=fashion-mnist$' -test.benchtime 1x |
		awk '/^BenchmarkLoad/ {print $3}')
	go_s+=("$(awk -v ns="$ns" 'BEGIN {printf "%.3f", ns/1e9}')")
	py_s+=("$(/usr/bin/python3 "$ref" fmnist 1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["load_s"])')")
	echo "round $i: go ${go_s[-1]} s (one load, fresh process)   numpy ${py_s[-1]} s   numpy/go $(awk -v g="${go_s[-1]}" -v p="${py_s[-1]}" 'BEGIN {printf "%.2f", p/g}')"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
g=$(median "${go_s[@]}") p=$(median "${py_s[@]}")
faster=0
for i in "${!go_s[@]}"; do
	awk -v g="${go_s[$i]}" -v p="${py_s[$i]}" 'BEGIN {exit !(g <= p)}' && faster=$((faster + 1))
done
echo "median: go $g s, numpy $p s, numpy/go = $(awk -v g="$g" -v p="$p" 'BEGIN {printf "%.2f", p/g}'); go no slower in $faster of $rounds rounds"
