#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# help_and_json.sh — the command-line contract (docs/design.md §7):
#   * `h2nn_mpi --help` exits 0 on 2 ranks and prints the help once;
#   * the help lists the options docs/design.md §7 and the scripts rely on;
#   * every option the help lists is accepted by the parser: all of them at
#     once (with their help defaults, or a sample value) followed by --help
#     exit 0, while an unknown option before --help fails (control);
#   * an input file's root attributes set defaults (iterations=7 written by
#     h2nn_mkinput is honoured: JSON "iterations" and 7 history rows; its
#     batch_size=8 too, else the default 64 > 48 samples would be rejected)
#     and the command line overrides them (--iterations 3);
#   * the training JSON line has every field docs/design.md §7 lists.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 help "$H2NN_MPI" --help
[ "$(grep -c '^Usage:' help.out)" -eq 1 ] || fail "--help on 2 ranks does not print the usage exactly once"
for o in iterations batch-size leaf-size rank zeta eta lr seed model-parallel eval-every \
         checkpoint checkpoint-every resume predict output synthetic dim help; do
  grep -qE -- "^ +--$o( |$)" help.out || fail "--help does not list --$o"
done

# Every listed option, with a value where it takes one, then --help.
mapfile -t lines < <(grep -E '^ +--[a-z]' help.out)
all=()
for line in "${lines[@]}"; do
  read -r opt meta _ <<< "$line"
  [ "$opt" = --help ] && continue
  all+=("$opt")
  [[ "$meta" =~ ^[A-Z][A-Z0-9]*$ ]] || continue   # a flag
  value=""
  if [[ "$line" =~ \[default:\ ([^]]*)\] ]]; then value=${BASH_REMATCH[1]}; fi
  if [ -z "$value" ]; then
    case "$meta" in
      FILE|CKPT) value=x.h5 ;;
      *) value=1 ;;
    esac
  fi
  all+=("$value")
done
[ ${#all[@]} -ge 20 ] || fail "found only ${#all[@]} words of options in the help"
rc=0
run_mpi 1 accept.out accept.err "$H2NN_MPI" "${all[@]}" --help || rc=$?
if [ "$rc" -ne 0 ]; then
  cat accept.err >&2
  fail "the parser rejects an option (or its help default) listed by --help: ${all[*]}"
fi
note "the parser accepts all $((${#lines[@]} - 1)) options --help lists: ${all[*]}"
rc=0
run_mpi 1 control.out control.err "$H2NN_MPI" --no-such-option 1 --help || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q -- '--no-such-option' control.err; then
  fail "an unknown option before --help is not rejected (the acceptance check above proves nothing)"
fi

# Root attributes of the input file are defaults; the command line wins.
timeout -k 5 60 "$H2NN_MKINPUT" 128 attr_iterations=attr.h5 good=good.h5 || fail "h2nn_mkinput failed"
run_ok 2 attr "$H2NN_MPI" --checkpoint attr_ck.h5 attr.h5
[ "$(json_field iterations attr.out)" = 7 ] ||
  fail "the input attribute iterations=7 is not honoured (JSON iterations $(json_field iterations attr.out))"
[ "$("$H2NN_HISTORY" attr_ck.h5 | grep -vc '^#')" -eq 7 ] || fail "the history does not have 7 iterations"
run_ok 2 attr_cli "$H2NN_MPI" --iterations 3 --checkpoint attr_cli_ck.h5 attr.h5
[ "$(json_field iterations attr_cli.out)" = 3 ] ||
  fail "--iterations 3 does not override the input attribute iterations=7"
[ "$("$H2NN_HISTORY" attr_cli_ck.h5 | grep -vc '^#')" -eq 3 ] || fail "the history does not have 3 iterations"
# ... and without the attribute, the project default (from --help) applies.
run_ok 2 noattr "$H2NN_MPI" --iterations 2 --batch-size 16 good.h5
[ "$(json_field iterations noattr.out)" = 2 ] || fail "--iterations 2 not honoured on a file without attributes"

# The JSON line of a training run.
for f in mode N ranks model_parallel isa params iterations train_error test_error seconds \
         ms_per_iteration gflops gflops_compute comm_bytes_per_iteration comm_share coarse_flops_per_iteration_max_rank \
         coarse_bytes_per_iteration_max_rank peak_rss_mb; do
  v=$(json_field "$f" attr.out)
  [ -n "$v" ] || fail "JSON field $f is empty"
done
[ "$(json_field mode attr.out)" = train ] || fail "JSON mode is not train"
[ "$(json_field N attr.out)" = 128 ] || fail "JSON N is not 128"
[ "$(json_field ranks attr.out)" = 2 ] || fail "JSON ranks is not 2"
for f in train_error test_error seconds; do
  is_finite_number "$(json_field "$f" attr.out)" || fail "JSON $f is not a finite number"
done
[ "$(tail -n 1 attr.out | cut -c1-8)" = '{"mode":' ] || fail "the JSON line is not the last line of stdout"
note "ok"
