#!/usr/bin/env bash
# plan_memory.sh — h2nn_mpi --plan against real runs: for a 1-D and a 2-D
# synthetic problem (N = 16384, leaf 32) on P = 1, 2, 4 ranks, the planner's
# predicted peak memory of the largest rank is within 15 % of the peak RSS the
# run reports (peak_rss_mb_max_rank), and its predicted communication volume
# per iteration equals the bytes the run handed to MPI (the planner derives
# them from the same halo lists, so any difference is a planner bug).  Also:
# --memory-per-rank warns, and planning a rank count the tree cannot use fails
# with one clear line.
. "$(dirname "$0")/../programs/common.sh"

common=(--synthetic 16384 --leaf-size 32 --synthetic-samples 64)
for d in 1 2; do
  for P in 1 2 4; do
    tag=d${d}_P$P
    "$H2NN_MPI" --plan --plan-ranks "$P" "${common[@]}" --dim "$d" > "$tag.plan" 2> "$tag.plan.err" ||
      fail "$tag: --plan failed: $(cat "$tag.plan.err")"
    run_ok "$P" "$tag" "$H2NN_MPI" "${common[@]}" --dim "$d" --iterations 1 --eval-every 0 --quiet
    pred=$(json_field peak_mb_max_rank "$tag.plan")
    meas=$(json_field peak_rss_mb_max_rank "$tag.out")
    pb=$(json_field comm_bytes_per_iteration "$tag.plan")
    mb=$(json_field comm_bytes_per_iteration "$tag.out")
    pm_plan=$(json_field model_parallel "$tag.plan")
    pm_run=$(json_field model_parallel "$tag.out")
    note "$tag: predicted peak $pred MB, measured $meas MB; bytes/iteration predicted $pb, measured $mb"
    [ "$pm_plan" = "$pm_run" ] || fail "$tag: planned P_m = $pm_plan, the run used $pm_run"
    rel_close "$pred" "$meas" 0.15 || fail "$tag: predicted peak $pred MB is not within 15% of the measured $meas MB"
    [ "$pb" = "$mb" ] || fail "$tag: predicted $pb bytes per iteration, the run sent $mb"
  done
done

# a limit the plan exceeds: a warning on stderr, over_memory in the JSON, exit 0
"$H2NN_MPI" --plan --plan-ranks 2 "${common[@]}" --memory-per-rank 10 > over.out 2> over.err || fail "--memory-per-rank: exit non-zero"
grep -q "warning: a rank needs .* more than --memory-per-rank 10 MB" over.err || fail "no memory warning: $(cat over.err)"
[ "$(json_field over_memory over.out)" = 1 ] || fail "over_memory is not 1"
# a rank count the tree cannot use: 512 leaves, 1024 model-parallel ranks
rc=0
"$H2NN_MPI" --plan --plan-ranks 1024 "${common[@]}" --model-parallel 1024 > bad.out 2> bad.err || rc=$?
[ "$rc" -ne 0 ] || fail "--plan-ranks 1024 --model-parallel 1024 on 512 leaves succeeded"
[ "$(grep -c 'error' bad.err)" -eq 1 ] && grep -q "model-parallel 1024.*512 leaves\|1024 model-parallel ranks need 1024 leaves" bad.err ||
  fail "unclear error: $(cat bad.err)"
note "ok"
