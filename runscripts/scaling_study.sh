#!/usr/bin/env bash
# scaling_study.sh — a strong or weak scaling study of h2nn_mpi: runs every
# rank count (locally with mpirun, or as SLURM jobs), collects each run's JSON
# summary into results/scaling/STUDY.csv, writes a Markdown table STUDY.md
# and a plot STUDY.png (time per iteration and efficiency against P, the
# planner's prediction, h2nn_mpi --plan, beside the measurement).
#
#   runscripts/scaling_study.sh --name S --kind strong --ranks "1 2 4" --n 65536 --dim 1
#   runscripts/scaling_study.sh --name W --kind weak --ranks "1 2 4" --points-per-rank 16384 --dim 2
#   runscripts/scaling_study.sh --name F --kind strong --ranks "2 4" --input data.h5
#   runscripts/scaling_study.sh ... --launcher slurm [--submit]   # one sbatch job per point + a collecting job
#   runscripts/scaling_study.sh --collect S                       # (re)build CSV/MD/PNG from results/scaling/S/runs
#
# Options:
#   --name STUDY          study name: results go to OUT/STUDY.{csv,md,png}, raw runs to OUT/STUDY/runs/
#   --kind strong|weak    strong: fixed N (--n or --input); weak: N = P x --points-per-rank
#   --ranks "P1 P2 ..."   rank counts, ascending (efficiency is against the first)
#   --n N | --points-per-rank n | --input FILE.h5   the problem (synthetic grid unless --input)
#   --dim 1|2|3           synthetic grid dimension (default 1)
#   --iterations K        training iterations per run (default 20; no evaluation in between)
#   --bin PATH            h2nn_mpi (default build/h2nn_mpi, or $H2NN_MPI)
#   --out DIR             results directory (default results/scaling)
#   --launcher mpirun|slurm   (default mpirun); with slurm the scripts are written to
#                         OUT/STUDY/slurm/ and submitted only with --submit
#   --mpirun-flags "..."  extra mpirun flags (default: --oversubscribe --bind-to none)
#   --launcher plan       no runs: the planner's predictions alone (source "analytic"), e.g. for P
#                         beyond this machine
#   --launcher smpirun    simulated ranks (SimGrid SMPI): --bin is then the simulation build
#                         (build/sim/h2nn_mpi), --plan-bin the normal one; --platform FILE.xml,
#                         --cores-per-node C and --host-prefix NAME describe the platform
#                         (runscripts/scaling_sim.sh sets all of these)
#   -- ARGS               further h2nn_mpi options for every run (e.g. --leaf-size 32)
#
# CSV columns (fixed; times in ms per training iteration, max over ranks):
#   study,kind,N,d,P,P_d,P_m,iterations,ms_per_iteration,data_ms,compute_ms,
#   wait_ms,allreduce_ms,optim_ms,comm_bytes_per_iteration,comm_share,
#   peak_rss_mb_max_rank,efficiency,predicted_ms,predicted_peak_mb,source
# efficiency: strong t(P1) P1 / (t(P) P); weak t(P1) / t(P).  predicted_*:
# h2nn_mpi --plan for the same problem and P.  source: measured or simulated.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "scaling_study: error: $*" >&2; exit 2; }
# host_cpu: this host's CPU model and its widest vector instructions (lscpu)
host_cpu() {
  local model isa=""
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1 | tr -d '"')
  case " $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) " in
    *" avx512f "*) isa=" with AVX-512" ;; *" avx2 "*) isa=" with AVX2" ;;
  esac
  echo "${model:-unknown CPU}$isa"
}

