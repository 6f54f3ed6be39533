#!/usr/bin/env bash
# quickstart.sh — the main job on a built-in default: set everything up, make
# a small dataset of the paper's RTE problem (N = 320, 3000 samples) in
# inputs/, train on 4 MPI ranks (2 data-parallel replicas x 2 model-parallel
# ranks), print the result and plot the training history.
#   runscripts/quickstart.sh [RANKS] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-4}
iters=${2:-2000}
runscripts/setup.sh
. runscripts/mpienv.sh
mkdir -p inputs results
data=inputs/rte_n320.h5
if [ ! -f "$data" ]; then
  mpirun -np 2 build/h2nn_gen rte --n 320 --samples 3000 --seed 1 --output "$data"
fi
mpirun -np "$ranks" build/h2nn_mpi "$data" --iterations "$iters" --checkpoint results/quickstart.ckpt.h5
build/h2nn_plot -t "h2nn quick start: RTE N=320" -o results/quickstart.png results/quickstart.ckpt.h5
echo "quickstart: checkpoint results/quickstart.ckpt.h5, plot results/quickstart.png"
