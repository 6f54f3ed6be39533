#!/usr/bin/env bash
# dist_assert_agree.sh MPIEXEC TEST_DIST — the MPI test assertions agree
# across ranks: with a failure injected on rank 1 only (H2NN_TEST_FAIL_RANK),
# test_dist on 3 ranks must end by itself (no hang until a timeout), exit
# non-zero, and every rank must report the failure with rank 1's message.
set -u
MPIEXEC=$1 TEST_DIST=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
H2NN_TEST_FAIL_RANK=1 timeout -k 10 120 "$MPIEXEC" -n 3 --oversubscribe --bind-to none \
  -x H2NN_TEST_FAIL_RANK "$TEST_DIST" > "$out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then echo "FAIL: test_dist passed with a failure injected on rank 1"; cat "$out"; exit 1; fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "FAIL: test_dist hung (timeout) after a failure on one rank"; cat "$out"; exit 1; fi
n=$(grep -c 'rank 1: .*failure injected on rank 1' "$out" || true)
# two tests (agree_1d, agree_2d) fail on each of the 3 ranks
if [ "$n" -ne 6 ]; then echo "FAIL: expected 6 reports of rank 1's failure (2 tests x 3 ranks), got $n"; cat "$out"; exit 1; fi
echo "ok: every rank reported rank 1's failure in both tests, exit status $rc, no hang"
