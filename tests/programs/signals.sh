#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# signals.sh CASE — real signals to a real training run (h2nn_mpi under
# mpiexec), and the wall-time budget.  Every run uses ONE command line:
#   --iterations 100000 --checkpoint ck.h5 --checkpoint-every 10 --resume auto
# and is ended by a signal (or --max-time) at whatever iteration it reached,
# so no case depends on the machine's speed.  Cases:
#   term_mpirun   SIGTERM to mpirun (Open MPI passes it on as SIGCONT, then
#                 SIGTERM after odls_base_sigkill_timeout s, then SIGKILL)
#   usr1_rank     SIGUSR1 to rank 2 of 4 only; the checkpoint also resumed on 2 ranks
#   int_rank      SIGINT to rank 0 of 2 only
#   usr2          SIGUSR2 to mpirun: a checkpoint at that iteration, training goes on
#   during_write  SIGUSR2 and SIGTERM to the ranks every 20 ms (checkpoint writes
#                 under fire)
#   kill_during_write  SIGKILL while a checkpoint is written every iteration:
#                 the file stays valid, the next run continues it and its
#                 writes remove the killed writer's PATH.tmp.* file
#   max_time      --max-time 6: stops by itself, within 6 s but for its checkpoint writes
#   before_start  SIGUSR1 pending before main() (blocked by the launcher)
# For the stopping cases: every rank exits with status 3 by itself, one line
# "stopped after iteration K ... <why>" on stderr, the JSON line has
# "stopped":"signal"/"time_limit" and "iterations":K, and the checkpoint holds
# exactly iterations 1..K (nothing done is lost).  Then the SAME command
# (--resume auto) continues it; it is stopped again at K2 > K, and its
# history 1..K2 (loss, train/test error) is bitwise that of an uninterrupted
# run of the same command on the same P (stopped at K3 >= K2); on another P
# equal to 1e-4 relative.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ ${#ARGS[@]} -eq 1 ] || fail "usage: signals.sh ... -- CASE"
CASE=${ARGS[0]}
[ -x "$H2NN_HISTORY" ] || fail "h2nn_history not found: '$H2NN_HISTORY'"

OPTS=(--synthetic 256 --leaf-size 32 --batch-size 16 --synthetic-samples 256 --eval-every 7 --eval-samples 32
      --iterations 100000 --checkpoint-every 10 --resume auto)

