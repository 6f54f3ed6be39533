#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# synthetic_runs.sh DIM ITERATIONS — the benchmark mode
# `h2nn_mpi --synthetic 4096 --dim DIM --iterations ITERATIONS` on 2 ranks
# exits 0 and ends with a JSON line (mode train, ranks 2, the iterations
# asked for) whose train_error is a finite number, and training lowers the
# error: the train_error after ITERATIONS is at most half that of the same
# run with --iterations 0 (the initial network; measured 0.15x at DIM 1 /
# 30 iterations and 0.29x at DIM 2 / 10 iterations).
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

[ ${#ARGS[@]} -eq 2 ] || fail "usage: synthetic_runs.sh ... -- DIM ITERATIONS"
dim=${ARGS[0]} iters=${ARGS[1]}
run_ok 2 syn "$H2NN_MPI" --synthetic 4096 --dim "$dim" --iterations "$iters"
last=$(tail -n 1 syn.out)
[[ "$last" == '{"mode"'* ]] || fail "the last stdout line is not the JSON line: $last"
[ "$(grep -c '^{"mode"' syn.out)" -eq 1 ] || fail "not exactly one JSON line on stdout"
[ "$(json_field mode syn.out)" = train ] || fail "JSON mode is not \"train\""
[ "$(json_field ranks syn.out)" = 2 ] || fail "JSON ranks is not 2"
[ "$(json_field iterations syn.out)" = "$iters" ] || fail "JSON iterations is not $iters"
e=$(json_field train_error syn.out)
is_finite_number "$e" || fail "train_error '$e' is not a finite number"
run_ok 2 syn0 "$H2NN_MPI" --synthetic 4096 --dim "$dim" --iterations 0
e0=$(json_field train_error syn0.out)
is_finite_number "$e0" || fail "initial train_error '$e0' is not a finite number"
awk -v e="$e" -v e0="$e0" 'BEGIN { exit !(e <= 0.5 * e0) }' ||
  fail "training did not lower the error: train_error $e after $iters iterations, $e0 at the start"
note "ok: dim $dim, initial train_error $e0, N $(json_field N syn.out), train_error $e, $(json_field ms_per_iteration syn.out) ms/iteration"
