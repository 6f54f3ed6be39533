#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rte_smoke.sh — end to end on the paper's RTE problem at N = 320: generate
# 3000 samples on 2 ranks, train with the default hyper-parameters for 150
# iterations on 2 ranks (batch 256: the samples of 600 iterations at the
# paper's batch 64; measured test error 0.0043), and require a test mean
# relative error < 0.05 (the paper reaches ~1e-2 after full training; 0.05
# is the documented smoke threshold).  Then h2nn_plot must turn the checkpoint into a non-empty PNG.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

THRESHOLD=0.05
run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 3000 --seed 1 --output rte.h5
run_ok 2 train "$H2NN_MPI" --iterations 150 --checkpoint ck.h5 rte.h5
err=$(json_field test_error train.out)
is_finite_number "$err" || fail "test_error '$err' is not a finite number"
[ "$(json_field iterations train.out)" = 150 ] || fail "JSON iterations is not 150"
awk -v e="$err" -v t="$THRESHOLD" 'BEGIN { exit !(e < t) }' ||
  fail "RTE N=320 test error $err after 150 iterations, expected < $THRESHOLD"
note "test error $err < $THRESHOLD"

[ -x "$H2NN_PLOT" ] || fail "h2nn_plot not found: $H2NN_PLOT"
rc=0
timeout -k 5 60 "$H2NN_PLOT" -o plot.png ck.h5 > plot.out 2> plot.err || rc=$?
[ "$rc" -eq 0 ] || { cat plot.err >&2; fail "h2nn_plot exited with status $rc"; }
[ -s plot.png ] || fail "h2nn_plot wrote no (or an empty) plot.png"
sig=$(head -c 8 plot.png | od -An -tx1 | tr -d ' \n')
[ "$sig" = 89504e470d0a1a0a ] || fail "plot.png does not start with the PNG signature (found $sig)"
note "ok: plot.png $(stat -c %s plot.png) bytes"
