#!/usr/bin/env bash
# probe.sh [BUILD_DIR] — the hostile-input probe of docs/reliability.md,
# re-runnable: broken input files (h2nn_mkinput) and damaged checkpoints
# (h2nn_mkinput --ckpt) on 1, 2 and 3 ranks, every numeric option with
# out-of-range, overflowing and malformed values, special and aliased output
# paths for the three writers, learning rates up to divergence.  Every run is
# classified: clean refusal (non-zero exit, one "error:" line, no signal),
# crash (a signal, a sanitizer report, or not exactly one error line), hang
# (no exit in 60 s), silent acceptance (exit 0 on invalid input; for the
# numeric runs: exit 0 with a non-finite or invalid JSON summary); after
# every run the files already there (inputs, checkpoints, a FIFO, a device
# node, a hard link) are checked byte for byte: "lost" counts runs that
# changed or replaced one.  Prints one line per category and the failures.
# (SIGKILL, disk-full and signal faults are the faults_* and signals_* tests.)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
b=$(cd "${1:-build}" && pwd)
. runscripts/mpienv.sh
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w" || exit 1
declare -A refused crashed hung accepted total lost
# PROBE_ONLY="input ckpt options numeric" (a subset of them) runs only those
want() { [ -z "${PROBE_ONLY:-}" ] || [[ " $PROBE_ONLY " == *" $1 "* ]]; }
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
  if ! sha256sum --quiet -c "$w/protected.sha" > /dev/null 2>&1 || [ ! -p out.fifo ] || [ ! -c null.dev ]; then
    lost[$cat]=$(( ${lost[$cat]:-0} + 1 )); bad+="  data lost: $label np=$np"$'\n'
    protect_reset
  fi
}
# the files every run must leave alone
protect_reset() {
  cp good.h5 in.h5; rm -f alias.h5 link.h5; ln in.h5 alias.h5; ln -s in.h5 link.h5; cp ck.h5 keep.h5
  rm -f out.fifo null.dev; mkfifo out.fifo; mknod null.dev c 1 3 2> /dev/null || mkfifo null.dev
  sha256sum good.h5 in.h5 ck.h5 ck320.h5 keep.h5 rte.h5 > "$w/protected.sha"
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
protect_reset
for np in 1 2 3; do
  want input || break
  for c in "${inputs[@]}" trunc notes; do
    f=$c.h5; [ "$c" = notes ] && f=notes.txt
    run input "$c" "$np" "$b/h2nn_mpi" --quiet --iterations 5 --batch-size 16 "$f"
  done
  run input fifo "$np" "$b/h2nn_mpi" --quiet --iterations 5 in.fifo
done
muts=(activation_array points_extra_cols points_2n_rows output_mean_2d history_2d history_scalar step_negative n_huge
      leaf_size_0 leaf_size_neg leaf_size_string close_hidden_neg output_scale_inf nan_weights inf_leaf_v adam_v_negative)
for m in "${muts[@]}"; do
  want ckpt || break
  src=ck.h5 data=good.h5
  [ "$m" = inf_leaf_v ] && src=ck320.h5 data=rte.h5
  "$b/tests/h2nn_mkinput" --ckpt "$m" "$src" "m_$m.h5" || continue
  for np in 1 2 3; do
    rm -f out.h5 p.h5
    # --predict reads the model only: the optimizer and history cases are valid for it
    run ckpt "resume $m" "$np" "$b/h2nn_mpi" --quiet --resume "m_$m.h5" --iterations 20 --batch-size 16 \
      --checkpoint out.h5 "$data"
    case $m in history_*|step_negative|adam_v_negative) ;; *)
      run ckpt "predict $m" "$np" "$b/h2nn_mpi" --quiet --predict "m_$m.h5" --output p.h5 "$data" ;; esac
  done
done
tr5=(--quiet --iterations 5 --batch-size 16)
if want options; then
# every numeric option: negative, zero where meaningless, 2^31, 2^32 + 80
# (narrowing), 2^63 (overflow), malformed
for o in leaf-size rank zeta close-hidden far-hidden batch-size model-parallel; do
  for v in -1 2147483648 4294967376 9223372036854775808 12abc 1.5 ""; do
    run options "--$o '$v'" 2 "$b/h2nn_mpi" "${tr5[@]}" "--$o" "$v" in.h5
  done
done
# (for these, large values are valid: --eval-samples 2^32 means all samples)
for o in iterations checkpoint-every eval-every eval-samples seed; do
  for v in -2 9223372036854775808 12abc 1.5 ""; do
    run options "--$o '$v'" 2 "$b/h2nn_mpi" "${tr5[@]}" "--$o" "$v" in.h5
  done
done
for o in eta input-scale lr beta1 beta2 adam-eps data-memory; do
  for v in -1 nan inf 1e400 abc ""; do
    run options "--$o '$v'" 2 "$b/h2nn_mpi" "${tr5[@]}" "--$o" "$v" in.h5
  done
done
# a subnormal where the value divides or sets a geometry (a subnormal --lr,
# --beta1, --beta2 or --data-memory is a valid, if useless, value)
for o in eta input-scale adam-eps; do
  run options "--$o 1e-320" 2 "$b/h2nn_mpi" "${tr5[@]}" "--$o" 1e-320 in.h5
done
for o in "--leaf-size 0" "--rank 0" "--zeta 0" "--zeta 65" "--eta 0" "--batch-size 0" "--beta1 1" "--beta2 1.5" \
         "--iterations 9223372036854775807" "--model-parallel 3" "--activation foo" "--init foo" "--max-time -5" \
         "--max-time 1:2:3:4" "--synthetic 4294968296" "--dim 0" "--resume auto" \
         "--resume nosuch.h5"; do
  read -r -a a <<< "$o"
  run options "$o" 2 "$b/h2nn_mpi" "${tr5[@]}" "${a[@]}" in.h5
