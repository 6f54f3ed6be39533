#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dist_agreement.sh MPIEXEC H2NN_MPI H2NN_GEN H2NN_HISTORY
# docs/design.md §4 P-independence through the real program, 1-D and 2-D:
#  (1) 20 training iterations on 1, 2, 4 and 8 ranks (several P_d x P_m
#      splits; 1 x 8 has levels above p, the distributed coarse tree) give
#      the same per-iteration losses as 1 rank (1e-4 relative);
#  (2) a checkpoint written on 4 ranks (2 x 2), resumed on 2 (1 x 2) and on
#      8 (2 x 4) ranks, continues with the losses of a 1-rank continuation.
set -euo pipefail
mpiexec=$1 mpi=$2 gen=$3 hist=$4
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
timeout 120 "$mpiexec" -n 2 "$gen" rte --n 500 --samples 400 --seed 2 --output d1.h5 > /dev/null
timeout 120 "$mpiexec" -n 2 "$gen" kernel --dim 2 --geometry random --n 900 --samples 300 --seed 2 --output d2.h5 > /dev/null
for data in d1 d2; do
  opts=(--leaf-size 13 --rank 5 --batch-size 24 --eval-every 0)
  run 1 1 "$data.h5" "${opts[@]}" --iterations 20 --checkpoint "$data-ref.h5" > /dev/null
  for split in "2 2" "4 4" "8 2" "8 8"; do
    set -- $split
    run "$1" "$2" "$data.h5" "${opts[@]}" --iterations 20 --checkpoint "$data-$1x$2.h5" > /dev/null
    same_losses "$data-ref.h5" "$data-$1x$2.h5" 1 20
  done
  # the first 10 of a 20-iteration schedule (--lr-horizon), as the uninterrupted reference
  run 4 2 "$data.h5" "${opts[@]}" --iterations 10 --lr-horizon 20 --checkpoint "$data-c4.h5" > /dev/null
  run 2 2 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r2.h5" > /dev/null
  run 8 4 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r8.h5" > /dev/null
  run 1 1 "$data.h5" "${opts[@]}" --iterations 20 --resume "$data-c4.h5" --checkpoint "$data-r1.h5" > /dev/null
  same_losses "$data-r1.h5" "$data-r2.h5" 11 20
  same_losses "$data-r1.h5" "$data-r8.h5" 11 20
  same_losses "$data-ref.h5" "$data-r1.h5" 11 20
done
echo "dist_agreement: all rank counts agree"
