#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bad_input_setup.sh — ctest fixture of the bad_input_* tests: writes the
# inputs and checkpoints they start from into the fixture directory (each
# file replaced atomically); the tests only copy from it:
#   good.h5       h2nn_mkinput good, N = 128 (48 train, 24 test samples)
#   CASE.h5       h2nn_mkinput CASE for each broken case (same N and data)
#   ck.h5         a checkpoint trained 10 iterations on good.h5
#   rte320.h5     h2nn_gen rte N = 320 (90 samples), ck320.h5 trained on it
#   rte640.h5     h2nn_gen rte N = 640 (90 samples)
# Also proves the starting points are good: every run here must succeed.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

[ -n "$FIXTURE" ] || fail "no fixture= directory given"
broken=(no_test_output f64_samples rank1_samples n_mismatch nan_train_input inf_test_output
        zero_output empty_train huge_declared uint8_samples attr_string_leaf_size attr_string_lr
        attr_compound_rank)
specs=(good=good.h5)
for c in "${broken[@]}"; do specs+=("$c=$c.h5"); done
timeout -k 5 60 "$H2NN_MKINPUT" 128 "${specs[@]}" || fail "h2nn_mkinput failed"
run_ok 2 gen320 "$H2NN_GEN" rte --n 320 --samples 90 --seed 3 --output rte320.h5
run_ok 2 gen640 "$H2NN_GEN" rte --n 640 --samples 90 --seed 3 --output rte640.h5
run_ok 2 train128 "$H2NN_MPI" --quiet --iterations 10 --batch-size 16 --checkpoint ck.h5 good.h5
run_ok 2 train320 "$H2NN_MPI" --quiet --iterations 10 --batch-size 16 --checkpoint ck320.h5 rte320.h5
files=(good.h5 ck.h5 rte320.h5 rte640.h5 ck320.h5)
for c in "${broken[@]}"; do files+=("$c.h5"); done
for f in "${files[@]}"; do
  [ -s "$f" ] || fail "$f was not written"
done
# Each file is renamed into place (atomic), so a bad_input test of a
# concurrent ctest run never sees a missing or half-written file.
mkdir -p "$FIXTURE"
for f in "${files[@]}"; do
  cp "$f" "$FIXTURE/.$f.$$"
  mv -f "$FIXTURE/.$f.$$" "$FIXTURE/$f"
done
note "fixture ready in $FIXTURE"
