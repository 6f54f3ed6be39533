#!/usr/bin/env bash
# test_asan.sh — the sanitizer stage of CI: build h2nn with AddressSanitizer
# + UndefinedBehaviorSanitizer into build-asan/ (-DH2NN_SANITIZE=ON) and run
# the suite's "asan" subset there: every file reader (unit tests, the
# bad_input cases, the fuzz corpus replay), the writers, and the training
# loop with checkpoints and resume (tests/asan.cmake lists it).
#   runscripts/test_asan.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
runscripts/setup.sh > /dev/null   # the packages (the sanitizers come with gcc)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DH2NN_SANITIZE=ON > /dev/null
cmake --build build-asan -j "$(nproc)" > /dev/null
. runscripts/mpienv.sh
cd build-asan
ctest -L asan -j "$(nproc)" --output-on-failure "$@"
