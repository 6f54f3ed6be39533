#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# library_consumer.sh — h2nn as an installed library:
#   * `cmake --install` of the build into a fresh prefix installs libh2nn,
#     exactly one header (include/h2nn/h2nn.h), the CMake package and h2nn.pc,
#     and the library exports only h2nn_* symbols;
#   * tests/lib/consumer.c builds against the INSTALLED package with CMake
#     (find_package(h2nn)) and with pkg-config (-std=c11 -Wall -Wextra -Werror);
#   * both binaries, on 1 and on 3 ranks, write outputs bitwise equal to
#     `h2nn_mpi --predict`'s /test/prediction for a checkpoint of a short
#     training run (with --center-output, so the mean output is applied too),
#     and report a missing checkpoint as an error naming it.
# ARGS: CMAKE_COMMAND BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ "${#ARGS[@]}" -eq 4 ] || fail "expected ARGS: CMAKE BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER"
CMAKE=${ARGS[0]} BUILD=${ARGS[1]} CONSUMER_SRC=${ARGS[2]} CC=${ARGS[3]}

"$CMAKE" --install "$BUILD" --prefix "$WORK/prefix" > install.log 2>&1 || { cat install.log >&2; fail "cmake --install failed"; }
headers=$(cd prefix/include && find . -type f | sort)
[ "$headers" = "./h2nn/h2nn.h" ] || fail "installed headers are not exactly h2nn/h2nn.h: $headers"
lib=$(find prefix -name 'libh2nn.so' | head -n 1)
[ -n "$lib" ] || fail "libh2nn.so not installed"
others=$(nm -D --defined-only "$lib" | awk '$3 !~ /^h2nn_/ { print $3 }')
[ -z "$others" ] || fail "libh2nn exports internal symbols: $(echo "$others" | head -n 5 | tr '\n' ' ')"
pcdir=$(dirname "$(find prefix -name h2nn.pc | head -n 1)")
[ -f "$pcdir/h2nn.pc" ] || fail "h2nn.pc not installed"

# the consumer, built against the installed package only
if ! { "$CMAKE" -S "$CONSUMER_SRC" -B cmake_build -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCMAKE_C_COMPILER="$CC" &&
        "$CMAKE" --build cmake_build; } > cmake_build.log 2>&1; then
  tail -n 30 cmake_build.log >&2
  fail "the consumer does not build with find_package(h2nn)"
fi
grep -q "^h2nn_DIR:PATH=$WORK/prefix/" cmake_build/CMakeCache.txt ||
  fail "find_package(h2nn) did not use the package installed in $WORK/prefix"
export PKG_CONFIG_PATH="$WORK/$pcdir"
read -r -a pcflags <<< "$(pkg-config --cflags --libs h2nn)" || fail "pkg-config does not know h2nn"
"$CC" -std=c11 -Wall -Wextra -Werror -o consumer_pc "$CONSUMER_SRC/consumer.c" "${pcflags[@]}" \
  -Wl,-rpath,"$(pkg-config --variable=libdir h2nn)" > pc_build.log 2>&1 ||
  { cat pc_build.log >&2; fail "the consumer does not build with pkg-config (${pcflags[*]})"; }

# a checkpoint and the program's own prediction
run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 300 --seed 5 --output in.h5
run_ok 2 train "$H2NN_MPI" --iterations 20 --batch-size 16 --center-output --checkpoint ck.h5 in.h5
run_ok 1 pred "$H2NN_MPI" --predict ck.h5 --output pred.h5 in.h5
h5dump -d /test/input -b LE -o in.bin in.h5 > /dev/null || fail "h5dump cannot extract /test/input"
h5dump -d /test/prediction -b LE -o pred.bin pred.h5 > /dev/null || fail "h5dump cannot extract /test/prediction"
[ "$(stat -c %s pred.bin)" -eq $((100 * 320 * 4)) ] || fail "pred.bin is not 100 x 320 float32"

for build in cmake_build/consumer consumer_pc; do
  for np in 1 3; do
    tag=$(basename "$build")_np$np
    run_ok "$np" "$tag" "$build" ck.h5 in.bin "$tag.bin" 100
    grep -q 'expected error: .*no_such_checkpoint.h5' "$tag.out" || fail "$tag: no error message naming the missing checkpoint"
    cmp -s "$tag.bin" pred.bin || fail "$tag: outputs differ from h2nn_mpi --predict"
    note "$tag: outputs equal h2nn_mpi --predict (100 x 320)"
  done
done
note "ok"