name="" kind="" ranks="" n="" ppr="" input="" dim=1 iters=20 out=results/scaling launcher=mpirun submit=0
bin=${H2NN_MPI:-build/h2nn_mpi} collect="" mpiflags="--oversubscribe --bind-to none" source_tag=measured
plan_bin="" platform="" cores_per_node=128 host_prefix=node- smpiflags="" sim_compute=timed
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=${2:?}; shift 2 ;;
    --kind) kind=${2:?}; shift 2 ;;
    --ranks) ranks=${2:?}; shift 2 ;;
    --n) n=${2:?}; shift 2 ;;
    --points-per-rank) ppr=${2:?}; shift 2 ;;
    --input) input=${2:?}; shift 2 ;;
    --dim) dim=${2:?}; shift 2 ;;
    --iterations) iters=${2:?}; shift 2 ;;
    --bin) bin=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --launcher) launcher=${2:?}; shift 2 ;;
    --submit) submit=1; shift ;;
    --mpirun-flags) mpiflags=${2?}; shift 2 ;;
    --collect) collect=${2:?}; shift 2 ;;
    --source) source_tag=${2:?}; shift 2 ;;   # (scaling_sim.sh: "simulated")
    --plan-bin) plan_bin=${2:?}; shift 2 ;;
    --platform) platform=${2:?}; shift 2 ;;
    --cores-per-node) cores_per_node=${2:?}; shift 2 ;;
    --host-prefix) host_prefix=${2:?}; shift 2 ;;
    --smpi-flags) smpiflags=${2?}; shift 2 ;;
    --sim-compute) sim_compute=${2:?}; shift 2 ;;   # (scaling_sim.sh --compute)
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
extra=("$@")

# ------------------------------------------------------------------ collect
json_num() { # json_num FIELD FILE -> the number, or empty
  { grep -o "\"$1\":[-0-9.eE+]*" "$2" || true; } | head -1 | cut -d: -f2
}

collect_study() {
  local study=$1 dir=$out/$1
  [ -f "$dir/study.env" ] || die "$dir/study.env not found: no study '$study' under $out"
  # shellcheck disable=SC1091
  . "$dir/study.env"
  local cpu=${S_CPU:-$(host_cpu)}
  [ "$S_SOURCE" != analytic ] || cpu="planner rates of AMD EPYC (AVX2+FMA), run on ${cpu:-this host}"
  local csv=$out/$study.csv md=$out/$study.md png=$out/$study.png
  echo "study,kind,N,d,P,P_d,P_m,iterations,ms_per_iteration,data_ms,compute_ms,wait_ms,allreduce_ms,optim_ms,comm_bytes_per_iteration,comm_share,peak_rss_mb_max_rank,efficiency,predicted_ms,predicted_peak_mb,source" > "$csv.tmp"
  local t1="" p1="" pt1="" missing=0 P
  for P in $S_RANKS; do
    local run=$dir/runs/P$P.json plan=$dir/runs/P$P.plan.json
    if [ ! -s "$run" ] || ! grep -q '"mode":"train"' "$run"; then
      echo "scaling_study: warning: no result for P = $P ($run); see $dir/runs/P$P.err" >&2
      missing=$((missing + 1)); continue
    fi
    local N d ranks pm it ms
    N=$(json_num N "$run"); d=$(json_num d "$run"); ranks=$(json_num ranks "$run"); pm=$(json_num model_parallel "$run")
    it=$(json_num iterations "$run"); ms=$(json_num ms_per_iteration "$run")
    local pms="" ppk=""
    if [ -s "$plan" ]; then pms=$(json_num ms_per_iteration "$plan"); ppk=$(json_num peak_mb_max_rank "$plan"); fi
    if [ -z "$t1" ]; then t1=$ms p1=$ranks pt1=$pms; fi
    local eff
    eff=$(awk -v k="$S_KIND" -v t1="$t1" -v p1="$p1" -v t="$ms" -v p="$ranks" \
      'BEGIN { if (t <= 0) { print ""; exit } e = (k == "strong") ? t1 * p1 / (t * p) : t1 / t; printf "%.4f", e }')
    echo "$study,$S_KIND,$N,$d,$ranks,$((ranks / pm)),$pm,$it,$ms,$(json_num data_ms "$run"),$(json_num compute_ms "$run"),$(json_num wait_ms "$run"),$(json_num allreduce_ms "$run"),$(json_num optim_ms "$run"),$(json_num comm_bytes_per_iteration "$run"),$(json_num comm_share "$run"),$(json_num peak_rss_mb_max_rank "$run"),$eff,$pms,$ppk,$S_SOURCE" >> "$csv.tmp"
  done
  mv "$csv.tmp" "$csv"
  [ "$(wc -l < "$csv")" -gt 1 ] || die "no run of study '$study' produced a result (see $dir/runs/*.err)"
  # Markdown table
  {
    echo "| P | P_d x P_m | N | ms / iteration | predicted ms | efficiency | predicted efficiency | compute | waits | allreduce | comm bytes / it | comm share | peak RSS MB / rank | predicted MB |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    awk -F, -v k="$S_KIND" 'NR > 1 {
      if (pt1 == "") { pt1 = $19; pp1 = $5 }
      pe = ($19 > 0 && pt1 > 0) ? ((k == "strong") ? pt1 * pp1 / ($19 * $5) : pt1 / $19) : 0
      printf "| %s | %s x %s | %s | %.3f | %s | %.1f%% | %s | %.3f | %.3f | %.3f | %.3g | %.1f%% | %.1f | %s |\n",
        $5, $6, $7, $3, $9, ($19 == "" ? "-" : sprintf("%.3f", $19)), 100 * $18, (pe > 0 ? sprintf("%.1f%%", 100 * pe) : "-"),
        $11, $12, $13, $15, 100 * $16, $17, ($20 == "" ? "-" : $20) }' "$csv"
    echo
    echo "$S_KIND scaling, $S_DESC; $S_SOURCE with $(basename "$S_BIN"); CPU: ${cpu:-unknown}; $(date -u +%Y-%m-%dT%H:%MZ)."
  } > "$md"
  # plot: time (log-log) and efficiency against P, measured and predicted
  if command -v gnuplot > /dev/null; then
    awk -F, -v k="$S_KIND" 'NR > 1 { if (pt1 == "") { pt1 = $19; pp1 = $5 }
      pe = ($19 > 0 && pt1 > 0) ? ((k == "strong") ? pt1 * pp1 / ($19 * $5) : pt1 / $19) : "NaN"
      print $5, $9, $18, ($19 == "" ? "NaN" : $19), pe }' "$csv" > "$dir/plot.dat"
    gnuplot <<EOF 2> "$dir/gnuplot.err" || die "gnuplot failed: $(cat "$dir/gnuplot.err")"
