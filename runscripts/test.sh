#!/usr/bin/env bash
# test.sh — set everything up and run the whole test suite (unit tests with
# Check, MPI tests on 1..16 ranks, program tests) through ctest.
#   runscripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
runscripts/setup.sh
. runscripts/mpienv.sh
cd build
ctest --output-on-failure "$@"
