# shellcheck shell=bash disable=SC2154  # mpiexec, mpi, hist: set by the sourcing script
# common.sh — sourced (not run) by the dist tests that train with h2nn_mpi on
# several rank counts and compare loss histories: dist_agreement.sh and
# ckpt_before_coarse.sh.
# Needs (set by the caller, in strict mode: set -euo pipefail): mpiexec, mpi
# (h2nn_mpi), hist (h2nn_history); launch_timeout, the seconds one launch may
# take (default 120).
# Sets: a fresh temporary directory as the current directory (removed at
# exit).  Provides: run, same_losses.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

# h2nn_mpi on RANKS ranks, MODEL_PARALLEL of them per replica; its JSON on stdout
run() { # ranks model_parallel args...
  local np=$1 pm=$2
  shift 2
  timeout "${launch_timeout:-120}" "$mpiexec" -n "$np" --oversubscribe "$mpi" --model-parallel "$pm" --quiet "$@"
}

# the loss column (3) of two histories agrees over iterations FROM..TO, each
# of them present in both (1e-4 relative: the summation-order bound)
same_losses() { # a.h5 b.h5 from to
  paste <("$hist" "$1" | awk -v f="$3" -v t="$4" '!/^#/ && $1 >= f && $1 <= t {print $3}') \
        <("$hist" "$2" | awk -v f="$3" -v t="$4" '!/^#/ && $1 >= f && $1 <= t {print $3}') |
    awk -v A="$1" -v B="$2" -v want="$(($4 - $3 + 1))" 'BEGIN {n = 0; worst = 0}
      {n++; d = $1 - $2; if (d < 0) d = -d; r = d / ($2 > 0 ? $2 : -$2); if (r > worst) worst = r}
      END {printf "%s vs %s: %d iterations, max relative loss difference %.2e\n", A, B, n, worst;
           if (n != want || worst > 1e-4) exit 1}'
}
