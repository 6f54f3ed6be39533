#!/usr/bin/env bash
# bench.sh — the performance table of docs/performance.md (issue 5):
# median time per training iteration of h2nn_mpi --synthetic (1-D uniform
# grid, batch 64, leaf 40, rank 8, zeta 3 unless said otherwise), GFLOP/s
# counting the model's own multiply-adds, % of the sgemm peak, communication
# bytes and peak memory; then time per point versus N, and a PNG plot.
#   runscripts/bench.sh [REPEATS]        (default 5; results in results/bench/)
# Environment: SIZES for the linear-cost series (default 2^12 .. 2^18),
# BIG=1 to add N = 2^20 (to the linear-cost series, and the leaf-32 memory
# case; needs ~7 GB and about five minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
[ -x build/h2nn_mpi ] || runscripts/setup.sh
. runscripts/mpienv.sh
out=results/bench
mkdir -p "$out"
peak_core=175   # GFLOP/s per core, OpenBLAS sgemm on large matrices (DEVELOPERS.md)
field() { grep -o "\"$1\":[^,}]*" | cut -d: -f2; }

# run RANKS ITERS args... -> median ms/it, and the other fields of the median run
bench() {
  local np=$1 iters=$2
  shift 2
  local f="$out/runs.tmp"
  : > "$f"
  for _ in $(seq "$reps"); do
    mpirun -np "$np" build/h2nn_mpi --leaf-size 40 --iterations "$iters" --eval-every 0 --eval-samples 64 \
      --synthetic-samples 1024 --quiet "$@" | tail -1 >> "$f"
  done
  # sort the runs by ms/it and take the middle one
  while read -r line; do echo "$(echo "$line" | field ms_per_iteration) $line"; done < "$f" |
    sort -g | awk -v n="$reps" 'NR == int((n + 1) / 2) {sub(/^[^ ]* /, ""); print}'
}

row() { # label np json -> markdown row
  local label=$1 np=$2 j=$3
  local ms gf bytes share rss
  ms=$(echo "$j" | field ms_per_iteration); gf=$(echo "$j" | field gflops)
  bytes=$(echo "$j" | field comm_bytes_per_iteration); share=$(echo "$j" | field comm_share)
  rss=$(echo "$j" | field peak_rss_mb)
  printf '| %s | %s | %s | %.3f | %.1f | %.0f%% | %.3g | %.0f%% | %.0f |\n' "$label" "$(echo "$j" | field N)" "$np" "$ms" \
    "$gf" "$(awk -v g="$gf" -v p="$peak_core" -v n="$np" 'BEGIN {print 100 * g / (p * n)}')" "$bytes" \
    "$(awk -v s="$share" 'BEGIN {print 100 * s}')" "$rss"
}

table="$out/table.md"
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), median of $reps runs."
  echo
  echo "| case | N | ranks | ms / iteration | GFLOP/s | % of sgemm peak | comm bytes / it | time waiting for comm | peak RSS MB (all ranks) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$table"
for n in 320 1280 16384; do
  its=1000; [ "$n" -gt 4096 ] && its=200   # long enough that start-up effects vanish
  for np in 1 2; do
    j=$(bench "$np" "$its" --synthetic "$n")
    row "PyTorch comparison" "$np" "$j" >> "$table"
  done
done
# strong scaling at N = 2^17 and the communication volume on 2, 4, 8 ranks
for np in 1 2 4 8; do
  j=$(bench "$np" 20 --synthetic 131072)
  row "strong scaling, P_m = P" "$np" "$j" >> "$table"
done
# linear cost: time per point from 2^12 to 2^18 (2 ranks)
curve="$out/time_vs_n.dat"
echo "# N ms_per_iteration us_per_point_per_sample" > "$curve"
for n in ${SIZES:-4096 8192 16384 32768 65536 131072 262144}; do
  its=$((4194304 / n)); [ "$its" -gt 1000 ] && its=1000; [ "$its" -lt 20 ] && its=20   # ~2^22 point-iterations
  j=$(bench 2 "$its" --synthetic "$n")
  row "linear cost" 2 "$j" >> "$table"
  ms=$(echo "$j" | field ms_per_iteration)
  awk -v n="$n" -v ms="$ms" 'BEGIN {printf "%d %.4f %.5f\n", n, ms, 1000 * ms / n / 64}' >> "$curve"
done
if [ "${BIG:-0}" = 1 ]; then
  # the linear-cost series' last point, same settings (leaf 40) ...
  j=$(bench 2 10 --synthetic 1048576)
  row "linear cost" 2 "$j" >> "$table"
  ms=$(echo "$j" | field ms_per_iteration)
  awk -v n=1048576 -v ms="$ms" 'BEGIN {printf "%d %.4f %.5f\n", n, ms, 1000 * ms / n / 64}' >> "$curve"
  # ... and the issue's memory case (leaf 32)
  j=$(reps=1 bench 2 3 --synthetic 1048576 --leaf-size 32)
  row "N = 2^20, leaf 32" 2 "$j" >> "$table"
fi
gnuplot <<GP
set terminal pngcairo size 900,560 font 'Sans,11'
set output '$out/time_vs_n.png'
set logscale xy
set grid
set xlabel 'N (points, 1-D)'
set ylabel 'ms per training iteration (batch 64, 2 ranks)'
set y2label 'microseconds per point per sample'
set y2tics
set logscale y2
plot '$curve' using 1:2 with linespoints pt 7 title 'time per iteration', \
     '$curve' using 1:3 axes x1y2 with linespoints pt 6 dt 2 title 'per point per sample (flat = linear cost)'
GP
rm -f "$out/runs.tmp"
cat "$table"
echo "bench: $table, $out/time_vs_n.png"