set terminal pngcairo size 1100,450 noenhanced
set output "$png.tmp"
set multiplot layout 1,2 title "$study: $S_KIND scaling, $S_DESC ($S_SOURCE; CPU: ${cpu:-unknown})" font ",10"
set logscale x 2
set xlabel "ranks P"
set grid
set key top right
set logscale y
set ylabel "ms per training iteration"
plot "$dir/plot.dat" using 1:2 with linespoints lw 2 pt 7 title "$S_SOURCE", \
     "" using 1:4 with linespoints lw 2 dt 2 pt 6 title "planner (h2nn_mpi --plan)"
unset logscale y
set ylabel "efficiency vs P = $(awk -F, 'NR == 2 { print $5 }' "$csv")"
set yrange [0:*]
set key bottom left
plot "$dir/plot.dat" using 1:3 with linespoints lw 2 pt 7 title "$S_SOURCE", \
     "" using 1:5 with linespoints lw 2 dt 2 pt 6 title "planner", 1 with lines lc "gray" notitle
unset multiplot
EOF
    mv "$png.tmp" "$png"
  else
    echo "scaling_study: warning: gnuplot not found: no plot (install gnuplot-nox)" >&2
  fi
  echo "scaling_study: $csv, $md${png:+, $png}"
  [ "$missing" -eq 0 ] || die "$missing of the runs have no result (table and plot show the others)"
}

if [ -n "$collect" ]; then collect_study "$collect"; exit 0; fi

