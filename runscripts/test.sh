#!/usr/bin/env bash
# test.sh — set everything up and run the whole test suite through ctest
# (unit tests with Check, MPI tests on 1..16 ranks, program tests), then its
# sanitizer stage: build-asan/ built with AddressSanitizer +
# UndefinedBehaviorSanitizer (-DH2NN_SANITIZE=ON, -O1) and the suite's "asan"
# subset run there (every file reader and the training loop; tests/asan.cmake
# lists it).
#   runscripts/test.sh [extra ctest arguments]
# H2NN_ASAN=0 skips the sanitizer stage, H2NN_ASAN=1 runs it even when extra
# ctest arguments are given (by default it runs only for the whole suite).
set -euo pipefail
cd "$(dirname "$0")/.."
asan=${H2NN_ASAN:-$([ $# -eq 0 ] && echo 1 || echo 0)}
runscripts/setup.sh
. runscripts/mpienv.sh
(cd build && ctest --output-on-failure "$@")
[ "$asan" = 1 ] || exit 0
echo "test.sh: sanitizer stage (ASan + UBSan) in build-asan/"
t0=$SECONDS
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DH2NN_SANITIZE=ON > /dev/null
cmake --build build-asan -j "$(nproc)" --target h2nn_asan_deps > /dev/null
echo "test.sh: sanitized build: $((SECONDS - t0)) s"
cd build-asan
ctest -L asan -j "$(nproc)" --output-on-failure
