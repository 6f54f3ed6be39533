#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# auto_choices.sh — the data-driven defaults are printed, stored in the
# checkpoint (/model attribute automatic_choices), reproducible and
# overridable:
#   * RTE outputs (a large common profile): centred automatically, inputs in
#     units of F x RMS with F = 1 / RMS of the centred targets (> 5), the
#     same text on a second run, /model/output_mean stored;
#   * --no-center-output: not centred, F = 1, no /model/output_mean;
#     --input-scale 3 overrides F; --center-output with --no-center-output
#     fails on every rank naming both;
#   * the custom operator (mean profile about half of the energy): not
#     centred, F = 1; --center-output forces centring.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 gen "$H2NN_GEN" rte --n 160 --samples 120 --seed 2 --output rte.h5
run_ok 2 genc "$H2NN_GEN" custom --n 160 --samples 120 --seed 2 --output custom.h5
opts=(--iterations 0 --leaf-size 40 --batch-size 16)
note_of() { grep '^h2nn_mpi: outputs' "$1" | sed 's/^h2nn_mpi: //'; }
stored() { h5dump -a /model/automatic_choices "$1" | grep -o '"outputs.*"' | tr -d '"'; }

run_ok 2 a1 "$H2NN_MPI" "${opts[@]}" --checkpoint a1.h5 rte.h5
run_ok 2 a2 "$H2NN_MPI" "${opts[@]}" --checkpoint a2.h5 rte.h5
n1=$(note_of a1.out)
[[ "$n1" == "outputs centred (automatic: the mean output profile is "*"% of the outputs' mean square, >= 90%); inputs in units of "*" x their RMS (automatic: the centred targets' RMS is 1/F of the outputs' RMS)" ]] ||
  fail "RTE: unexpected automatic choice: '$n1'"
F=$(echo "$n1" | sed 's/.*inputs in units of \([0-9.]*\) x.*/\1/')
awk -v f="$F" 'BEGIN { exit !(f > 5) }' || fail "RTE: automatic input scale $F, expected > 5"
[ "$n1" = "$(note_of a2.out)" ] || fail "the automatic choice differs between two runs"
[ "$n1" = "$(stored a1.h5)" ] || fail "checkpoint attribute automatic_choices '$(stored a1.h5)' differs from the header '$n1'"
h5dump -H -d /model/output_mean a1.h5 > /dev/null 2>&1 || fail "automatic centring: no /model/output_mean"

run_ok 2 b "$H2NN_MPI" "${opts[@]}" --no-center-output --checkpoint b.h5 rte.h5
[ "$(note_of b.out)" = "outputs not centred (--no-center-output); inputs in units of 1 x their RMS (automatic: the targets are not centred)" ] ||
  fail "--no-center-output: '$(note_of b.out)'"
if h5dump -H -d /model/output_mean b.h5 > /dev/null 2>&1; then fail "--no-center-output stored /model/output_mean"; fi
run_ok 2 c "$H2NN_MPI" "${opts[@]}" --input-scale 3 rte.h5
[[ "$(note_of c.out)" == *"inputs in units of 3 x their RMS (--input-scale)" ]] || fail "--input-scale 3: '$(note_of c.out)'"
rc=0
run_mpi_ranks 2 d.out d.err "$H2NN_MPI" "${opts[@]}" --center-output --no-center-output rte.h5 || rc=$?
[ "$rc" -ne 124 ] || fail "--center-output --no-center-output: no result within ${RUN_TIMEOUT} s"
check_rank_statuses 2 "--center-output --no-center-output"
grep -q -- "--center-output and --no-center-output" d.err || fail "the contradiction is not named: $(head -n 2 d.err)"

run_ok 2 e "$H2NN_MPI" "${opts[@]}" custom.h5
[[ "$(note_of e.out)" == "outputs not centred (automatic: the mean output profile is "*"% of the outputs' mean square, < 90%); inputs in units of 1 x their RMS (automatic: the targets are not centred)" ]] ||
  fail "custom operator: '$(note_of e.out)'"
run_ok 2 f "$H2NN_MPI" "${opts[@]}" --center-output custom.h5
[[ "$(note_of f.out)" == "outputs centred (--center-output);"* ]] || fail "--center-output on the custom operator: '$(note_of f.out)'"
note "ok: $n1"
