#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# init_kernel.sh — `--init kernel:NAME` starts the network as the kernel's
# Chebyshev H2 approximation: on a log-kernel dataset (2-D grid, N = 400),
# with --zeta 1 and zero training iterations the test error is already below
# 1e-2, while a Xavier start is above 0.5; an unknown kernel name and a rank
# that is not p^d are refused with an error naming --init / the rank.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

run_ok 2 gen "$H2NN_GEN" kernel --dim 2 --geometry grid --kernel log --n 400 --samples 200 --seed 4 --output k.h5
opts=(--zeta 1 --rank 16 --leaf-size 40 --iterations 0 --batch-size 16)
run_ok 2 kern "$H2NN_MPI" k.h5 "${opts[@]}" --init kernel:log
run_ok 2 xav "$H2NN_MPI" k.h5 "${opts[@]}" --init xavier
ek=$(json_field test_error kern.out) ex=$(json_field test_error xav.out)
awk -v e="$ek" 'BEGIN {exit !(e < 1e-2)}' || fail "kernel start test error $ek is not below 1e-2"
awk -v e="$ex" 'BEGIN {exit !(e > 0.5)}' || fail "Xavier start test error $ex is unexpectedly small"
rc=0
run_mpi 2 bad.out bad.err "$H2NN_MPI" k.h5 "${opts[@]}" --init kernel:nope || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "unknown kernel: exit status $rc"
grep -q '^h2nn_mpi: error: .*--init' bad.err || fail "unknown kernel not reported with --init"
rc=0
run_mpi 2 badr.out badr.err "$H2NN_MPI" k.h5 --zeta 1 --rank 15 --leaf-size 40 --iterations 0 --batch-size 16 \
  --init kernel:log || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "rank 15 with a kernel start: exit status $rc"
grep -q '^h2nn_mpi: error: .*rank' badr.err || fail "a rank that is not p^d is not reported"
note "ok: kernel start $ek, Xavier start $ex"
