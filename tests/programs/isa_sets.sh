#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# isa_sets.sh — the kernel sets chosen at run time (include/h2nn/core/isa.h):
#   * every set this CPU runs (generic always; avx2 / avx512 when
#     /proc/cpuinfo lists avx2+fma / avx512f), picked with H2NN_ISA, trains
#     12 iterations on 2 ranks, names itself in the header line and in the
#     JSON line ("isa"), and gives per-iteration train losses (h2nn_history)
#     that agree with the generic set's to 1e-5 relative (only the block
#     products' rounding differs between sets);
#   * --isa overrides H2NN_ISA;
#   * a set the CPU lacks (and an unknown name) fails on 1 and 2 ranks with
#     a non-zero status on every rank and exactly one error line naming it,
#     never an illegal instruction;
#   * subnormals: flushed by default (header and JSON say so), --denormals
#     keep trains to the same losses (1e-5 relative), an unknown mode is
#     refused like an unknown set.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

TOL=1e-5
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
runs=(generic) lacks=()
if has avx2 && has fma; then runs+=(avx2); else lacks+=(avx2); fi
if has avx512f && has avx2 && has fma; then runs+=(avx512); else lacks+=(avx512); fi
[ "$(uname -m)" = x86_64 ] || { runs=(generic) lacks=(); }
note "sets this CPU runs: ${runs[*]}; lacks: ${lacks[*]:-none}"

common=(--synthetic 1280 --leaf-size 40 --iterations 12 --eval-every 0 --eval-samples 64 --synthetic-samples 256)
for set in "${runs[@]}"; do
  H2NN_ISA=$set run_ok 2 "run_$set" "$H2NN_MPI" "${common[@]}" --checkpoint "ck_$set.h5"
  [ "$(json_field isa "run_$set.out")" = "$set" ] || fail "H2NN_ISA=$set: JSON isa is '$(json_field isa "run_$set.out")'"
  grep -q "kernel set $set, subnormals flushed, OpenBLAS " "run_$set.out" || fail "H2NN_ISA=$set: the header does not name the kernel set"
  "$H2NN_HISTORY" "ck_$set.h5" | awk '!/^#/ { print $1, $3 }' > "loss_$set.txt"
  [ "$(wc -l < "loss_$set.txt")" -eq 12 ] || fail "history under $set does not have 12 iterations"
done
[ "$(json_field denormals run_generic.out)" = flush ] || fail "JSON denormals is not flush by default"
best=${runs[${#runs[@]}-1]}
H2NN_ISA=$best run_ok 2 run_keep "$H2NN_MPI" "${common[@]}" --checkpoint ck_keep.h5 --denormals keep
[ "$(json_field denormals run_keep.out)" = keep ] || fail "--denormals keep: JSON denormals is not keep"
grep -q "kernel set $best, subnormals kept, OpenBLAS " run_keep.out || fail "--denormals keep: the header does not say so"
"$H2NN_HISTORY" ck_keep.h5 | awk '!/^#/ { print $1, $3 }' > loss_keep.txt
cp "loss_$best.txt" loss_flush.txt
for set in "${runs[@]}" keep:flush; do
  ref=generic
  [[ $set == *:* ]] && { ref=${set#*:}; set=${set%%:*}; }
  paste "loss_$ref.txt" "loss_$set.txt" | awk -v tol="$TOL" -v set="$set" -v ref="$ref" '{
    d = $2 - $4; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
    if ($1 != $3 || !(d <= tol * m)) { printf "iteration %s: loss %s %s, %s %s\n", $1, $2, ref, $4, set; bad = 1 }
  } END { exit bad }' >&2 || fail "losses under $set differ from $ref by more than $TOL relative"
done

# --isa wins over H2NN_ISA
H2NN_ISA=bogus run_ok 1 opt "$H2NN_MPI" "${common[@]}" --iterations 2 --isa generic
[ "$(json_field isa opt.out)" = generic ] || fail "--isa generic under H2NN_ISA=bogus: JSON isa is not generic"

# sets the CPU lacks, and an unknown name: one clean error on every rank
bad_cases=()
for set in "${lacks[@]}"; do bad_cases+=("env:$set:cannot run" "opt:$set:cannot run"); done
bad_cases+=("env:sse9:expected generic, avx2, avx512" "den:bogus:expected flush or keep")
for c in "${bad_cases[@]}"; do
  IFS=: read -r how set want <<< "$c"
  for np in 1 2; do
    rc=0
    case $how in
    env) H2NN_ISA=$set run_mpi_ranks "$np" out.txt err.txt "$H2NN_MPI" "${common[@]}" || rc=$? ;;
    opt) run_mpi_ranks "$np" out.txt err.txt "$H2NN_MPI" "${common[@]}" --isa "$set" || rc=$? ;;
    den) run_mpi_ranks "$np" out.txt err.txt "$H2NN_MPI" "${common[@]}" --denormals "$set" || rc=$? ;;
    esac
    sed 's/^/  stderr: /' err.txt
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$how $set on $np ranks: no exit within ${RUN_TIMEOUT} s"
    if [ -e rank_status.unknown ]; then [ "$rc" -ne 0 ] || fail "$how $set: exit status 0"
    else check_rank_statuses "$np" "$how $set on $np ranks: a rank did not exit"; fi
    for k in $(seq 0 $((np - 1))); do
      [ ! -f "rank_status.$k" ] || [ "$(cat "rank_status.$k")" -eq 1 ] || fail "$how $set: rank $k exit status $(cat "rank_status.$k"), expected 1"
    done
    grep -qi 'illegal instruction' err.txt && fail "$how $set: illegal instruction"
    nerr=$(grep -c '^h2nn_mpi: error:' err.txt || true)
    [ "$nerr" -eq 1 ] || fail "$how $set on $np ranks: $nerr error lines, expected one"
    grep '^h2nn_mpi: error:' err.txt | grep -q -- "$set.*$want" || fail "$how $set: the error line does not say '$want'"
    grep -q '^{"mode"' out.txt && fail "$how $set: trained anyway"
  done
done
note "ok: ${runs[*]} and --denormals keep agree to $TOL; refused: ${lacks[*]:-none}, an unknown set and mode"
