#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# data_parallel_agreement.sh — pure data parallelism (--model-parallel 1)
# does not change the training: 20 iterations on 1, 2 and 4 ranks give
# per-iteration train losses (h2nn_history) that agree to 1e-4 relative
# (float32 gradients summed in a different order), and final errors too.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

TOL=1e-4
run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 300 --seed 7 --output in.h5
for np in 1 2 4; do
  run_ok "$np" "run$np" "$H2NN_MPI" --model-parallel 1 --iterations 20 \
    --checkpoint "ck$np.h5" in.h5
  [ "$(json_field ranks "run$np.out")" = "$np" ] || fail "JSON ranks is not $np"
  [ "$(json_field model_parallel "run$np.out")" = 1 ] || fail "JSON model_parallel is not 1"
  "$H2NN_HISTORY" "ck$np.h5" | awk '!/^#/ { print $1, $3 }' > "loss$np.txt"
  [ "$(wc -l < "loss$np.txt")" -eq 20 ] || fail "history of $np ranks does not have 20 iterations"
done
for np in 2 4; do
  paste loss1.txt "loss$np.txt" | awk -v tol="$TOL" -v np="$np" '{
    if ($1 != $3) { printf "iteration mismatch %s vs %s\n", $1, $3; bad = 1; exit }
    d = $2 - $4; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
    if (!(d <= tol * m)) { printf "iteration %d: loss %s on 1 rank, %s on %d ranks\n", $1, $2, $4, np; bad = 1 }
  } END { exit bad }' >&2 || fail "losses on $np ranks differ from 1 rank by more than $TOL relative"
  for f in train_error test_error; do
    a=$(json_field "$f" run1.out) b=$(json_field "$f" "run$np.out")
    rel_close "$a" "$b" "$TOL" || fail "final $f: $a on 1 rank, $b on $np ranks"
  done
done
note "ok: final losses $(tail -n 1 loss1.txt) / $(tail -n 1 loss2.txt) / $(tail -n 1 loss4.txt)"