# ------------------------------------------------------------------ check everything before running anything
[ -n "$name" ] || die "--name STUDY is required"
case "$name" in *[!A-Za-z0-9_.-]*) die "--name '$name': use letters, digits, '.', '_', '-' only" ;; esac
case "$kind" in strong|weak) ;; "") die "--kind is required (strong or weak)" ;; *) die "--kind '$kind': expected strong or weak" ;; esac
case "$launcher" in mpirun|slurm|smpirun|plan) ;; *) die "--launcher '$launcher': expected mpirun, slurm, smpirun or plan" ;; esac
[ "$launcher" != plan ] || source_tag=analytic
[ -n "$ranks" ] || die "--ranks \"P1 P2 ...\" is required"
prev=0
for P in $ranks; do
  case "$P" in ''|*[!0-9]*) die "--ranks: '$P' is not a positive integer" ;; esac
  [ "$P" -ge 1 ] || die "--ranks: '$P' is not a positive integer"
  [ "$P" -gt "$prev" ] || die "--ranks \"$ranks\": rank counts must be ascending and distinct"
  prev=$P
done
case "$dim" in 1|2|3) ;; *) die "--dim '$dim': expected 1, 2 or 3" ;; esac
case "$iters" in ''|*[!0-9]*|0) die "--iterations '$iters': expected a positive integer" ;; esac
if [ -n "$input" ]; then
  [ "$kind" = strong ] || die "--input goes with --kind strong (a weak study needs a problem size per P: use --points-per-rank)"
  [ -z "$n$ppr" ] || die "--input FILE and --n / --points-per-rank exclude each other"
  [ -r "$input" ] || die "--input '$input': file not found or not readable"
  input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")
elif [ "$kind" = strong ]; then
  [ -n "$n" ] || die "--kind strong needs --n N (or --input FILE)"
  [ -z "$ppr" ] || die "--points-per-rank belongs to --kind weak"
  case "$n" in *[!0-9]*) die "--n '$n': expected a positive integer" ;; esac
else
  [ -n "$ppr" ] || die "--kind weak needs --points-per-rank n"
  [ -z "$n" ] || die "--n belongs to --kind strong (weak: --points-per-rank)"
  case "$ppr" in *[!0-9]*) die "--points-per-rank '$ppr': expected a positive integer" ;; esac
fi
[ -x "$bin" ] || die "h2nn_mpi not found or not executable: '$bin' (build it, or give --bin PATH)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
plan_bin=${plan_bin:-$bin}
[ -x "$plan_bin" ] || die "--plan-bin: h2nn_mpi not found or not executable: '$plan_bin'"
if [ "$launcher" = smpirun ]; then
  command -v smpirun > /dev/null || die "smpirun not found (install the Debian packages simgrid and libsimgrid-dev)"
  [ -r "$platform" ] || die "--platform '$platform': platform file not found"
  case "$cores_per_node" in ''|*[!0-9]*|0) die "--cores-per-node '$cores_per_node': expected a positive integer" ;; esac
  platform=$(cd "$(dirname "$platform")" && pwd)/$(basename "$platform")
  nodes=$(grep -o 'radical="0-[0-9]*"' "$platform" | head -1 | grep -o '[0-9]*"$' | tr -d '"')
  [ -n "$nodes" ] || die "--platform $platform: no <cluster radical=\"0-K\"> found"
  for P in $ranks; do
    [ "$P" -le $(( (nodes + 1) * cores_per_node )) ] ||
      die "--ranks: P = $P does not fit the $((nodes + 1)) nodes x $cores_per_node cores of $platform"
  done
elif [ "$launcher" = mpirun ]; then
  command -v mpirun > /dev/null || die "mpirun not found (install openmpi-bin)"
elif [ "$submit" = 1 ]; then
  command -v sbatch > /dev/null || die "--submit: sbatch not found (is this a SLURM login node?)"
fi

