#!/usr/bin/env bash
# probe.sh [BUILD_DIR] — the hostile-input probe of docs/reliability.md,
# re-runnable: broken input files (h2nn_mkinput) and damaged checkpoints
# (h2nn_mkinput --ckpt) on 1, 2 and 3 ranks, extreme options, special and
# aliased output paths.  Every run is classified: clean refusal (non-zero
# exit, one "error:" line, no signal), crash (a signal or a sanitizer
# report), hang (no exit in 60 s), silent acceptance (exit 0 on invalid
# input).  Prints one line per category and the failures.
set -uo pipefail
cd "$(dirname "$0")/.."
b=$(cd "${1:-build}" && pwd)
. runscripts/mpienv.sh
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
declare -A refused crashed hung accepted total
bad=""
# run CATEGORY LABEL NP CMD... — one classified run
run() {
  local cat=$1 label=$2 np=$3 rc=0
  shift 3
  timeout -k 5 60 mpirun --oversubscribe -np "$np" "$@" > o.txt 2> e.txt || rc=$?
  total[$cat]=$(( ${total[$cat]:-0} + 1 ))
  local nerr
  nerr=$(grep -c '^h2nn_[a-z]*: error:' e.txt)
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then hung[$cat]=$(( ${hung[$cat]:-0} + 1 )); bad+="  hang: $label np=$np"$'\n'
  elif grep -qaE 'Segmentation|Signal:|AddressSanitizer|runtime error|core dumped|Aborted' e.txt || [ "$rc" -gt 128 ]; then
    crashed[$cat]=$(( ${crashed[$cat]:-0} + 1 )); bad+="  crash: $label np=$np (status $rc)"$'\n'
  elif [ "$rc" -eq 0 ]; then accepted[$cat]=$(( ${accepted[$cat]:-0} + 1 )); bad+="  accepted: $label np=$np"$'\n'
  elif [ "$nerr" -eq 1 ]; then refused[$cat]=$(( ${refused[$cat]:-0} + 1 ))
  else crashed[$cat]=$(( ${crashed[$cat]:-0} + 1 )); bad+="  $nerr error lines: $label np=$np"$'\n'; fi
}
inputs=(no_test_output f64_samples rank1_samples n_mismatch nan_train_input inf_test_output zero_output empty_train
        huge_declared uint8_samples attr_string_leaf_size attr_string_lr attr_compound_rank)
specs=(good=good.h5)
for c in "${inputs[@]}"; do specs+=("$c=$c.h5"); done
"$b/tests/h2nn_mkinput" 128 "${specs[@]}" || exit 1
mpirun -np 2 "$b/h2nn_mpi" --quiet --iterations 10 --batch-size 16 --checkpoint ck.h5 good.h5 > /dev/null
mpirun -np 2 "$b/h2nn_gen" rte --n 320 --samples 90 --seed 3 --output rte.h5 > /dev/null
mpirun -np 2 "$b/h2nn_mpi" --quiet --iterations 10 --batch-size 16 --checkpoint ck320.h5 rte.h5 > /dev/null
head -c 40000 good.h5 > trunc.h5; printf 'not hdf5\n' > notes.txt; mkfifo in.fifo
for np in 1 2 3; do
  for c in "${inputs[@]}" trunc notes; do
    f=$c.h5; [ "$c" = notes ] && f=notes.txt
    run input "$c" "$np" "$b/h2nn_mpi" --quiet --iterations 5 --batch-size 16 "$f"
  done
  run input fifo "$np" "$b/h2nn_mpi" --quiet --iterations 5 in.fifo
done
muts=(activation_array points_extra_cols points_2n_rows output_mean_2d history_2d history_scalar step_negative n_huge
      leaf_size_0 leaf_size_neg leaf_size_string close_hidden_neg output_scale_inf nan_weights inf_leaf_v adam_v_negative)
for m in "${muts[@]}"; do
  src=ck.h5 data=good.h5
  [ "$m" = inf_leaf_v ] && src=ck320.h5 data=rte.h5
  "$b/tests/h2nn_mkinput" --ckpt "$m" "$src" "m_$m.h5" || continue
  for np in 1 2 3; do
    # --predict reads the model only: the optimizer and history cases are valid for it
    run ckpt "resume $m" "$np" "$b/h2nn_mpi" --quiet --resume "m_$m.h5" --iterations 20 --batch-size 16 \
      --checkpoint out.h5 "$data"
    case $m in history_*|step_negative|adam_v_negative) ;; *)
      run ckpt "predict $m" "$np" "$b/h2nn_mpi" --quiet --predict "m_$m.h5" --output p.h5 "$data" ;; esac
  done
done
mkfifo out.fifo; cp good.h5 in.h5; ln in.h5 alias.h5
opts=("--leaf-size 2147483648" "--leaf-size 4294967376" "--iterations 9223372036854775807" "--eta 1e-320"
      "--lr 1e400" "--rank 0" "--batch-size 0" "--seed -1" "--zeta 65" "--model-parallel 3" "--checkpoint out.fifo"
      "--checkpoint in.h5" "--checkpoint alias.h5" "--checkpoint /nonexistent/ck.h5")
for o in "${opts[@]}"; do
  read -r -a a <<< "$o"
  run options "$o" 2 "$b/h2nn_mpi" --quiet --iterations 5 --batch-size 16 "${a[@]}" in.h5
done
run options "--synthetic 4294968296" 2 "$b/h2nn_mpi" --quiet --iterations 5 --synthetic 4294968296
run options "--predict ck --output ck" 2 "$b/h2nn_mpi" --predict ck.h5 --output ck.h5 in.h5
run options "--predict --output in" 2 "$b/h2nn_mpi" --predict ck.h5 --output in.h5 in.h5
run options "gen --output fifo" 2 "$b/h2nn_gen" rte --n 64 --samples 10 --output out.fifo
run numeric "--lr 1e6 (diverges)" 2 "$b/h2nn_mpi" --quiet --iterations 300 --batch-size 16 --lr 1e6 \
  --checkpoint-every 1 --checkpoint div.h5 good.h5
[ -p out.fifo ] || bad+="  out.fifo was replaced"$'\n'
cmp -s in.h5 good.h5 || bad+="  in.h5 was changed"$'\n'
printf '%-10s %6s %8s %7s %5s %9s\n' category runs refused crashes hangs accepted
for c in input ckpt options numeric; do
  printf '%-10s %6d %8d %7d %5d %9d\n' "$c" "${total[$c]:-0}" "${refused[$c]:-0}" "${crashed[$c]:-0}" "${hung[$c]:-0}" \
    "${accepted[$c]:-0}"
done
[ -z "$bad" ] || printf 'not clean:\n%s' "$bad"
