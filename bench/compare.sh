#!/usr/bin/env bash
# Time contenders over several runs with hyperfine, each run into a fresh
# target database prepared outside the timing (hyperfine --prepare), and print
# the median rows/s of each and the ratios to the first one.
#
# usage: [SCALE=10] [RUNS=5] bench/compare.sh NAME NAME ...
# e.g.   bench/compare.sh ferry-pg pipe-text
#        bench/compare.sh ferry-my pgloader
# (Debian: apt-get install hyperfine. Peak memory: bench/copy.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$BENCH_DIR/contenders.sh"

[ $# -ge 1 ] || { echo "usage: bench/compare.sh NAME NAME ..." >&2; exit 2; }
scale=${SCALE:-10}
rows=$((scale * 100000))
mkdir -p "$BENCH_TMP"
args=()
for name in "$@"; do
    contender_cmd "$name" x y >/dev/null
    tgt="bench_tgt_hf_${name//-/_}"
    args+=(--prepare "$BENCH_DIR/prepare.sh $name $tgt" -n "$name"
           "SCALE=$scale $BENCH_DIR/contender.sh $name $tgt")
done
# one --prepare per command, in order; the commands' output is discarded
hyperfine --runs "${RUNS:-5}" --warmup 1 --style basic --export-json "$BENCH_TMP/compare.json" \
    "${args[@]}" 2>&1 | sed -n '/^Benchmark/,$p'
python3 - "$BENCH_TMP/compare.json" "$rows" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
rows = int(sys.argv[2])
meds = [statistics.median(r["times"]) for r in results]
print(f"\n{'contender':<18} {'median s':>9} {'min-max s':>13} {'rows/s':>10}")
for r, med in zip(results, meds):
    print(f"{r['command']:<18} {med:9.2f} {min(r['times']):6.2f}-{max(r['times']):<6.2f} {rows / med:10.0f}")
for r, med in zip(results[1:], meds[1:]):
    print(f"rows/s {results[0]['command']} / {r['command']}: {med / meds[0]:.2f}x")
PY