# Each rank: rank.sh (ignores the four signals itself but passes a SIGTERM
# on to the rank, as if the rank were mpirun's child itself: Open MPI sends
# the job's SIGTERM to its direct children only, and a wrapper that ignored
# it left the rank running until mpirun's SIGKILL; records the rank's exit
# status in DIR/rank_status.<rank>) runs wrap.pl, which writes its PID (kept by exec) to
# DIR/pid.<rank>, blocks SIGUSR1 if H2NN_BLOCK=USR1 (so that one sent now
# stays pending until h2nn_mpi has installed its handlers), and execs h2nn_mpi.
cat > rank.sh <<'BASH'
dir=$1
shift
trap '' INT USR1 USR2
"$@" &
child=$!
trap 'kill -TERM "$child" 2> /dev/null' TERM
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2> /dev/null || { wait "$child"; rc=$?; break; }
done
echo "$rc" > "$dir/rank_status.${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-unknown}}"
exit "$rc"
BASH
cat > wrap.pl <<'PERL'
use POSIX;
my $dir = shift @ARGV;
my $rank = $ENV{OMPI_COMM_WORLD_RANK} // $ENV{PMIX_RANK} // 'unknown';
my $set = POSIX::SigSet->new();
$set->addset(POSIX::SIGUSR1()) if ($ENV{H2NN_BLOCK} // '') eq 'USR1';
sigprocmask(SIG_BLOCK, $set);
open(my $f, '>', "$dir/pid.$rank.tmp") or die; print $f "$$\n"; close $f;
rename("$dir/pid.$rank.tmp", "$dir/pid.$rank");
exec @ARGV or die "exec: $!";
PERL

# launch TAG NP CKPT [ENV=VAL...] — start a run in the background (dir TAG/, output TAG.out/err)
launch() {
  local tag=$1 np=$2 ck=$3
  shift 3
  mkdir -p "$tag"
  rm -f "$tag"/pid.* "$tag"/rank_status.*
  env OMPI_MCA_orte_abort_on_non_zero_status=0 "$@" timeout -k 10 "$RUN_TIMEOUT" "$MPIEXEC" "$NPFLAG" "$np" \
    "${MPIFLAGS_ARR[@]}" bash rank.sh "$PWD/$tag" perl wrap.pl "$PWD/$tag" \
    "$H2NN_MPI" "${OPTS[@]}" --checkpoint "$ck" > "$tag.out" 2> "$tag.err" &
  LAUNCHED=$!
}
# finish PID — wait for a launch, status in RC
finish() { RC=0; wait "$1" || RC=$?; }
# last_iter FILE — last iteration in a checkpoint's history (0 if unreadable)
last_iter() { "$H2NN_HISTORY" "$1" 2> /dev/null | awk '!/^#/ { n = $1 } END { print n + 0 }'; }
# wait_iter FILE N PID — until checkpoint FILE holds >= N iterations (fail if PID ends first)
wait_iter() {
  local t=0
  while [ "$(last_iter "$1")" -lt "$2" ]; do
    kill -0 "$3" 2> /dev/null || fail "the run ended before $1 held $2 iterations"
    sleep 0.2; t=$((t + 1))
    [ "$t" -lt 600 ] || fail "$1 did not reach $2 iterations within 120 s"
  done
}
# rank_pid TAG RANK — PID of a rank (waits for the wrapper to write it)
rank_pid() {
  local t=0
  while [ ! -s "$1/pid.$2" ]; do sleep 0.05; t=$((t + 1)); [ "$t" -lt 1200 ] || fail "rank $2 of $1 did not start"; done
  cat "$1/pid.$2"
}
# check_stopped TAG NP CKPT WHY — the common properties of an early stop; sets K
check_stopped() {
  local tag=$1 np=$2 ck=$3 why=$4 k s
  [ "$RC" -ne 124 ] || fail "$tag: no exit within ${RUN_TIMEOUT} s (hang?)"
  for ((k = 0; k < np; k++)); do
    [ -f "$tag/rank_status.$k" ] || { cat "$tag.err" >&2; fail "$tag: rank $k did not exit by itself"; }
    s=$(cat "$tag/rank_status.$k")
    [ "$s" -eq 3 ] || { tail -n 5 "$tag.err" >&2; fail "$tag: rank $k exited with status $s, expected 3 (interrupted)"; }
  done
  [ "$(grep -c 'stopped after iteration' "$tag.err")" -eq 1 ] || { cat "$tag.err" >&2; fail "$tag: expected one line 'stopped after iteration' on stderr"; }
  grep 'stopped after iteration' "$tag.err" | grep -q -- "$why" || fail "$tag: the stop line does not say '$why': $(grep stopped "$tag.err")"
  local stopped
  stopped=$(json_field stopped "$tag.out")
  K=$(json_field iterations "$tag.out")
  case "$why" in
    --max-time*) [ "$stopped" = time_limit ] || fail "$tag: JSON stopped=$stopped, expected time_limit" ;;
    *) [ "$stopped" = signal ] || fail "$tag: JSON stopped=$stopped, expected signal" ;;
  esac
  grep -q "stopped after iteration $K of" "$tag.err" || fail "$tag: stop line and JSON iterations ($K) disagree"
  local hist
  hist=$("$H2NN_HISTORY" "$ck" | awk '!/^#/ { printf "%s ", $1 }') || fail "$tag: checkpoint $ck is not readable"
  [ "$hist" = "$(seq -s ' ' 1 "$K") " ] || [ "$K" -eq 0 -a -z "$hist" ] ||
    fail "$tag: checkpoint $ck does not hold exactly iterations 1..$K: ${hist:0:200}"
  [ -z "$(find . -name '*.tmp.*' | head -n 1)" ] || fail "$tag: temporary files left: $(find . -name '*.tmp.*')"
  note "$tag: stopped at iteration $K ($why), checkpoint holds 1..$K"
}
# cols FILE — iteration, loss, train error, test error of a checkpoint's history
cols() { "$H2NN_HISTORY" "$1" | awk '!/^#/ { print $1, $3, $4, $5 }'; }
# resume_and_compare NP CKPT K — the same command continues CKPT past K; an
# uninterrupted run of the same command on NP ranks gives the same history
resume_and_compare() {
  local np=$1 ck=$2 k=$3
  local tag=${ck%.h5}
  launch "re_$tag" "$np" "$ck"
  local pid=$LAUNCHED
  wait_iter "$ck" $((k + 10)) "$pid"
  kill -USR1 "$(rank_pid "re_$tag" 0)"
  finish "$pid"
  check_stopped "re_$tag" "$np" "$ck" SIGUSR1
  local k2=$K
  grep -q '(resumed)' "re_$tag.out" || fail "the second run did not say it resumed"
  [ "$k2" -gt "$k" ] || fail "the resumed run stopped at $k2, not after $k"
  launch "ref_$tag" "$np" "ref_$ck"
  pid=$LAUNCHED
  wait_iter "ref_$ck" "$k2" "$pid"
  kill -USR1 "$(rank_pid "ref_$tag" 0)"
  finish "$pid"
  check_stopped "ref_$tag" "$np" "ref_$ck" SIGUSR1
  cols "$ck" > resumed.txt
  cols "ref_$ck" > ref_all.txt # (not piped into head: pipefail would see the writer's SIGPIPE)
  head -n "$k2" ref_all.txt > ref.txt
  if ! cmp -s resumed.txt ref.txt; then
    diff resumed.txt ref.txt | head -n 6 >&2
    fail "history 1..$k2 of the stopped and resumed run differs from the uninterrupted run"
  fi
  note "resumed past $k to $k2: history bitwise that of the uninterrupted run"
}

