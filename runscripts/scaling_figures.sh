#!/usr/bin/env bash
# scaling_figures.sh — the figures of docs/scaling.md ("Predicted scaling")
# from the study CSVs in results/scaling/ (runscripts/scaling_study.sh
# --launcher plan for the analytic curves, runscripts/scaling_sim.sh for the
# simulated points):
#   docs/img/scaling_strong.png   time per iteration and efficiency against P (strong)
#   docs/img/scaling_weak.png     the same for weak scaling
# Usage: runscripts/scaling_figures.sh [RESULTS_DIR] [IMG_DIR]
# Solid: the code as it is (distributed coarse tree), RESULTS_DIR/*.csv;
# dashed, same colour: the replicated coarse tree before issue 15,
# RESULTS_DIR/replicated/*.csv (the same studies run with that build).
# H2NN_FIG_CPU names the CPU the planner and the simulations ran on (default:
# this host's, from lscpu); the planner's rates stay those of its calibration.
# A missing CSV leaves its curve out (with a warning).
set -euo pipefail
res=${1:-results/scaling}
img=${2:-docs/img}
command -v gnuplot > /dev/null || { echo "scaling_figures: error: gnuplot not found (install gnuplot-nox)" >&2; exit 2; }
mkdir -p "$img"
host_cpu() { # this host's CPU model and its widest vector instructions
  local model isa=""
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1 | tr -d '"')
  case " $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) " in
    *" avx512f "*) isa=" with AVX-512" ;; *" avx2 "*) isa=" with AVX2" ;;
  esac
  echo "${model:-unknown CPU}$isa"
}
cpu=${H2NN_FIG_CPU:-$(host_cpu)}
rates="planner rates calibrated on AMD EPYC (AVX2+FMA); run on ${cpu:-this host}"

# curve FILE STYLE TITLE COLS -> one gnuplot plot element, or nothing when FILE is missing
curve() {
  if [ -s "$1" ]; then printf '"%s" using %s %s title "%s", ' "$1" "$4" "$2" "$3"
  else echo "scaling_figures: warning: $1 missing, curve '$3' left out" >&2; fi
}

plot_pair() { # plot_pair OUT TITLE "time elements" "efficiency elements"
  local t=${3%, } e=${4%, }
  [ -n "$t" ] || { echo "scaling_figures: warning: nothing to plot for $1" >&2; return 0; }
  gnuplot <<EOF
set terminal pngcairo size 1200,520 noenhanced
set output "$1"
set datafile separator ","
set multiplot layout 1,2 title "$2" font ",10"
set logscale x 2
set xrange [48:5400]
set xlabel "ranks P (128 per node)"
set grid
set key top right font ",9"
set logscale y
set ylabel "ms per training iteration"
plot $t
unset logscale y
set ylabel "parallel efficiency (vs P = 64)"
set yrange [0:1.5]
set key bottom left font ",9"
plot $e, 1 with lines lc "gray" notitle
unset multiplot
EOF
  echo "scaling_figures: $1"
}

L='with linespoints lw 2 pt 7'
B='with linespoints lw 1 dt 2 pt 4'
S='with points ps 2 pt 6 lw 2'
rep=$res/replicated
t="" e=""
# strong: NAME COLOUR LABEL (after solid, before dashed)
for c in "ana_strong_1d_2e20 1 1-D N = 2^20" "ana_strong_2d_2e20 3 2-D N = 1024^2" "ana_strong_1d_2e24 2 1-D N = 2^24"; do
  set -- $c; n=$1 lc=$2; shift 2
  t+=$(curve "$res/$n.csv" "$L lc $lc" "$* (planner)" 5:9)
  t+=$(curve "$rep/$n.csv" "$B lc $lc" "$* replicated coarse" 5:9)
  e+=$(curve "$res/$n.csv" "$L lc $lc" "$*" 5:18)
  e+=$(curve "$rep/$n.csv" "$B lc $lc" "$* replicated coarse" 5:18)
done
for c in "sim_strong_1d_2e15 7 1-D N = 2^15 leaf 32" "sim_strong_1d_2e16 6 1-D N = 2^16"; do
  set -- $c; n=$1 lc=$2; shift 2
  t+=$(curve "$res/$n.csv" "$S lc $lc" "$* (SimGrid)" 5:9)
  t+=$(curve "$res/$n.csv" "with lines lw 1 dt 3 lc $lc" "$* (planner)" 5:19)
  t+=$(curve "$rep/$n.csv" "with points ps 2 pt 4 lw 1 lc $lc" "$* (SimGrid, replicated coarse)" 5:9)
done
plot_pair "$img/scaling_strong.png" "strong scaling, 64 -> 4096 ranks (planner: counted work, calibrated rates, network model; SimGrid: real messages)\n$rates" "$t" "$e"

t=$(curve "$res/ana_weak_1d_2e14.csv" "$L lc 1" "1-D, 2^14 points per rank (planner)" 5:9)
t+=$(curve "$rep/ana_weak_1d_2e14.csv" "$B lc 1" "1-D, replicated coarse" 5:9)
e=$(curve "$res/ana_weak_1d_2e14.csv" "$L lc 1" "1-D, 2^14 points per rank" 5:18)
e+=$(curve "$rep/ana_weak_1d_2e14.csv" "$B lc 1" "1-D, replicated coarse" 5:18)
plot_pair "$img/scaling_weak.png" "weak scaling, 2^14 points per rank\n$rates" "$t" "$e"
