# shellcheck shell=bash
# common.sh — sourced by the program tests in this directory (not run).
#
# Arguments of every test script: KEY=VALUE pairs naming the tools, then
# "--", then the test's own arguments (left in "$@" as ARGS).  Keys:
#   mpiexec npflag mpiflags h2nn_mpi h2nn_gen h2nn_history h2nn_mkinput
#   h2nn_plot fixture
# Sets: the variables above, WORK (a fresh temporary directory, the current
# directory from then on; removed on success, kept on failure), ARGS.
# Provides: fail, note, run_mpi, json_field, is_finite_number, rel_close.

# shellcheck disable=SC2034  # used by the scripts that source this file
MPIEXEC="" NPFLAG="-n" MPIFLAGS="" H2NN_MPI="" H2NN_GEN="" H2NN_HISTORY=""
H2NN_MKINPUT="" H2NN_PLOT="" FIXTURE=""
# Seconds any single MPI launch may take before it counts as a hang.
RUN_TIMEOUT=${RUN_TIMEOUT:-90}
TEST_NAME=$(basename "$0" .sh)

while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    mpiexec=*) MPIEXEC=${1#*=} ;;
    npflag=*) NPFLAG=${1#*=} ;;
    mpiflags=*) MPIFLAGS=${1#*=} ;;
    h2nn_mpi=*) H2NN_MPI=${1#*=} ;;
    h2nn_gen=*) H2NN_GEN=${1#*=} ;;
    h2nn_history=*) H2NN_HISTORY=${1#*=} ;;
    h2nn_mkinput=*) H2NN_MKINPUT=${1#*=} ;;
    h2nn_plot=*) H2NN_PLOT=${1#*=} ;;
    fixture=*) FIXTURE=${1#*=} ;;
    *) echo "$TEST_NAME: bad argument '$1' (expected KEY=VALUE ... -- ARGS)" >&2; exit 2 ;;
  esac
  shift
done
ARGS=("$@")
read -r -a MPIFLAGS_ARR <<< "$MPIFLAGS"

fail() {
  echo "FAIL [$TEST_NAME ${ARGS[*]}]: $*" >&2
  exit 1
}
note() { echo "[$TEST_NAME] $*"; }

for tool in "$MPIEXEC" "$H2NN_MPI"; do
  [ -x "$tool" ] || fail "tool not found or not executable: '$tool'"
done

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/h2nn_${TEST_NAME}.XXXXXX")
cleanup() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "[$TEST_NAME] work directory kept: $WORK" >&2; fi
}
trap cleanup EXIT
cd "$WORK" || exit 1

# run_mpi NP OUT ERR CMD... — CMD on NP ranks, stdout/stderr to OUT/ERR.
# Returns CMD's status; 124 means it did not finish within RUN_TIMEOUT.
run_mpi() {
  local np=$1 out=$2 err=$3
  shift 3
  local rc=0
  timeout -k 10 "$RUN_TIMEOUT" "$MPIEXEC" "$NPFLAG" "$np" "${MPIFLAGS_ARR[@]}" "$@" \
    > "$out" 2> "$err" || rc=$?
  return "$rc"
}

# run_mpi_ranks NP OUT ERR CMD... — like run_mpi, but each rank runs under
# record_status.sh, which leaves rank_status.<rank> (its exit status) in the
# current directory, and Open MPI is told not to kill the other ranks when
# one exits non-zero: every rank must end by itself, or the launch times
# out.  Returns the launcher's status (124: timeout); check the per-rank
# statuses with check_rank_statuses.
run_mpi_ranks() {
  local np=$1 out=$2 err=$3
  shift 3
  rm -f rank_status.*
  local rc=0
  OMPI_MCA_orte_abort_on_non_zero_status=0 timeout -k 10 "$RUN_TIMEOUT" "$MPIEXEC" "$NPFLAG" "$np" \
    "${MPIFLAGS_ARR[@]}" bash "$SCRIPT_DIR/record_status.sh" "$PWD" "$@" > "$out" 2> "$err" || rc=$?
  return "$rc"
}

# check_rank_statuses NP HANG_MESSAGE — after run_mpi_ranks: every rank
# 0..NP-1 recorded a non-zero exit status (else fail naming the rank).
check_rank_statuses() {
  local np=$1 k s
  if [ -e rank_status.unknown ]; then return 0; fi   # not Open MPI/PMI: no per-rank check
  for ((k = 0; k < np; k++)); do
    [ -f "rank_status.$k" ] || fail "rank $k of $np did not exit: $2"
    s=$(cat "rank_status.$k")
    [ "$s" -ne 0 ] || fail "rank $k of $np exited with status 0, expected a failure on every rank"
  done
}

# run_ok NP TAG CMD... — run, require exit 0 and no timeout; output in TAG.out/TAG.err.
run_ok() {
  local np=$1 tag=$2
  shift 2
  local rc=0
  run_mpi "$np" "$tag.out" "$tag.err" "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "--- $tag.err:" >&2; tail -n 20 "$tag.err" >&2
    echo "--- $tag.out:" >&2; tail -n 5 "$tag.out" >&2
    [ "$rc" -eq 124 ] && fail "$tag: no result within ${RUN_TIMEOUT} s (hang?): $*"
    fail "$tag: exit status $rc: $*"
  fi
}

# json_field FIELD FILE — the value of FIELD in FILE's last JSON line (strings unquoted).
json_field() {
  local line
  line=$(grep '^{"mode"' "$2" | tail -n 1) || true
  [ -n "$line" ] || fail "no JSON line in $2"
  printf '%s\n' "$line" | awk -v f="$1" '{
    key = "\"" f "\":"
    i = index($0, key)
    if (i == 0) exit 1
    s = substr($0, i + length(key))
    if (substr(s, 1, 1) == "\"") { s = substr(s, 2); sub(/".*/, "", s) }
    else sub(/[,}].*/, "", s)
    print s
  }' || fail "JSON line of $2 has no field \"$1\": $line"
}

# is_finite_number X — X is a decimal number (not nan/inf, not empty).
is_finite_number() {
  [[ "$1" =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]]
}

# rel_close A B TOL — |A - B| <= TOL * max(|A|, |B|).
rel_close() {
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
    d = a - b; if (d < 0) d = -d
    m = a < 0 ? -a : a; n = b < 0 ? -b : b; if (n > m) m = n
    exit !(d <= t * m)
  }'
}

# json_close A B — two numbers printed in the JSON line (%.6g: 6 significant
# digits) agree to 1e-6 relative, plus one unit in the last printed digit
# (values equal to 1e-6 can round to neighbouring 6-digit strings).
json_close() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    d = a - b; if (d < 0) d = -d
    m = a < 0 ? -a : a; n = b < 0 ? -b : b; if (n > m) m = n
    ulp = (m > 0) ? 10 ^ (int(log(m) / log(10) + 100) - 100 - 5) : 0
    exit !(d <= 1e-6 * m + 1.0001 * ulp)
  }'
}
