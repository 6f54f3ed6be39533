#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# accuracy_resume.sh — the accuracy options survive checkpoint and resume:
# cosine schedule with warm-up, weights' EMA, a validation hold-out and
# --keep-best (all non-default here), on 2 ranks:
#   A: 40 iterations straight (A.h5, A.best.h5);
#   B: 15 iterations of the same 40-iteration schedule (--lr-horizon 40;
#      B.h5, B.best.h5), copied to C.h5 / C.best.h5 and
#      resumed to 40 with --checkpoint C.h5 (the schedule, EMA, validation
#      settings and the best error come from the checkpoint: not repeated);
#   E: B.h5 copied to E.h5 and continued by A's own command with
#      --checkpoint E.h5 --resume auto (what a requeued job or a run stopped
#      by a signal does): the same 16..40 and errors as A.
# Same P: the histories of 16..40, the final JSON errors and the predictions
# of A.h5 / C.h5 and of A.best.h5 / C.best.h5 (the EMA weights: /ema) are
# bitwise equal, as are the best iterations.  The predicted test error
# equals the training run's (evaluation and prediction use the same averaged
# weights).  Another P: C resumed on 3 ranks (3 data-parallel replicas, the
# stored-gradient path) ends at A's test error to 1e-4 relative.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 300 --seed 5 --output in.h5
acc=(--lr-schedule cosine --warmup 5 --lr 0.005 --ema 0.9 --validation-fraction 0.25 --keep-best)
common=(--batch-size 12 --eval-every 10 --eval-samples 0 --seed 3)
run_ok 2 A "$H2NN_MPI" "${common[@]}" "${acc[@]}" --iterations 40 --checkpoint A.h5 in.h5
run_ok 2 B "$H2NN_MPI" "${common[@]}" "${acc[@]}" --iterations 15 --lr-horizon 40 --checkpoint B.h5 in.h5
grep -q 'lr schedule cosine after 5 warm-up iterations' A.out || fail "no schedule header line"
grep -q '50 of /train held out for validation, best kept' A.out || fail "no validation header line"
for f in A.h5 A.best.h5 B.h5 B.best.h5; do [ -f "$f" ] || fail "$f was not written"; done
h5dump -H -g /ema A.h5 > /dev/null 2>&1 || fail "A.h5 has no /ema group"
cp B.h5 C.h5 && cp B.best.h5 C.best.h5
run_ok 2 C "$H2NN_MPI" "${common[@]}" --keep-best --resume C.h5 --iterations 40 --checkpoint C.h5 in.h5
grep -q 'lr schedule cosine after 5 warm-up iterations' C.out || fail "the resumed run did not take the schedule from the checkpoint"

"$H2NN_HISTORY" A.h5 | awk '!/^#/ && $1 > 15 { print $1, $3, $4, $5 }' > tailA.txt
"$H2NN_HISTORY" C.h5 | awk '!/^#/ && $1 > 15 { print $1, $3, $4, $5 }' > tailC.txt
[ "$(wc -l < tailA.txt)" -eq 25 ] || fail "A's history lacks iterations 16..40"
if ! cmp -s tailA.txt tailC.txt; then
  diff tailA.txt tailC.txt | head -n 10 >&2
  fail "iterations 16..40 differ between the uninterrupted and the resumed run"
fi
for f in train_error test_error; do
  [ "$(json_field "$f" A.out)" = "$(json_field "$f" C.out)" ] || fail "final $f differs after resume"
done
cp B.h5 E.h5
run_ok 2 E "$H2NN_MPI" "${common[@]}" "${acc[@]}" --iterations 40 --checkpoint E.h5 --resume auto in.h5
grep -q '(resumed)' E.out || fail "--resume auto did not continue E.h5"
"$H2NN_HISTORY" E.h5 | awk '!/^#/ && $1 > 15 { print $1, $3, $4, $5 }' > tailE.txt
cmp -s tailA.txt tailE.txt || fail "iterations 16..40 differ between the uninterrupted run and --resume auto"
for f in train_error test_error; do
  [ "$(json_field "$f" A.out)" = "$(json_field "$f" E.out)" ] || fail "final $f differs after --resume auto"
done
attr() { h5dump -a "/optimizer/$2" "$1" | awk '/\(0\)/ { print $2 }'; }
[ "$(attr A.best.h5 best_iteration)" = "$(attr C.best.h5 best_iteration)" ] ||
  fail "best iteration: $(attr A.best.h5 best_iteration) uninterrupted, $(attr C.best.h5 best_iteration) resumed"
for ck in A C A.best C.best; do
  run_ok 2 "p$ck" "$H2NN_MPI" --predict "$ck.h5" --output "p$ck.h5" in.h5
  h5dump -d /test/prediction "p$ck.h5" | tail -n +2 > "p$ck.txt"
done
cmp -s pA.txt pC.txt || fail "predictions of A.h5 and the resumed C.h5 differ"
cmp -s pA.best.txt pC.best.txt || fail "predictions of A.best.h5 and C.best.h5 differ"
json_close "$(json_field test_error pA.out)" "$(json_field test_error A.out)" ||
  fail "predicted test error $(json_field test_error pA.out) differs from training's $(json_field test_error A.out) (not the averaged weights?)"

# another rank count: 3 data-parallel replicas, gradients summed in another order
cp B.h5 D.h5
run_ok 3 D "$H2NN_MPI" "${common[@]}" --resume D.h5 --iterations 40 --checkpoint D.h5 in.h5
rel_close "$(json_field test_error A.out)" "$(json_field test_error D.out)" 1e-4 ||
  fail "resumed on 3 ranks: test error $(json_field test_error D.out), uninterrupted on 2: $(json_field test_error A.out)"
note "ok: test error $(json_field test_error A.out), best at iteration $(attr A.best.h5 best_iteration)"
