#!/usr/bin/env bash
# make_corpus.sh BUILD_DIR — (re)make the seed corpus of tests/fuzz/corpus/
# from the programs of BUILD_DIR: small valid and broken input files
# (h2nn_mkinput, N = 8) and small checkpoints (trained on them), valid and
# damaged (h2nn_mkinput --ckpt).  The files are committed; findings of
# runscripts/fuzz.sh are added next to them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
b=$(cd "${1:?usage: make_corpus.sh BUILD_DIR}" && pwd)
. "$here/../../runscripts/mpienv.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cases=(good attr_iterations no_test_output f64_samples rank1_samples n_mismatch nan_train_input inf_test_output
       zero_output empty_train huge_declared uint8_samples attr_string_leaf_size attr_string_lr attr_compound_rank)
specs=()
for c in "${cases[@]}"; do specs+=("$c=in_$c.h5"); done
"$b/tests/h2nn_mkinput" 8 "${specs[@]}"
mkdir -p "$here/corpus/input" "$here/corpus/checkpoint"
for c in "${cases[@]}"; do cp "in_$c.h5" "$here/corpus/input/seed_$c.h5"; done
"$b/h2nn_mpi" --quiet --iterations 3 --batch-size 8 --leaf-size 4 --rank 2 --zeta 2 --checkpoint ck.h5 in_good.h5 > /dev/null
"$b/h2nn_mpi" --quiet --iterations 3 --batch-size 8 --leaf-size 2 --rank 2 --zeta 1 --center-output \
  --checkpoint ck_far.h5 in_good.h5 > /dev/null
cp ck.h5 "$here/corpus/checkpoint/seed_ck.h5"
cp ck_far.h5 "$here/corpus/checkpoint/seed_ck_far.h5"
for m in activation_array activation_vlen points_extra_cols points_2n_rows output_mean_2d history_2d history_scalar \
         step_negative n_huge leaf_size_0 leaf_size_neg leaf_size_string close_hidden_neg output_scale_inf nan_weights \
         inf_leaf_v adam_v_negative; do
  "$b/tests/h2nn_mkinput" --ckpt "$m" ck_far.h5 "$here/corpus/checkpoint/seed_$m.h5" 2>/dev/null ||
    "$b/tests/h2nn_mkinput" --ckpt "$m" ck.h5 "$here/corpus/checkpoint/seed_$m.h5"
done
# a few inputs of each kind in the other corpus too: the readers meet both
cp in_good.h5 "$here/corpus/checkpoint/seed_input_good.h5"
cp ck.h5 "$here/corpus/input/seed_checkpoint.h5"
du -sh "$here/corpus"
