#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# resume_equals_uninterrupted.sh — training is exactly resumable (same rank
# count, so the same summation order):
#   A: 60 iterations straight, checkpoint A.h5;
#   B: 25 iterations (checkpoint B.h5), then --resume B.h5 --iterations 60
#      (a total) with checkpoint B2.h5.
# The history (h2nn_history) of B2 has iterations 1..60 once each; its train
# loss (and the train/test errors where evaluated) of iterations 26..60 equal
# A's as text, as do the JSON final train/test errors and iterations; the
# losses of 1..25 equal A's too (same seed, same start).  Resume point 25
# with 200 samples in batches of 12 lies mid-epoch, so the shuffle state is
# exercised, and --eval-every 10 puts evaluations on both sides of it.
# Also: B.h5 resumed on 3 ranks (another data split) reproduces A's losses
# of 26..60 to 1e-4 relative.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 300 --seed 5 --output in.h5
common=(--batch-size 12 --eval-every 10 --seed 3)
run_ok 2 A "$H2NN_MPI" "${common[@]}" --iterations 60 --checkpoint A.h5 in.h5
run_ok 2 B "$H2NN_MPI" "${common[@]}" --iterations 25 --checkpoint B.h5 in.h5
cp B.h5 B.orig
run_ok 2 B2 "$H2NN_MPI" "${common[@]}" --resume B.h5 --iterations 60 --checkpoint B2.h5 in.h5
cmp -s B.h5 B.orig || fail "--resume modified the checkpoint it resumed from"

"$H2NN_HISTORY" A.h5 | grep -v '^#' > histA.txt
"$H2NN_HISTORY" B2.h5 | grep -v '^#' > histB2.txt
iters=$(awk '{ printf "%s ", $1 }' histB2.txt)
expect=$(seq -s ' ' 1 60)
[ "$iters" = "$expect " ] || fail "B2's history iterations are not 1..60 once each: $iters"
# iteration, train loss, train error, test error (no wall time)
awk '$1 >= 26 && $1 <= 60 { print $1, $3, $4, $5 }' histA.txt > tailA.txt
awk '$1 >= 26 && $1 <= 60 { print $1, $3, $4, $5 }' histB2.txt > tailB2.txt
[ "$(wc -l < tailA.txt)" -eq 35 ] || fail "A's history lacks iterations 26..60"
if ! cmp -s tailA.txt tailB2.txt; then
  diff tailA.txt tailB2.txt | head -n 10 >&2
  fail "iterations 26..60 differ between the uninterrupted and the resumed run"
fi
awk '$1 <= 25 { print $1, $3 }' histA.txt > headA.txt
awk '$1 <= 25 { print $1, $3 }' histB2.txt > headB2.txt
if ! cmp -s headA.txt headB2.txt; then
  diff headA.txt headB2.txt | head -n 10 >&2
  fail "the losses of iterations 1..25 differ between run A and run B (same seed)"
fi
for f in train_error test_error iterations; do
  a=$(json_field "$f" A.out) b=$(json_field "$f" B2.out)
  [ "$a" = "$b" ] || fail "final $f: uninterrupted $a, resumed $b"
done

# The checkpoint is loadable on another rank count (docs/design.md §5): resumed on 3
# ranks the losses of 26..60 agree with A up to summation order.
run_ok 3 B3 "$H2NN_MPI" "${common[@]}" --resume B.h5 --iterations 60 --checkpoint B3.h5 in.h5
"$H2NN_HISTORY" B3.h5 | awk '!/^#/ && $1 >= 26 { print $1, $3 }' > tailB3.txt
paste tailA.txt tailB3.txt | awk '{
  if ($1 != $5) { print "iteration mismatch", $1, $5; bad = 1; exit }
  d = $2 - $6; if (d < 0) d = -d
  if (!(d <= 1e-4 * $2)) { print "iteration", $1, "loss", $2, "vs", $6, "resumed on 3 ranks"; bad = 1 }
} END { exit bad || NR != 35 }' >&2 || fail "resumed on 3 ranks: losses of 26..60 differ from run A by more than 1e-4 relative"
note "ok: final test_error $(json_field test_error A.out) in both runs"
