#!/usr/bin/env bash
# dist_error.sh MPIEXEC H2NN_MPI H2NN_GEN
# Impossible factorisations end every rank with one clear error and no hang:
# P_m not a power of two, P_m not dividing P, more model-parallel ranks than
# leaves, fewer samples per minibatch than replicas.
set -euo pipefail
mpiexec=$1 mpi=$2 gen=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
timeout 120 "$mpiexec" -n 2 "$gen" rte --n 160 --samples 60 --seed 2 --output d.h5 > /dev/null
expect_error() { # pattern ranks args...
  local pat=$1 np=$2
  shift 2
  set +e
  timeout 60 "$mpiexec" -n "$np" --oversubscribe "$mpi" "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then echo "expected failure (rc $rc) for: $*"; cat err.txt; exit 1; fi
  grep -q "^h2nn_mpi: error: .*$pat" err.txt || { echo "no error line matching '$pat':"; cat err.txt; exit 1; }
  [ "$(grep -c '^h2nn_mpi: error:' err.txt)" -eq 1 ] || { echo "the error must be printed once:"; cat err.txt; exit 1; }
}
expect_error "model-parallel 3" 6 d.h5 --model-parallel 3 --batch-size 8 --iterations 2
expect_error "does not divide" 6 d.h5 --model-parallel 4 --batch-size 8 --iterations 2
expect_error "leaves" 8 d.h5 --model-parallel 8 --leaf-size 40 --batch-size 8 --iterations 2
expect_error "batch-size" 8 d.h5 --model-parallel 1 --batch-size 4 --iterations 2
echo "dist_error: every case failed cleanly on all ranks"