case "$CASE" in
  term_mpirun)
    launch A 2 ck.h5 OMPI_MCA_odls_base_sigkill_timeout=8
    pid=$LAUNCHED
    wait_iter ck.h5 10 "$pid"
    # to mpirun itself (timeout's own SIGTERM would go to its whole process group)
    mpirun_pid=$(pgrep -P "$pid" | head -n 1)
    [ -n "$mpirun_pid" ] || fail "no mpiexec process under timeout $pid"
    kill -TERM "$mpirun_pid"
    finish "$pid"
    check_stopped A 2 ck.h5 SIGTERM
    grep -q 'does not exist yet' A.out || fail "the first run did not say it starts afresh"
    resume_and_compare 2 ck.h5 "$K" ;;
  usr1_rank)
    launch A 4 ck.h5
    pid=$LAUNCHED
    wait_iter ck.h5 10 "$pid"
    kill -USR1 "$(rank_pid A 2)"
    finish "$pid"
    check_stopped A 4 ck.h5 SIGUSR1
    k=$K
    cp ck.h5 ck2.h5
    resume_and_compare 4 ck.h5 "$k"
    # the same checkpoint continued on 2 ranks: equal up to summation order
    launch B 2 ck2.h5
    pid=$LAUNCHED
    wait_iter ck2.h5 $((k + 8)) "$pid"
    kill -USR1 "$(rank_pid B 1)"
    finish "$pid"
    check_stopped B 2 ck2.h5 SIGUSR1
    cols ck2.h5 > p2.txt
    # compare the iterations both histories hold (B may run past the 4-rank
    # reference when the signal arrives late on a loaded host), at least k + 1
    m=$(wc -l < ref.txt)
    [ "$K" -lt "$m" ] && m=$K
    [ "$m" -gt "$k" ] || fail "the 2-rank run stopped at $K, not after $k"
    paste p2.txt ref.txt | awk -v m="$m" 'NR <= m && $1 == $5 { n++; d = $2 - $6; if (d < 0) d = -d
      if (!(d <= 1e-4 * $2)) { print "iteration", $1, "loss", $2, "on 2 ranks,", $6, "on 4"; bad = 1 } }
      END { exit bad || n != m }' >&2 || fail "resumed on 2 ranks: losses differ from the 4-rank run by more than 1e-4"
    note "resumed on 2 ranks: losses 1..$m within 1e-4 of the 4-rank run" ;;
  int_rank)
    launch A 2 ck.h5
    pid=$LAUNCHED
    wait_iter ck.h5 10 "$pid"
    kill -INT "$(rank_pid A 0)"
    finish "$pid"
    check_stopped A 2 ck.h5 SIGINT
    resume_and_compare 2 ck.h5 "$K" ;;
  usr2)
    OPTS+=(--checkpoint-every 0)   # only SIGUSR2 writes during the run
    launch A 2 ck.h5
    pid=$LAUNCHED
    r0=$(rank_pid A 0)
    sleep 2
    kill -USR2 "$r0"
    t=0
    until grep -q 'SIGUSR2: checkpoint ck.h5 written at iteration' A.err; do
      sleep 0.1; t=$((t + 1)); [ "$t" -lt 600 ] || fail "no 'SIGUSR2: checkpoint written' line within 60 s"
    done
    ks=$(sed -n 's/.*written at iteration \([0-9]*\).*/\1/p' A.err | head -n 1)
    ck_k=$(last_iter ck.h5)
    [ "$ck_k" -eq "$ks" ] || fail "after SIGUSR2 at iteration $ks the checkpoint holds $ck_k iterations"
    wait_iter ck.h5 0 "$pid"   # still running
    sleep 1
    kill -USR1 "$r0"
    finish "$pid"
    check_stopped A 2 ck.h5 SIGUSR1
    [ "$K" -gt "$ks" ] || fail "training did not go on after the SIGUSR2 checkpoint (stopped at $K)"
    note "SIGUSR2 checkpoint at $ks, training went on to $K" ;;
  during_write)
    launch A 2 ck.h5
    pid=$LAUNCHED
    wait_iter ck.h5 5 "$pid"
    r0=$(rank_pid A 0) r1=$(rank_pid A 1)
    # SIGUSR2 makes every boundary write a checkpoint; signals keep coming while it is written
    for i in $(seq 100); do kill -USR2 "$r0" "$r1" 2> /dev/null || true; sleep 0.02; done
    for i in $(seq 20); do kill -TERM "$r1" 2> /dev/null || true; kill -USR2 "$r0" 2> /dev/null || true; sleep 0.02; done
    finish "$pid"
    check_stopped A 2 ck.h5 SIGTERM
    n=$(grep -c 'SIGUSR2: checkpoint' A.err || true)
    note "$n checkpoints written on SIGUSR2 while signals kept coming"
    [ "$n" -ge 1 ] || fail "no SIGUSR2 checkpoint was written"
    resume_and_compare 2 ck.h5 "$K" ;;
  kill_during_write)
    # SIGKILL (nothing can catch it) in the middle of checkpointing every
    # iteration: the old or the new checkpoint is valid, and the next run's
    # successful write removes the killed writer's temporary file
    OPTS+=(--checkpoint-every 1)
    launch C 2 ckk.h5
    pid=$LAUNCHED
    wait_iter ckk.h5 3 "$pid"
    for r in 0 1; do kill -KILL "$(rank_pid C "$r")"; done
    finish "$pid"
    kk=$(last_iter ckk.h5)
    [ "$kk" -ge 3 ] || fail "after SIGKILL the checkpoint ckk.h5 is not readable (holds $kk iterations)"
    left=$(find . -name 'ckk.h5.tmp.*' | wc -l)
    note "SIGKILL while checkpointing every iteration: ckk.h5 valid at $kk, $left temporary file(s) left by the killed writer"
    launch D 2 ckk.h5
    pid=$LAUNCHED
    wait_iter ckk.h5 $((kk + 3)) "$pid"
    kill -USR1 "$(rank_pid D 0)"
    finish "$pid"
    check_stopped D 2 ckk.h5 SIGUSR1   # (also: no *.tmp.* left after its writes)
    ;;
  max_time)
    OPTS+=(--max-time 6)
    launch A 2 ck.h5
    pid=$LAUNCHED
    finish "$pid"
    check_stopped A 2 ck.h5 "--max-time 6"
    # before the budget: the run (less its checkpoint writes, whose duration
    # the machine decides: the budget keeps 1.5 x the longest so far in hand)
    # ended within 6 s
    secs=$(json_field seconds A.out)
    io=$(sed -n 's/.*checkpoint I\/O \([0-9.]*\) s.*/\1/p' A.out)
    [ -n "$io" ] || fail "no 'checkpoint I/O' time in the summary"
    awk -v s="$secs" -v io="$io" 'BEGIN { exit !(s - io < 6) }' || fail "--max-time 6 but the run took $secs s ($io s writing checkpoints)"
    k=$K
    # the same command continues (and stops again at its own budget)
    launch B 2 ck.h5
    pid=$LAUNCHED
    finish "$pid"
    check_stopped B 2 ck.h5 "--max-time 6"
    [ "$K" -gt "$k" ] || fail "the resumed run did not get past iteration $k"
    grep -q '(resumed)' B.out || fail "the second run did not say it resumed"
    note "stopped at $k by the 6 s budget (in $secs s, $io s of it writing checkpoints), then resumed to $K" ;;
  before_start)
    export H2NN_BLOCK=USR1
    launch A 2 ck.h5
    pid=$LAUNCHED
    kill -USR1 "$(rank_pid A 1)"  # pending before h2nn_mpi's main() runs
    finish "$pid"
    unset H2NN_BLOCK
    check_stopped A 2 ck.h5 SIGUSR1
    [ "$K" -eq 0 ] || fail "a signal before the first iteration: stopped at $K, expected 0"
    resume_and_compare 2 ck.h5 0 ;;
  *) fail "unknown case '$CASE'" ;;
esac
note "ok"
