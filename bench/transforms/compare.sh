#!/usr/bin/env bash
# pgbench_accounts PostgreSQL -> PostgreSQL with transforms (transforms.yaml:
# a cast, a rename, an added expression column) against the same copy without
# them (plain.yaml): medians over RUNS runs (hyperfine) and the rows/s ratio
# transforms / plain. Extra contenders may follow, e.g. ferry-pg-transforms-rows
# (the same transforms on the row path).
#
# usage: [SCALE=10] [RUNS=5] bench/transforms/compare.sh [NAME ...]
set -euo pipefail
exec "$(dirname "$0")/../compare.sh" ferry-pg-transforms ferry-pg-plain "$@"