done
run options "--synthetic 4294968296 (alone)" 2 "$b/h2nn_mpi" "${tr5[@]}" --synthetic 4294968296
# output paths of the three writers: special files, the inputs (by name, by
# hard link, by symbolic link), directories, missing directories
for p in out.fifo null.dev in.h5 alias.h5 link.h5 . /nonexistent/x.h5; do
  run options "--checkpoint $p" 2 "$b/h2nn_mpi" "${tr5[@]}" --checkpoint "$p" in.h5
  run options "--predict --output $p" 2 "$b/h2nn_mpi" --predict ck.h5 --output "$p" in.h5
done
# h2nn_gen reads nothing: only special files and bad directories are wrong for it
for p in out.fifo null.dev . /nonexistent/x.h5; do
  run options "gen --output $p" 2 "$b/h2nn_gen" rte --n 64 --samples 10 --output "$p"
done
run options "--predict ck --output ck" 2 "$b/h2nn_mpi" --predict ck.h5 --output ck.h5 in.h5
run options "--resume ck --output" 2 "$b/h2nn_mpi" "${tr5[@]}" --resume ck.h5 --output o.h5 in.h5
run options "--checkpoint keep (backwards)" 2 "$b/h2nn_mpi" "${tr5[@]}" --checkpoint keep.h5 in.h5
fi
# numerical trouble: learning rates from large to absurd, a checkpoint every
# iteration; a refusal (exit 4, diverged) or a finite result are both
# correct, but the checkpoint left must be finite and the JSON valid
numeric() {
  local label=$1 rc=0
  shift
  rm -f div.h5
  timeout -k 5 180 mpirun --oversubscribe -np 2 "$@" > o.txt 2> e.txt || rc=$?
  total[numeric]=$(( ${total[numeric]:-0} + 1 ))
  local json ok=1
  json=$(grep '^{' o.txt | tail -n 1)
  # no summary after an error exit is fine; one that is printed must parse, with no nan/inf
  [ -z "$json" ] || python3 -c 'import json,sys,math; d=json.loads(sys.argv[1]); sys.exit(0 if all(v is None or not isinstance(v, float) or math.isfinite(v) for v in d.values()) else 1)' "$json" 2> /dev/null || ok=0
  [ -n "$json" ] || [ "$rc" -ne 0 ] || ok=0
  if [ -e div.h5 ] && ! timeout 60 mpirun -np 1 "$b/h2nn_mpi" --predict div.h5 --output pdiv.h5 good.h5 > po.txt 2>&1; then
    lost[numeric]=$(( ${lost[numeric]:-0} + 1 )); bad+="  $label: the checkpoint left does not predict"$'\n'
  fi
  rm -f pdiv.h5
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then hung[numeric]=$(( ${hung[numeric]:-0} + 1 )); bad+="  hang: $label"$'\n'
  elif [ "$rc" -gt 128 ] || grep -qaE 'Segmentation|Signal:|AddressSanitizer|runtime error' e.txt; then
    crashed[numeric]=$(( ${crashed[numeric]:-0} + 1 )); bad+="  crash: $label"$'\n'
  elif [ "$ok" = 0 ]; then accepted[numeric]=$(( ${accepted[numeric]:-0} + 1 )); bad+="  invalid JSON: $label"$'\n'
  elif [ "$rc" -eq 4 ] || [ "$rc" -eq 1 ]; then refused[numeric]=$(( ${refused[numeric]:-0} + 1 ))
  elif [ "$rc" -ne 0 ]; then crashed[numeric]=$(( ${crashed[numeric]:-0} + 1 )); bad+="  status $rc: $label"$'\n'; fi
}
if want numeric; then
for lr in 1 10 100 1e3 1e4 1e5 1e6 1e8 1e12 1e20 1e30 1e38; do
  numeric "--lr $lr" "$b/h2nn_mpi" --quiet --iterations 60 --batch-size 16 --lr "$lr" --checkpoint-every 1 \
    --checkpoint div.h5 good.h5
done
for s in 1e-30 1e-10 1e10 1e30; do
  numeric "--input-scale $s" "$b/h2nn_mpi" --quiet --iterations 30 --batch-size 16 --input-scale "$s" \
    --checkpoint-every 1 --checkpoint div.h5 good.h5
done
for e in 1e-30 1e30; do
  numeric "--adam-eps $e" "$b/h2nn_mpi" --quiet --iterations 30 --batch-size 16 --adam-eps "$e" --lr 10 \
    --checkpoint-every 1 --checkpoint div.h5 good.h5
done
numeric "--beta2 0.1 --lr 100" "$b/h2nn_mpi" --quiet --iterations 50 --batch-size 16 --beta2 0.1 --lr 100 \
  --checkpoint-every 1 --checkpoint div.h5 good.h5
numeric "--zeta 3 --lr 1e4" "$b/h2nn_mpi" --quiet --iterations 50 --batch-size 16 --zeta 3 --lr 1e4 \
  --checkpoint-every 1 --checkpoint div.h5 good.h5
fi
printf '%-10s %6s %8s %7s %5s %9s %5s\n' category runs refused crashes hangs accepted lost
for c in input ckpt options numeric; do
  printf '%-10s %6d %8d %7d %5d %9d %5d\n' "$c" "${total[$c]:-0}" "${refused[$c]:-0}" "${crashed[$c]:-0}" "${hung[$c]:-0}" \
    "${accepted[$c]:-0}" "${lost[$c]:-0}"
done
[ -z "$bad" ] || printf 'not clean:\n%s' "$bad"
