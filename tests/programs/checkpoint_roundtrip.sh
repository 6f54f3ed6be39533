#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# checkpoint_roundtrip.sh — a checkpoint written by training on 2 ranks,
# applied with --predict on 1 and on 3 ranks (an uneven split of the test
# samples), gives:
#   * identical /test/prediction datasets (h5dump text, float32 N columns,
#     one row per test sample) on 1 and 3 ranks;
#   * a reported test_error equal to the training run's final test_error
#     (JSON; 1e-6 relative plus the JSON's last printed digit) and to the
#     checkpoint history's last test_error;
#   * with --all (on 3 ranks) also /train/prediction, without it none;
#   * an unchanged checkpoint (predict only reads it).
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 300 --seed 11 --output in.h5
run_ok 2 train "$H2NN_MPI" --iterations 30 --batch-size 16 --eval-every 10 --checkpoint ck.h5 in.h5
cp ck.h5 ck.orig
train_err=$(json_field test_error train.out)
is_finite_number "$train_err" || fail "training test_error '$train_err' is not a finite number"

for np in 1 3; do
  extra=() samples=100
  if [ "$np" -eq 3 ]; then extra=(--all) samples=300; fi
  run_ok "$np" "pred$np" "$H2NN_MPI" --predict ck.h5 --output "pred$np.h5" "${extra[@]}" in.h5
  [ "$(json_field mode "pred$np.out")" = predict ] || fail "predict on $np ranks: JSON mode is not \"predict\""
  [ "$(json_field samples "pred$np.out")" = "$samples" ] ||
    fail "predict on $np ranks ${extra[*]}: JSON samples is not $samples"
  h5dump -d /test/prediction "pred$np.h5" | tail -n +2 > "pred$np.txt" ||
    fail "h5dump cannot read /test/prediction of pred$np.h5"
  grep -q 'H5T_IEEE_F32LE' "pred$np.txt" || fail "/test/prediction of pred$np.h5 is not float32"
  grep -q 'SIMPLE { ( 100, 320 )' "pred$np.txt" || fail "/test/prediction of pred$np.h5 is not 100 x 320"
  pe=$(json_field test_error "pred$np.out")
  json_close "$pe" "$train_err" ||
    fail "predict on $np ranks: test_error $pe differs from the training run's $train_err"
  note "predict on $np ranks: test_error $pe (training: $train_err)"
done
cmp -s pred1.txt pred3.txt || fail "/test/prediction differs between 1 and 3 ranks"
h5dump -H -d /train/prediction pred3.h5 2>/dev/null | grep -q 'SIMPLE { ( 200, 320 )' ||
  fail "--all did not write /train/prediction (200 x 320)"
if h5dump -H -d /train/prediction pred1.h5 > /dev/null 2>&1; then fail "/train/prediction written without --all"; fi
hist_err=$("$H2NN_HISTORY" ck.h5 | awk '!/^#/ { e = $5 } END { print e }')
json_close "$(json_field test_error pred1.out)" "$hist_err" ||
  fail "predicted test_error differs from the checkpoint history's last test_error $hist_err"
cmp -s ck.h5 ck.orig || fail "--predict modified the checkpoint"
note "ok"
