#!/usr/bin/env bash
# scaling_study.sh — runscripts/scaling_study.sh end to end: a strong study
# on 1, 2, 4 local ranks (1-D, N = 2048) and a weak one (2-D, 1024 points
# per rank); the CSV has exactly the documented columns and one row per rank
# count, each row's efficiency is recomputed here from the rows' times, the
# Markdown table and the PNG exist; the SLURM path writes valid batch
# scripts; bad studies fail before anything runs.
. "$(dirname "$0")/../programs/common.sh"
study=$SCRIPT_DIR/../../runscripts/scaling_study.sh
[ -f "$study" ] || fail "no $study"
header="study,kind,N,d,P,P_d,P_m,iterations,ms_per_iteration,data_ms,compute_ms,wait_ms,allreduce_ms,optim_ms,comm_bytes_per_iteration,comm_share,peak_rss_mb_max_rank,efficiency,predicted_ms,predicted_peak_mb,source"
extra=(-- --leaf-size 32 --synthetic-samples 64)

check_study() { # check_study NAME KIND
  local csv=out/$1.csv
  [ -f "$csv" ] || fail "$1: no $csv"
  [ "$(head -1 "$csv")" = "$header" ] || fail "$1: CSV header is $(head -1 "$csv")"
  [ "$(wc -l < "$csv")" -eq 4 ] || fail "$1: expected 3 rows, got $(($(wc -l < "$csv") - 1))"
  [ "$(cut -d, -f5 "$csv" | tail -3 | paste -sd' ')" = "1 2 4" ] || fail "$1: P column is not 1 2 4"
  awk -F, -v k="$2" 'NR == 2 { t1 = $9; p1 = $5 }
    NR > 1 { if (NF != 21) { print "row " NR ": " NF " columns"; exit 1 }
             for (c = 9; c <= 20; c++) if ($c == "" || $c !~ /^[-+0-9.eE]+$/) { print "row " NR " column " c ": \"" $c "\""; exit 1 }
             if ($9 <= 0) { print "row " NR ": time " $9; exit 1 }
             e = (k == "strong") ? t1 * p1 / ($9 * $5) : t1 / $9
             d = e - $18; if (d < 0) d = -d
             if (d > 1e-3 * e + 1e-4) { print "row " NR ": efficiency " $18 ", recomputed " e; exit 1 }
             if ($1 == "" || $2 != k || $21 != "measured") { print "row " NR ": study/kind/source"; exit 1 } }' "$csv" > chk.txt ||
    fail "$1: $(cat chk.txt)"
  [ "$(awk -F, 'NR == 2 { print $18 }' "$csv")" = "1.0000" ] || fail "$1: efficiency of the first row is not 1"
  [ -s "out/$1.md" ] && grep -q "^| 4 | " "out/$1.md" || fail "$1: Markdown table missing or without the P = 4 row"
  [ "$(head -c 4 "out/$1.png" | tail -c 3)" = "PNG" ] || fail "$1: out/$1.png is not a PNG"
}

bash "$study" --name strong1d --kind strong --ranks "1 2 4" --n 2048 --dim 1 --iterations 5 --out out \
  --bin "$H2NN_MPI" "${extra[@]}" > strong.log 2>&1 || fail "strong study failed: $(tail -5 strong.log)"
check_study strong1d strong
bash "$study" --name weak2d --kind weak --ranks "1 2 4" --points-per-rank 1024 --dim 2 --iterations 5 --out out \
  --bin "$H2NN_MPI" "${extra[@]}" > weak.log 2>&1 || fail "weak study failed: $(tail -5 weak.log)"
check_study weak2d weak
# weak: N grows with P (a 2-D grid of about P x 1024 points)
awk -F, 'NR > 1 { if ($3 < 0.8 * 1024 * $5 || $3 > 1.25 * 1024 * $5) exit 1 }' out/weak2d.csv || fail "weak study: N is not ~1024 P"

# SLURM: batch scripts written (not submitted), valid bash, with the task counts
bash "$study" --name sl --kind strong --ranks "2 4" --n 2048 --out out --launcher slurm --bin "$H2NN_MPI" "${extra[@]}" \
  > slurm.log 2>&1 || fail "slurm study failed: $(tail -5 slurm.log)"
for P in 2 4; do
  f=out/sl/slurm/P$P.sbatch
  [ -f "$f" ] && bash -n "$f" && grep -q "^#SBATCH --ntasks=$P$" "$f" && grep -q "srun --mpi=pmix .*--synthetic 2048" "$f" ||
    fail "bad $f"
done
bash -n out/sl/slurm/collect.sbatch || fail "bad collect.sbatch"
[ ! -e out/sl/runs/P2.json ] || fail "the SLURM path ran something"

# bad studies: one clear line, exit non-zero, nothing run
bad() { # bad EXPECTED-TEXT ARGS...
  local want=$1 rc=0
  shift
  bash "$study" --name bad --out badout "$@" > bad.out 2> bad.err || rc=$?
  [ "$rc" -ne 0 ] || fail "accepted: $*"
  grep -q "scaling_study: error: .*$want" bad.err || fail "'$*': expected an error about '$want', got: $(cat bad.err)"
  ! ls badout/bad/runs/P*.json > /dev/null 2>&1 || fail "'$*' ran something"
}
bad "--kind 'medium'" --kind medium --ranks "1 2" --n 2048 --bin "$H2NN_MPI"
bad "not found or not executable" --kind strong --ranks "1 2" --n 2048 --bin ./no_such_h2nn_mpi
bad "ascending" --kind strong --ranks "2 1" --n 2048 --bin "$H2NN_MPI"
bad "'x'" --kind strong --ranks "1 x" --n 2048 --bin "$H2NN_MPI"
bad "P = 8: .*model-parallel" --kind strong --ranks "8" --n 256 --bin "$H2NN_MPI" -- --leaf-size 64 --model-parallel 8
bad "needs --points-per-rank" --kind weak --ranks "1 2" --bin "$H2NN_MPI"
note "ok"
