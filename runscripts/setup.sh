#!/usr/bin/env bash
# setup.sh — install what h2nn needs (Debian 12 packages, as root) and build it
# into build/ (Release).  Safe to run again: installs only what is missing and
# rebuilds incrementally.  Usage: runscripts/setup.sh [BUILD_DIR]
# H2NN_SETUP_FUZZ=1 also installs clang and its libFuzzer runtime (only
# runscripts/fuzz.sh needs them; the test suite does not).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libopenblas-dev libhdf5-openmpi-dev
      hdf5-tools check librandom123-dev libgsl-dev gnuplot-nox python3-numpy python3-h5py
      slurm-wlm munge procps simgrid libsimgrid-dev)
[ "${H2NN_SETUP_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)
# LIBXSMM (x86-64 only): tools/h2nn_kbench compares h2nn's block kernels with its JIT kernels
[ "$(dpkg --print-architecture)" = amd64 ] && pkgs+=(libxsmm-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: error: missing packages; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "setup: built h2nn into $build/"
