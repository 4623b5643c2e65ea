#!/usr/bin/env bash
# Paired whole-process timing: one warm-up pair, then A B A B ... N times; the
# ratio A/B is taken pair by pair (it survives drift of the machine's speed)
# and printed as median (min-max), with each side's median wall seconds.
#
# usage: bench/paired.sh N 'COMMAND_A' 'COMMAND_B'
#   e.g. bench/paired.sh 7 'bench/contender.sh ferry-my next' 'bench/contender.sh pgloader next'
set -euo pipefail
n=${1:?usage: bench/paired.sh N COMMAND_A COMMAND_B} a=${2:?} b=${3:?}
times=$(mktemp)
trap 'rm -f "$times"' EXIT
run() { /usr/bin/time -f "%e" -o "$times.one" sh -c "$1" >/dev/null 2>&1; cat "$times.one"; rm -f "$times.one"; }
run "$a" >/dev/null; run "$b" >/dev/null              # warm-up pair, not counted
for _ in $(seq "$n"); do echo "$(run "$a") $(run "$b")" >> "$times"; done
python3 - "$times" <<'PY'
import statistics, sys
pairs = [tuple(map(float, line.split())) for line in open(sys.argv[1])]
ratios = sorted(x / y for x, y in pairs)
med = lambda v: statistics.median(v)
print(f"A wall s median {med([p[0] for p in pairs]):.2f}  B wall s median {med([p[1] for p in pairs]):.2f}")
print(f"A/B wall {med(ratios):.3f} ({ratios[0]:.3f}-{ratios[-1]:.3f}), N={len(pairs)}")
PY
