#!/usr/bin/env bash
# bench.sh — the performance table of docs/performance.md (issue 5):
# median time per training iteration of h2nn_mpi --synthetic (1-D uniform
# grid, batch 64, leaf 40, rank 8, zeta 3 unless said otherwise), GFLOP/s
# counting the model's own multiply-adds (whole step and compute phase), % of
# the host's FMA peak measured by a probe (build/h2nn_kbench peak: a
# register-only multiply-add loop of the kernel set in use, one core, once per
# round, median over the rounds), communication bytes and peak memory; then
# time per point versus N, and a PNG plot.  The table names the CPU (lscpu
# model and its vector flags) and the kernel set (H2NN_ISA picks one).
#   runscripts/bench.sh [REPEATS]        (default 5; results in results/bench/)
# Environment: H2NN_ISA to run (and probe the peak of) one kernel set;
# CASES, a regex over the case ids (pt_N_RANKS, ss_RANKS, lc_N, mem) to run
# only some; SIZES for the linear-cost series (default 2^12 .. 2^18),
# BIG=1 to add N = 2^20 (to the linear-cost series, and the leaf-32 memory
# case; needs ~7 GB and about five more minutes).
#
# The runs are interleaved: each of the REPEATS rounds runs every case once,
# so that all cases see the same phases of a shared host (whose speed here
# changes by up to 50 % within minutes) and their ratios — 1 vs 2 ranks,
# small vs large N — are not skewed by when each case happened to run.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
[ -x build/h2nn_mpi ] || runscripts/setup.sh
. runscripts/mpienv.sh
out=results/bench
runs="$out/runs"
mkdir -p "$out"
rm -rf "$runs" && mkdir -p "$runs"
[ -x build/h2nn_kbench ] || { echo "bench: build/h2nn_kbench missing: rebuild (runscripts/setup.sh)" >&2; exit 1; }
rm -f "$out/peak.txt"
field() { grep -o "\"$1\":[^,}]*" | cut -d: -f2; }

# the cases: id|label|ranks|iterations|rounds|extra arguments
cases=()
add() { cases+=("$1|$2|$3|$4|$5|$6"); }
for n in 320 1280 16384; do
  its=1000; [ "$n" -gt 4096 ] && its=200   # long enough that start-up effects vanish
  for np in 1 2; do add "pt_${n}_$np" "PyTorch comparison" "$np" "$its" "$reps" "--synthetic $n"; done
done
# strong scaling at N = 2^17 and the communication volume on 2, 4, 8 ranks
for np in 1 2 4 8; do add "ss_$np" "strong scaling, P_m = P" "$np" 20 "$reps" "--synthetic 131072"; done
# linear cost: time per point from 2^12 to 2^18 (2^20 with BIG=1), 2 ranks, ~2^22 point-iterations each
sizes=${SIZES:-4096 8192 16384 32768 65536 131072 262144}
[ "${BIG:-0}" = 1 ] && sizes="$sizes 1048576"
for n in $sizes; do
  its=$((4194304 / n)); [ "$its" -gt 1000 ] && its=1000; [ "$its" -lt 10 ] && its=10
  add "lc_$n" "linear cost" 2 "$its" "$reps" "--synthetic $n"
done
# the issue's memory case: N = 2^20, leaf 32 (one run: memory does not vary)
[ "${BIG:-0}" = 1 ] && add "mem" "N = 2^20, leaf 32" 2 3 1 "--synthetic 1048576 --leaf-size 32"

