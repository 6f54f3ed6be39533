#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] — build the libFuzzer targets (clang, ASan +
# UBSan, build-fuzz/) and run each for SECONDS (default 600) on a working
# copy of its seed corpus (tests/fuzz/corpus/TARGET), one after the other.
# Targets: input (the input-file validator), checkpoint (the checkpoint and
# history readers).  Findings (crash-*, timeout-*, oom-*) land in
# build-fuzz/findings/TARGET/; once fixed, copy them into
# tests/fuzz/corpus/TARGET/ so that the suite's fuzz_replay_* tests keep
# them fixed.  The last lines of each run (executions, coverage) are
# printed; docs/reliability.md records the runs.
# Fork mode: a crash, timeout or out-of-memory is kept as an artifact and
# fuzzing goes on (HDF5 itself has decoding bugs on corrupted files that
# would otherwise stop every run early); triage each artifact by its stack
# (docs/reliability.md).  FORK=N runs N fuzzing processes.  An execution
# takes about a millisecond; a hang or out-of-memory costs the whole limit
# (FUZZ_TIMEOUT seconds, default 10; FUZZ_RSS_MB, default 2048) plus a job
# restart, and libhdf5 has endless loops on some damaged heaps, so the
# limits stay low.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(input checkpoint)
H2NN_SETUP_FUZZ=1 runscripts/setup.sh > /dev/null   # the packages, clang and libFuzzer among them
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DH2NN_FUZZ=ON > /dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" > /dev/null
. runscripts/mpienv.sh
# MPI and PMIx keep allocations to the end (not ours: no leak checks); a
# corrupt HDF5 header may ask for a huge block, which malloc refuses and
# HDF5 reports: let ASan's malloc return NULL like the real one.  Single
# blocks are capped at 1 GB: libhdf5 asks for 8 GB on some damaged object
# headers, which ASan maps and poisons page by page (1 GB of shadow, 0.3 s
# per execution, most of the time at 16 exec/s); refused, HDF5 reports it.
# An h2nn allocation refused this way aborts the target (fuzz_common.h).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=0:max_allocation_size_mb=1024}
export TMPDIR=${FUZZ_TMPDIR:-/dev/shm}
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$work" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2> /dev/null || true
  echo "fuzz.sh: $t for $secs s (corpus $work, findings $findings)"
  build-fuzz/tests/fuzz_"$t" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -detect_leaks=0 \
    -print_final_stats=1 -artifact_prefix="$findings/" -fork="${FORK:-1}" -ignore_crashes=1 -ignore_ooms=1 \
    -ignore_timeouts=1 "$work" 2>&1 | tee build-fuzz/fuzz_"$t".log |
    grep -E '^#[0-9]+: cov|INFO: fuzzed for|stat::|ERROR|SUMMARY|Test unit written|crash-|timeout-' | tail -n 12 ||
    true # libFuzzer exits 1 when it kept a finding: go on to the next target
  echo "fuzz.sh: $t findings: $(find "$findings" -type f | wc -l) (triage: build-fuzz/tests/fuzz_$t FILE prints the stack)"
done