problem_args() { # problem_args P -> PROB: the h2nn_mpi arguments of the problem of the point with P ranks
  if [ -n "$input" ]; then PROB=("$input")
  elif [ "$kind" = strong ]; then PROB=(--synthetic "$n" --dim "$dim")
  else PROB=(--synthetic "$(( ppr * $1 ))" --dim "$dim")
  fi
}
if [ -n "$input" ]; then desc="$(basename "$input")"
elif [ "$kind" = strong ]; then desc="N = $n, ${dim}-D synthetic grid"
else desc="$ppr points per rank, ${dim}-D synthetic grid"
fi

dir=$out/$name
mkdir -p "$dir/runs"
rm -f "$dir"/runs/P*.json "$dir"/runs/P*.err
# the planner validates every point (options, leaves per rank) and gives the prediction
for P in $ranks; do
  problem_args "$P"
  if ! "$plan_bin" --plan --plan-ranks "$P" "${PROB[@]}" "${extra[@]}" > "$dir/runs/P$P.plan" 2> "$dir/runs/P$P.plan.err"; then
    die "P = $P: $(grep -m1 'error' "$dir/runs/P$P.plan.err" || tail -1 "$dir/runs/P$P.plan.err") (nothing was run)"
  fi
  grep '"mode":"plan"' "$dir/runs/P$P.plan" > "$dir/runs/P$P.plan.json"
done
cat > "$dir/study.env" <<EOF
S_KIND=$kind
S_RANKS="$ranks"
S_DESC="$desc"
S_BIN="$bin"
S_SOURCE=$source_tag
EOF
# the CPU the runs use, named in the table and the plot: this host's, except
# under SLURM, where the collecting job (on a compute node) names its own
[ "$launcher" = slurm ] || echo "S_CPU=\"$(host_cpu)\"" >> "$dir/study.env"

run_cmd() { # run_cmd P -> CMD: the h2nn_mpi command line of point P (after the launcher)
  problem_args "$1"
  CMD=("$bin" "${PROB[@]}" --iterations "$iters" --eval-every 0 --eval-samples 64 --quiet "${extra[@]}")
}
run_args() { run_cmd "$1"; printf '%q ' "${CMD[@]}"; }

if [ "$launcher" = mpirun ]; then
  # shellcheck disable=SC1091
  . "$here/mpienv.sh"
  read -r -a mflags <<< "$mpiflags"
  for P in $ranks; do
    echo "scaling_study: $name: P = $P ..."
    run_cmd "$P"
    if ! mpirun -np "$P" "${mflags[@]}" "${CMD[@]}" > "$dir/runs/P$P.out" 2> "$dir/runs/P$P.err"; then
      echo "scaling_study: warning: P = $P failed: $(grep -m1 error "$dir/runs/P$P.err" || tail -1 "$dir/runs/P$P.err")" >&2
    fi
    grep '"mode":"train"' "$dir/runs/P$P.out" > "$dir/runs/P$P.json" || true
  done
  collect_study "$name"
  exit 0
fi

if [ "$launcher" = plan ]; then
  # no runs: the planner's prediction fills the measured columns (source "analytic")
  for P in $ranks; do
    sed 's/"mode":"plan"/"mode":"train"/; s/"peak_mb_max_rank"/"peak_rss_mb_max_rank"/; s/"comm_ms"/"wait_ms"/' "$dir/runs/P$P.plan.json" > "$dir/runs/P$P.json"
  done
  collect_study "$name"
  exit 0
fi

