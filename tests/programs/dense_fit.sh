#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# dense_fit.sh PYTHON — tools/h2nn_dense_fit.py, the dense least-squares
# baseline of docs/accuracy.md: on a linear operator's data (h2nn_gen custom,
# N = 48, 300 samples: 200 train >= N) the fit recovers the operator to the
# float32 data's rounding (train and test errors < 1e-5); with fewer training
# samples than N (--max-train 5) it warns that the fit is underdetermined and
# its test error is large (> 1e-2: the comparison can fail); a missing file
# is one "h2nn_dense_fit:" line and a non-zero status.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ ${#ARGS[@]} -eq 1 ] || fail "usage: dense_fit.sh ... -- PYTHON"
PY=${ARGS[0]}
TOOL=$SCRIPT_DIR/../../tools/h2nn_dense_fit.py
run_ok 1 gen "$H2NN_GEN" custom --n 48 --samples 300 --output lin.h5
"$PY" "$TOOL" lin.h5 > fit.json 2> fit.err || fail "h2nn_dense_fit.py failed: $(cat fit.err)"
read -r tre tee < <("$PY" -c 'import json,sys; d=json.load(open("fit.json")); print(d["train_error"], d["test_error"])')
awk -v a="$tre" -v b="$tee" 'BEGIN { exit !(a < 1e-5 && b < 1e-5) }' || fail "full fit: train $tre, test $tee (expected < 1e-5)"
"$PY" "$TOOL" lin.h5 --max-train 5 > under.json 2> under.err || fail "--max-train 5 failed: $(cat under.err)"
grep -q underdetermined under.err || fail "--max-train 5 (< N = 48): no underdetermined warning"
ute=$("$PY" -c 'import json; print(json.load(open("under.json"))["test_error"])')
awk -v b="$ute" 'BEGIN { exit !(b > 1e-2) }' || fail "underdetermined fit: test error $ute, expected > 1e-2"
rc=0
"$PY" "$TOOL" missing.h5 > /dev/null 2> miss.err || rc=$?
[ "$rc" -ne 0 ] || fail "a missing file: exit status 0"
[ "$(grep -c '^h2nn_dense_fit: ' miss.err)" -eq 1 ] || fail "a missing file: expected one 'h2nn_dense_fit:' line, got: $(cat miss.err)"
note "ok: full fit train $tre / test $tee; underdetermined test $ute; missing file refused"
