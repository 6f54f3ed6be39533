#!/usr/bin/env bash
# scaling_sim.sh — a scaling study on a simulated cluster: the simulation
# build of h2nn_mpi (build/sim/h2nn_mpi, SimGrid SMPI) runs the real training
# step — the same halo exchanges, allgathers and allreduces with their real
# message sizes — on P simulated ranks of runscripts/sim/cluster.xml, compute
# bursts timed on this host.  Writes the same CSV / Markdown / PNG as
# runscripts/scaling_study.sh (source column "simulated").
#
#   runscripts/scaling_sim.sh --name sim1d --kind strong --ranks "64 128 256 512" --n 1048576 --dim 1
#   runscripts/scaling_sim.sh --name host2 --platform runscripts/sim/host.xml --cores-per-node 2 \
#       --host-prefix host- --shared-malloc no --kind strong --ranks "2" --n 16384
#
# Options (besides scaling_study.sh's --name --kind --ranks --n --points-per-rank --dim --iterations --out -- ARGS):
#   --platform FILE       SimGrid platform (default runscripts/sim/cluster.xml: 128-core nodes, HDR-200 fat tree)
#   --cores-per-node C    ranks per node (default 128); --host-prefix NAME (default node-)
#   --compute timed|model timed: every compute burst is timed on this host (wall clock) and
#                         lasts time / S on a simulated core; model (default): computation is
#                         not timed (smpi/simulate-computation:no), the simulated time is the
#                         communication alone and the planner's compute time (calibrated rates)
#                         is added — on a shared, loaded host the timed bursts are inflated by
#                         the other tenants (docs/scaling.md measured 20x), the messages are not
#   --speed S             timed: a simulated core is S times as fast as this host's core (default 1)
#   --shared-malloc MODE  global (default: parameters, Adam moments, activations of all ranks
#                         share physical pages, their contents meaningless) or no (real memory)
#   --sim-bin PATH        the simulation build (default build/sim/h2nn_mpi)
#   --plan-bin PATH       the normal build, for the planner (default build/h2nn_mpi)
# Default --iterations 3 (each iteration costs P ranks' compute in host time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "scaling_sim: error: $*" >&2; exit 2; }
platform=$here/sim/cluster.xml cores=128 prefix=node- speed=1 shared=global compute=model
sim_bin=build/sim/h2nn_mpi plan_bin=build/h2nn_mpi iters=3
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --platform) platform=${2:?}; shift 2 ;;
    --cores-per-node) cores=${2:?}; shift 2 ;;
    --host-prefix) prefix=${2:?}; shift 2 ;;
    --speed) speed=${2:?}; shift 2 ;;
    --compute) compute=${2:?}; shift 2 ;;
    --shared-malloc) shared=${2:?}; shift 2 ;;
    --sim-bin) sim_bin=${2:?}; shift 2 ;;
    --plan-bin) plan_bin=${2:?}; shift 2 ;;
    --iterations) iters=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) break ;;
    *) pass+=("$1"); shift ;;
  esac
done
case "$shared" in global|no) ;; *) die "--shared-malloc '$shared': expected global or no" ;; esac
case "$compute" in timed) simcomp=yes; src=simulated ;; model) simcomp=no; src=simulated-comm ;;
  *) die "--compute '$compute': expected timed or model" ;; esac
awk -v s="$speed" 'BEGIN { exit !(s + 0 > 0) }' || die "--speed '$speed': expected a positive number"
[ -x "$sim_bin" ] || die "simulation build not found: '$sim_bin' (a normal build makes it in build/sim when smpicc is installed, or: CC=smpicc cmake -S . -B build-sim -DH2NN_SIMULATE=ON && cmake --build build-sim --target h2nn_mpi)"
# reference speed: this host's core = 1 Gflop/s; the platform's cores are 1Gf, so
# host-speed S Gf makes a burst of t seconds here last t / S simulated seconds
# smpi/test, smpi/iprobe: the simulated cost of one MPI_Test(all) / MPI_Iprobe.  SimGrid's
# default, 1e-4 s, is meant to slow down polling loops; h2nn tests its halo messages every
# few rows (h2_halo_progress), which at 100 us a call made a 64-rank iteration 100x slower.
# 2.5e-7 s is what SimGrid's calibration gives on InfiniBand clusters (docs/scaling.md).
exec bash "$here/scaling_study.sh" "${pass[@]}" --iterations "$iters" --launcher smpirun --source "$src" \
  --sim-compute "$compute" --bin "$sim_bin" --plan-bin "$plan_bin" --platform "$platform" \
  --cores-per-node "$cores" --host-prefix "$prefix" \
  --smpi-flags "--cfg=smpi/host-speed:${speed}Gf --cfg=smpi/simulate-computation:$simcomp --cfg=smpi/shared-malloc:$shared --cfg=smpi/test:2.5e-7 --cfg=smpi/iprobe:2.5e-7 --cfg=smpi/wtime:4e-8 --cfg=smpi/display-timing:1 --log=xbt_cfg.thres:warning --log=smpi_config.thres:warning" "$@"