if [ -n "${CASES:-}" ]; then
  kept=()
  for c in "${cases[@]}"; do [[ ${c%%|*} =~ $CASES ]] && kept+=("$c"); done
  cases=("${kept[@]}")
  [ ${#cases[@]} -gt 0 ] || { echo "bench: no case id matches CASES='$CASES'" >&2; exit 1; }
fi

for round in $(seq "$reps"); do
  # the FMA peak of one core for the kernel set the runs use, in this round's host phase
  build/h2nn_kbench peak ${H2NN_ISA:-} | awk '{print $2, $3}' >> "$out/peak.txt"
  for c in "${cases[@]}"; do
    IFS='|' read -r id label np its rounds args <<< "$c"
    [ "$round" -le "$rounds" ] || continue
    # shellcheck disable=SC2086  # args is a list of options
    mpirun -np "$np" build/h2nn_mpi --leaf-size 40 --iterations "$its" --eval-every 0 --eval-samples 64 \
      --synthetic-samples 1024 --quiet $args | tail -1 >> "$runs/$id"
  done
  echo "bench: round $round of $reps done" >&2
done

median() { # id -> the JSON line of the median run (by ms/iteration)
  while read -r line; do echo "$(echo "$line" | field ms_per_iteration) $line"; done < "$runs/$1" |
    sort -g | awk -v n="$(wc -l < "$runs/$1")" 'NR == int((n + 1) / 2) {sub(/^[^ ]* /, ""); print}'
}

# the per-core FMA peak: median of the rounds' probes; the kernel set it was measured for
peak_core=$(awk '{print $2}' "$out/peak.txt" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
isa=$(awk 'NR == 1 {print $1}' "$out/peak.txt")
pct() { awk -v g="$1" -v p="$peak_core" -v n="$2" 'BEGIN {print 100 * g / (p * n)}'; }

row() { # label np json -> markdown row
  local label=$1 np=$2 j=$3
  local ms gf gfc bytes share rss
  ms=$(echo "$j" | field ms_per_iteration); gf=$(echo "$j" | field gflops); gfc=$(echo "$j" | field gflops_compute)
  bytes=$(echo "$j" | field comm_bytes_per_iteration); share=$(echo "$j" | field comm_share)
  rss=$(echo "$j" | field peak_rss_mb)
  [ "$(echo "$j" | field isa | tr -d '"')" = "$isa" ] || echo "bench: warning: $label ran kernel set $(echo "$j" | field isa), the peak is for $isa" >&2
  printf '| %s | %s | %s | %.3f | %.1f | %.0f%% | %.0f%% | %.3g | %.0f%% | %.0f |\n' "$label" "$(echo "$j" | field N)" "$np" \
    "$ms" "$gf" "$(pct "$gf" "$np")" "$(pct "$gfc" "$np")" "$bytes" "$(awk -v s="$share" 'BEGIN {print 100 * s}')" "$rss"
}

table="$out/table.md"
curve="$out/time_vs_n.dat"
{
  model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ {sub(/^ +/, "", $2); print $2; exit}')
  vflags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|avx512f|avx512bw|avx512vl|asimd|sve)$' | sort | tr '\n' ' ')
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores of ${model:-an unknown CPU} (vector flags: ${vflags:-none}), kernel set **$isa**, median of $reps interleaved rounds."
  echo "FMA peak per core (build/h2nn_kbench peak $isa, median of the rounds): $peak_core GFLOP/s; % of peak = GFLOP/s / (ranks x that)."
  echo
  echo "| case | N | ranks | ms / iteration | GFLOP/s | % of FMA peak | compute phase % of peak | comm bytes / it | time waiting for comm | peak RSS MB (all ranks) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$table"
echo "# N ms_per_iteration us_per_point_per_sample" > "$curve"
for c in "${cases[@]}"; do
  IFS='|' read -r id label np _ <<< "$c"
  j=$(median "$id")
  row "$label" "$np" "$j" >> "$table"
  if [[ $id == lc_* ]]; then
    awk -v n="${id#lc_}" -v ms="$(echo "$j" | field ms_per_iteration)" \
      'BEGIN {printf "%d %.4f %.5f\n", n, ms, 1000 * ms / n / 64}' >> "$curve"
  fi
done
# the spread of the linear-cost series: largest over smallest time per point
awk 'NR > 1 {v = 1000 * $2 / $1; if (min == "" || v < min) min = v; if (v > max) max = v}
  END {if (min) printf "\nLinear cost: %.3f to %.3f us per point per iteration, largest / smallest %.2f\n", min, max, max / min}' \
  "$curve" >> "$table"
if [ "$(wc -l < "$curve")" -gt 2 ]; then   # (CASES may have left out the linear-cost series)
gnuplot <<GP
set terminal pngcairo size 900,560 font 'Sans,11'
set output '$out/time_vs_n.png'
set logscale xy
set grid
set xlabel 'N (points, 1-D)'
set ylabel 'ms per training iteration (batch 64, 2 ranks)'
set y2label 'nanoseconds per point per sample (linear axis from 0)'
set y2tics
set y2range [0:*]
set key top left
plot '$curve' using 1:2 with linespoints pt 7 title 'time per iteration', \
     '$curve' using 1:(1000 * \$3) axes x1y2 with linespoints pt 6 dt 2 title 'per point per sample (flat = linear cost)'
GP
fi
cat "$table"
echo "bench: $table, $out/time_vs_n.png (raw runs in $runs/)"