if [ "$launcher" = smpirun ]; then
  read -r -a sflags <<< "$smpiflags"
  for P in $ranks; do
    # block placement: ranks 0..C-1 on the first node, and so on
    : > "$dir/runs/P$P.hosts"
    for ((k = 0; k * cores_per_node < P; k++)); do echo "$host_prefix$k:$cores_per_node" >> "$dir/runs/P$P.hosts"; done
    echo "scaling_study: $name: P = $P (simulated) ..."
    run_cmd "$P"
    start=$(date +%s)
    if ! smpirun -np "$P" -platform "$platform" -hostfile "$dir/runs/P$P.hosts" "${sflags[@]}" "${CMD[@]}" \
         > "$dir/runs/P$P.out" 2> "$dir/runs/P$P.err"; then
      echo "scaling_study: warning: P = $P failed: $(grep -m1 error "$dir/runs/P$P.err" || tail -1 "$dir/runs/P$P.err")" >&2
    fi
    echo "scaling_study: $name: P = $P took $(( $(date +%s) - start )) s of host time" | tee "$dir/runs/P$P.hosttime"
    grep '"mode":"train"' "$dir/runs/P$P.out" > "$dir/runs/P$P.json" || true
    if [ "$sim_compute" = model ] && [ -s "$dir/runs/P$P.json" ]; then
      # communication simulated, computation not timed (smpi/simulate-computation:no): add the
      # planner's compute time of the slowest rank to the iteration and to the compute phase
      pc=$(json_num compute_ms "$dir/runs/P$P.plan.json")
      awk -v pc="$pc" '{
        for (f = 1; f <= 2; f++) {
          key = (f == 1) ? "\"ms_per_iteration\":" : "\"compute_ms\":"
          i = index($0, key); rest = substr($0, i + length(key)); v = rest; sub(/[,}].*/, "", v)
          $0 = substr($0, 1, i + length(key) - 1) sprintf("%.4f", v + pc) substr(rest, length(v) + 1)
        }
        print }' "$dir/runs/P$P.json" > "$dir/runs/P$P.json.tmp" && mv "$dir/runs/P$P.json.tmp" "$dir/runs/P$P.json"
    fi
  done
  collect_study "$name"
  exit 0
fi

# ------------------------------------------------------------------ SLURM: one job per point, then a collecting job
sdir=$dir/slurm
mkdir -p "$sdir"
repo=$(cd "$here/.." && pwd)
absout=$(cd "$out" && pwd)
for P in $ranks; do
  cat > "$sdir/P$P.sbatch" <<EOF
#!/usr/bin/env bash
# $name, P = $P: written by runscripts/scaling_study.sh
#SBATCH --job-name=h2nn-$name-P$P
#SBATCH --ntasks=$P
#SBATCH --time=00:30:00
#SBATCH --output=$absout/$name/runs/P$P.out
#SBATCH --error=$absout/$name/runs/P$P.err
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
if [ "\${SLURM_NTASKS:-1}" -gt "\${SLURM_CPUS_ON_NODE:-1}" ]; then export OMPI_MCA_mpi_yield_when_idle=1; fi
srun --mpi=pmix $(run_args "$P")
grep '"mode":"train"' $absout/$name/runs/P$P.out > $absout/$name/runs/P$P.json
EOF
done
cat > "$sdir/collect.sbatch" <<EOF
#!/usr/bin/env bash
# $name: collect the runs into $absout/$name.{csv,md,png} (after every point's job)
#SBATCH --job-name=h2nn-$name-collect
#SBATCH --ntasks=1
#SBATCH --time=00:05:00
#SBATCH --output=$absout/$name/collect.out
set -euo pipefail
cd $(printf '%q' "$repo")
bash runscripts/scaling_study.sh --out $(printf '%q' "$absout") --collect $name
EOF
for f in "$sdir"/*.sbatch; do bash -n "$f" || die "generated $f is not valid bash"; done
if [ "$submit" = 0 ]; then
  echo "scaling_study: SLURM scripts written to $sdir/ (submit them with --submit, or by hand:"
  echo "  ids=\$(for P in $ranks; do sbatch --parsable $sdir/P\$P.sbatch; done | paste -sd:)"
  echo "  sbatch --dependency=afterany:\$ids $sdir/collect.sbatch)"
  exit 0
fi
ids=""
for P in $ranks; do
  id=$(sbatch --parsable "$sdir/P$P.sbatch") || die "sbatch $sdir/P$P.sbatch failed"
  ids=${ids:+$ids:}${id%%;*}
done
cid=$(sbatch --parsable --dependency="afterany:$ids" "$sdir/collect.sbatch") || die "sbatch collect failed"
echo "scaling_study: submitted jobs $ids; the collecting job $cid writes $absout/$name.csv"
