#!/usr/bin/env bash
# dist_agreement.sh MPIEXEC H2NN_MPI H2NN_GEN H2NN_HISTORY
# docs/design.md §4 P-independence through the real program, 1-D and 2-D:
#  (1) 20 training iterations on 1, 2, 4 and 8 ranks (several P_d x P_m
#      splits; 1 x 8 has levels above p, the distributed coarse tree) give
#      the same per-iteration losses as 1 rank (1e-4 relative);
#  (2) a checkpoint written on 4 ranks (2 x 2), resumed on 2 (1 x 2) and on
#      8 (2 x 4) ranks, continues with the losses of a 1-rank continuation.
set -euo pipefail
mpiexec=$1 mpi=$2 gen=$3 hist=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
run() { # ranks model_parallel args...
  local np=$1 pm=$2
  shift 2
  timeout 120 "$mpiexec" -n "$np" --oversubscribe "$mpi" --model-parallel "$pm" --quiet "$@" > /dev/null
}
# compare the loss column (3) of two histories over iterations FROM..TO
same_losses() { # a.h5 b.h5 from to
  paste <("$hist" "$1" | awk -v f="$3" -v t="$4" '!/^#/ && $1 >= f && $1 <= t {print $3}') \
        <("$hist" "$2" | awk -v f="$3" -v t="$4" '!/^#/ && $1 >= f && $1 <= t {print $3}') |
    awk -v A="$1" -v B="$2" 'BEGIN {n = 0; worst = 0}
      {n++; d = $1 - $2; if (d < 0) d = -d; r = d / ($2 > 0 ? $2 : -$2); if (r > worst) worst = r}
      END {printf "%s vs %s: %d iterations, max relative loss difference %.2e\n", A, B, n, worst;
           if (n == 0 || worst > 1e-4) exit 1}'
}
timeout 120 "$mpiexec" -n 2 "$gen" rte --n 500 --samples 400 --seed 2 --output d1.h5 > /dev/null
timeout 120 "$mpiexec" -n 2 "$gen" kernel --dim 2 --geometry random --n 900 --samples 300 --seed 2 --output d2.h5 > /dev/null
for data in d1 d2; do
  opts=(--leaf-size 13 --rank 5 --batch-size 24 --eval-every 0)
  run 1 1 "$data.h5" "${opts[@]}" --iterations 20 --checkpoint "$data-ref.h5"
  for split in "2 2" "4 4" "8 2" "8 8"; do
    set -- $split
    run "$1" "$2" "$data.h5" "${opts[@]}" --iterations 20 --checkpoint "$data-$1x$2.h5"
    same_losses "$data-ref.h5" "$data-$1x$2.h5" 1 20
  done
  run 4 2 "$data.h5" "${opts[@]}" --iterations 10 --checkpoint "$data-c4.h5"
  run 2 2 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r2.h5"
  run 8 4 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r8.h5"
  run 1 1 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r1.h5"
  same_losses "$data-r1.h5" "$data-r2.h5" 11 20
  same_losses "$data-r1.h5" "$data-r8.h5" 11 20
  same_losses "$data-ref.h5" "$data-r1.h5" 11 20
done
echo "dist_agreement: all rank counts agree"
