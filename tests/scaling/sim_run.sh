#!/usr/bin/env bash
# sim_run.sh — the simulation build (SimGrid SMPI, build/sim/h2nn_mpi) runs the
# real training step on 16 simulated ranks of runscripts/sim/cluster.xml
# (128-core nodes on a fat tree), through runscripts/scaling_sim.sh: the run
# ends with its JSON line on 16 ranks = 16 model-parallel ranks, its
# communication volume per iteration equals the planner's (the simulated
# messages are the real ones), its simulated time per iteration is positive
# and finite, the coarse tree's work and bytes on the busiest rank equal the
# planner's; the CSV row says "simulated".  Input files are refused with one
# clear line.  Skipped (exit 77) only when SimGrid is not installed.
# Argument after "--": the simulation build's h2nn_mpi.
. "$(dirname "$0")/../programs/common.sh"
sim=${ARGS[0]:-}
if ! command -v smpirun > /dev/null || ! command -v smpicc > /dev/null; then
  echo "[$TEST_NAME] SKIPPED: SimGrid is not installed (Debian packages simgrid, libsimgrid-dev; runscripts/setup.sh installs them)"
  exit 77
fi
[ -x "$sim" ] || fail "smpicc is installed but the simulation build '$sim' is missing (the normal build makes it in build/sim)"
root=$SCRIPT_DIR/../..
timeout -k 10 200 bash "$root/runscripts/scaling_sim.sh" --name sim16 --kind strong --ranks 16 --n 4096 --dim 1 \
  --iterations 2 --out out --sim-bin "$sim" --plan-bin "$H2NN_MPI" -- --synthetic-samples 64 > sim.log 2>&1 ||
  fail "scaling_sim.sh failed: $(tail -5 sim.log; tail -5 out/sim16/runs/P16.err 2>/dev/null)"
run=out/sim16/runs/P16.json
[ -s "$run" ] || fail "no JSON line from the simulated run: $(tail -5 out/sim16/runs/P16.err)"
cp "$run" run.json
cp out/sim16/runs/P16.plan.json plan.json
[ "$(json_field ranks run.json)" = 16 ] || fail "ranks = $(json_field ranks run.json), expected 16"
[ "$(json_field model_parallel run.json)" = 16 ] || fail "model_parallel = $(json_field model_parallel run.json), expected 16"
sb=$(json_field comm_bytes_per_iteration run.json)
pb=$(json_field comm_bytes_per_iteration plan.json)
[ "$sb" = "$pb" ] || fail "simulated run sent $sb bytes per iteration, the planner predicts $pb"
# the coarse tree (levels above p = 4: one box per rank at most, coarse.h): the
# busiest rank's coarse work and bytes as the run counts them = the planner's
# (16 ranks: every rank planned, so its maximum is exact)
sf=$(json_field coarse_flops_per_iteration_max_rank run.json)
pf=$(json_field coarse_flops plan.json)
awk -v a="$sf" -v b="$pf" 'BEGIN { exit !(a > 0 && (a - b) / a < 1e-3 && (b - a) / a < 1e-3) }' ||
  fail "coarse-tree flops per iteration on the busiest rank: run $sf, planner $pf"
scb=$(json_field coarse_bytes_per_iteration_max_rank run.json)
pcb=$(json_field coarse_bytes_max_rank plan.json)
[ "$scb" = "$pcb" ] && [ "$scb" != 0 ] || fail "coarse-tree bytes per iteration on the busiest rank: run $scb, planner $pcb"
ms=$(json_field ms_per_iteration run.json)
is_finite_number "$ms" && awk -v t="$ms" 'BEGIN { exit !(t > 0) }' || fail "simulated ms_per_iteration '$ms'"
grep -q "Simulated time\|The simulation took" out/sim16/runs/P16.err || fail "smpirun printed no timing (not a simulated run?)"
row=$(sed -n 2p out/sim16.csv)
case "${row##*,}" in simulated*) ;; *) false ;; esac || fail "CSV row does not say simulated: $row"
[ "$(head -c 4 out/sim16.png | tail -c 3)" = PNG ] || fail "no PNG"
note "16 simulated ranks: $ms ms per iteration (simulated), $sb bytes per iteration, coarse tree $sf flops and $scb bytes on the busiest rank"

# the simulation build refuses files, on every rank, with one line
echo "node-0:128" > hosts
rc=0
timeout -k 10 60 smpirun -np 2 -platform "$root/runscripts/sim/cluster.xml" -hostfile hosts --log=root.thres:critical \
  "$sim" input.h5 > bad.out 2> bad.err || rc=$?
[ "$rc" -ne 0 ] || fail "the simulation build accepted an input file"
[ "$(grep -c 'h2nn_mpi: error: input.h5: this is the simulation build' bad.err)" = 1 ] ||
  fail "expected one error line naming input.h5, got: $(cat bad.err)"
note "ok"
