#!/usr/bin/env bash
# Issue 12's anytime curves: best val_acc of a done trial at 30, 60 and 120 s,
# and the trials started, for sweep random, asha+random, asha+tpe and
# hyperband+tpe on scripts/asha_fmnist.toml's data and space, each with a
# budget of BUDGET seconds (default 120), 2 workers, in one run of this script.
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/anytime.sh [BUDGET]
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-120}
bin=${SWEEP:-bin/sweep}
dir=$(mktemp -d)
for cfg in "random random" "asha random" "asha tpe" "hyperband tpe"; do
	set -- $cfg
	name="anytime-$1-$2"
	sed -e "s/^name = .*/name = \"$name\"/" -e "s/^method = .*/method = \"$1\"/" -e "s/^sampler = .*/sampler = \"$2\"/" \
		-e "s/^budget = .*/budget = \"${budget}s\"/" -e "s/^\[search.asha\]/[search.$1]/" scripts/asha_fmnist.toml >"$dir/$name.toml"
	if [ "$1" = random ]; then sed -i '/^\[search.random\]/,/^$/d' "$dir/$name.toml"; fi
	"$bin" run "$dir/$name.toml" --db "$dir/$name.db" >/dev/null 2>&1 || true
	"$bin" export "$name" --format json --db "$dir/$name.db" >"$dir/$name.json"
	/usr/bin/python3 - "$dir/$name.json" "$1+$2" <<'PY'
import json, sys
from datetime import datetime
rows = json.load(open(sys.argv[1]))
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
t0 = min(t(r["started"]) for r in rows if r["started"])
done = sorted((t(r["finished"]) - t0, r["val_acc"]) for r in rows if r["status"] == "done" and r["val_acc"] is not None)
best = lambda s: max([v for at, v in done if at <= s], default=None)
print(f'{sys.argv[2]:15} trials {len(rows):4}  best val at 30s {best(30)}  60s {best(60)}  120s {best(120)}')
PY
done
rm -rf "$dir"
