#!/usr/bin/env bash
# Instructions per tiny-graph step for chainrule and PyTorch, counted by callgrind
# (deterministic, unlike wall time on a shared machine): runs N and 2N steps and takes the
# difference, so start-up and imports cancel out.  Usage: benchmarks/count_instructions.sh [N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${1:-200}"
for module in chainrule torch; do
  counts=()
  for steps in "$n" "$((2 * n))"; do
    out=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      python -c "
import sys; sys.path.insert(0, '$here')
import tiny_graph, $module as m
step = tiny_graph.step_fn(m)
for _ in range($steps): step()" 2>&1 | awk '/Collected/ {print $4}')
    counts+=("$out")
  done
  echo "$module: $(( (counts[1] - counts[0]) / n )) instructions per step"
done
