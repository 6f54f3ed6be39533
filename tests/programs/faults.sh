#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# faults.sh CASE [N] — h2nn under faults: no crash, no hang, nothing already
# on disk lost or replaced.  Cases:
#   lock        a second job with the same --checkpoint is refused while the
#               first runs (and may run once the first is gone, even killed)
#   diverge     a huge --lr: exit status 4 ("diverged"), the last checkpoint
#               written before it holds finite weights and still predicts
#   vlen_attr   a checkpoint whose activation is a variable-length UTF-8
#               string (what h5py writes) resumes
#   history_huge  a history declaring 1e9 rows in a small file: refused before
#               allocating (under a 4 GB address-space limit)
#   rename_fails  the final rename fails (immutable old file; as root with
#               chattr, skipped with status 77 otherwise): one error line
#               saying where the complete new checkpoint was kept, and it loads
#   disk_full   a 1 MB tmpfs mounted here (as root; skipped with status 77
#               otherwise): training, --predict and h2nn_gen into it end in
#               one error line with "No space left on device" on every rank
#               (no crash, no hang), and the file already there is intact
#   sigkill N   N SIGKILLs of a 2-rank job (launcher and ranks) at random
#               moments while it checkpoints every iteration: the last
#               checkpoint always loads, and no temporary file outlives the
#               next successful write
# (ck.h5, copied from the fixture, holds 10 iterations: runs that start a new
# checkpoint there give --overwrite, which the never-backwards rule asks for)
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

CASE=${ARGS[0]:-}
[ -s "$FIXTURE/good.h5" ] || fail "fixture missing (run bad_input_setup)"
cp "$FIXTURE/good.h5" "$FIXTURE/ck.h5" .
train=(--iterations 5 --batch-size 16)

# no_crash FILE — no signal, no HDF5 stack dump in a launcher's output
no_crash() {
  if grep -qaE 'Segmentation|Signal:|signal [0-9]|core dumped|HDF5-DIAG' "$1"; then
    sed 's/^/  /' "$1" >&2; fail "crash or HDF5 stack dump (above)"
  fi
}

case "$CASE" in
  lock)
    (exec "$MPIEXEC" "$NPFLAG" 1 "${MPIFLAGS_ARR[@]}" "$H2NN_MPI" --quiet --iterations 100000000 --batch-size 16 \
       --overwrite --checkpoint ck.h5 good.h5 > a.out 2> a.err) &
    apid=$!
    for _ in $(seq 100); do [ -e ck.h5.lock ] && break; sleep 0.1; done
    [ -e ck.h5.lock ] || { kill -9 $apid; fail "the first job did not create ck.h5.lock"; }
    cp ck.h5 ck.orig
    rc=0
    run_mpi 2 b.out b.err "$H2NN_MPI" --quiet "${train[@]}" --overwrite --checkpoint ck.h5 good.h5 || rc=$?
    # the rank first: once mpirun is gone its children belong to init, and a
    # rank has a process group of its own (Open MPI), so neither -P nor -PGID
    # would find it then
    kids=$(pgrep -P $apid || true)
    kill -9 $kids $apid 2>/dev/null || true
    wait $apid 2>/dev/null || true
    for k in $kids; do
      for _ in $(seq 100); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
      ! kill -0 "$k" 2>/dev/null || fail "rank $k of the first job survived SIGKILL for 10 s"
    done
    [ "$rc" -ne 0 ] || fail "a second job with the same --checkpoint ran (exit 0)"
    grep -q '^h2nn_mpi: error: .*ck\.h5 is in use by another running job' b.err ||
      { cat b.err >&2; fail "no clear refusal naming the checkpoint and the lock"; }
    cmp -s ck.h5 ck.orig || fail "the refused job changed ck.h5"
    sleep 0.5
    # the first job is gone (killed: its lock went with it): a new job runs
    run_ok 2 c "$H2NN_MPI" --quiet "${train[@]}" --overwrite --checkpoint ck.h5 good.h5
    [ ! -e ck.h5.lock ] || fail "ck.h5.lock left behind by a finished job" ;;
  diverge)
    run_ok 2 good "$H2NN_MPI" --quiet "${train[@]}" --overwrite --checkpoint ck.h5 good.h5
    rc=0
    run_mpi 2 d.out d.err "$H2NN_MPI" --quiet --resume ck.h5 --iterations 400 --batch-size 16 --lr 1e6 \
      --checkpoint-every 1 --checkpoint ck.h5 good.h5 || rc=$?
    no_crash d.err
    [ "$rc" -eq 4 ] || { cat d.err >&2; fail "exit status $rc, expected 4 (diverged)"; }
    grep -q '^h2nn_mpi: error: training diverged' d.err || fail "no 'training diverged' line"
    # a JSON summary, when one is printed, is valid JSON (null, never nan/inf)
    if grep -q '^{' d.out; then
      python3 -c 'import json, sys; json.loads(sys.argv[1])' "$(grep '^{' d.out | tail -n 1)" ||
        fail "invalid JSON summary: $(grep '^{' d.out | tail -n 1)"
    fi
    # the checkpoint left is a good one: it loads, predicts finite errors
    run_ok 2 p "$H2NN_MPI" --predict ck.h5 --output pred.h5 good.h5
    te=$(json_field test_error p.out)
    is_finite_number "$te" || fail "the kept checkpoint predicts test_error '$te'" ;;
  vlen_attr)
    "$H2NN_MKINPUT" --ckpt activation_vlen ck.h5 vlen.h5 || fail "h2nn_mkinput failed"
    run_ok 2 r "$H2NN_MPI" --quiet --resume vlen.h5 --iterations 8 --batch-size 16 --checkpoint out.h5 good.h5
    st=$(json_field status r.out)
    [ "$st" = finished ] || fail "status '$st'" ;;
  history_huge)
    # a fuzzed checkpoint (tests/fuzz/corpus/checkpoint/
    # finding_history_huge_declared.h5) whose /history/iteration declares 1e9
    # rows in 24 bytes: refused by its storage before anything is allocated
    # (it asked for 40 GB; under a 4 GB address-space limit that failed)
    f="$SCRIPT_DIR/../fuzz/corpus/checkpoint/finding_history_huge_declared.h5"
    rc=0
    (ulimit -v 4000000; exec "$H2NN_HISTORY" "$f") > h.out 2> h.err || rc=$?
    no_crash h.err
    [ "$rc" -eq 1 ] || { cat h.err >&2; fail "h2nn_history: exit status $rc, expected 1"; }
    grep -q '^h2nn_history: error: .*/history/iteration declares .* stores only 24 bytes' h.err ||
      { cat h.err >&2; fail "not refused by its storage"; } ;;
  rename_fails)
    # the final rename fails (an immutable old checkpoint: EPERM even for
    # root; in a sticky directory a file of another user does the same): the
    # old file stays, and the complete new checkpoint is kept under its
    # temporary name, which the error line gives (the training is not lost)
    if ! chattr +i ck.h5 2>/dev/null; then
      echo "SKIP: chattr +i unsupported here (not root, or not ext2/3/4/xfs/btrfs)"; exit 77
    fi
    trap 'chattr -i ck.h5 2>/dev/null || true; cleanup' EXIT
    cp ck.h5 ck.orig
    rc=0
    run_mpi 2 r.out r.err "$H2NN_MPI" --quiet "${train[@]}" --overwrite --checkpoint ck.h5 good.h5 || rc=$?
    no_crash r.err
    [ "$rc" -ne 0 ] || fail "exit 0 although the checkpoint could not be renamed into place"
    line=$(grep '^h2nn_mpi: error:' r.err || true)
    [ "$(printf '%s\n' "$line" | grep -c .)" -eq 1 ] || { cat r.err >&2; fail "expected one error line"; }
    printf '%s\n' "$line" | grep -q 'rename.*ck\.h5.*kept as' || fail "the line does not say where the new file is: $line"
    kept=$(printf '%s\n' "$line" | sed -n 's/.*kept as \([^ ;]*\).*/\1/p')
    [ -s "$kept" ] || fail "the kept file '$kept' does not exist"
    "$H2NN_HISTORY" "$kept" > h.txt || fail "the kept file $kept does not load"
    [ "$(tail -n 1 h.txt | awk '{print $1}')" = 5 ] || fail "the kept file does not hold the 5 iterations"
    cmp -s ck.h5 ck.orig || fail "the old checkpoint changed" ;;
  disk_full)
    mkdir full
    if ! mount -t tmpfs -o size=1m tmpfs full 2>/dev/null; then
      echo "SKIP: cannot mount a tmpfs here (not root?); the disk-full test needs it"; exit 77
    fi
    trap 'umount full 2>/dev/null || true; cleanup' EXIT
    head -c 300000 /dev/urandom > full/old.h5; cp full/old.h5 old.orig
    run_ok 2 gen "$H2NN_GEN" rte --n 320 --samples 200 --seed 1 --output big.h5
    for what in train predict gen; do
      case $what in
        train) cmd=("$H2NN_MPI" --quiet --iterations 3 --batch-size 16 --checkpoint full/old.h5 big.h5); p=h2nn_mpi ;;
        predict) cmd=("$H2NN_MPI" --predict ck.h5 --all --output full/old.h5 good.h5); p=h2nn_mpi ;;
        gen) cmd=("$H2NN_GEN" rte --n 320 --samples 2000 --output full/old.h5); p=h2nn_gen ;;
      esac
      for np in 1 2 3; do
        rc=0
        run_mpi_ranks "$np" o.txt e.txt "${cmd[@]}" || rc=$?
        [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$what np=$np: hang"
        no_crash e.txt
        check_rank_statuses "$np" "$what np=$np did not exit"
        n=$(grep -c "^$p: error:" e.txt || true)
        [ "$n" -eq 1 ] || { cat e.txt >&2; fail "$what np=$np: $n error lines, expected 1"; }
        grep "^$p: error:" e.txt | grep -q 'No space left on device' || { cat e.txt >&2; fail "$what np=$np: no system reason"; }
        cmp -s full/old.h5 old.orig || fail "$what np=$np: the existing file was changed"
        left=$(find full -name '*.tmp.*' -o -name '*.lock' | head -n 3)
        [ -z "$left" ] || fail "$what np=$np: left behind: $left"
        note "$what np=$np: $(grep "^$p: error:" e.txt)"
      done
    done ;;
  sigkill)
    K=${ARGS[1]:-20}
    run_ok 2 gen "$H2NN_GEN" rte --n 640 --samples 200 --seed 1 --output in.h5
    run_ok 2 first "$H2NN_MPI" --quiet --iterations 2 --batch-size 16 --overwrite --checkpoint ck.h5 in.h5
    maxtmp=0 midwrite=0 ino_before=$(stat -c %i ck.h5) tmp_before=""
    for ((k = 1; k <= K; k++)); do
      # past the start-up (about 1 s here), then every moment is mostly inside a write
      delay=$(awk -v s="$k" 'BEGIN { srand(s * 7919); printf "%.2f", 0.9 + 0.7 * rand() }')
      setsid "$MPIEXEC" "$NPFLAG" 2 "${MPIFLAGS_ARR[@]}" "$H2NN_MPI" --quiet --resume ck.h5 --iterations 100000000 \
        --batch-size 16 --checkpoint-every 1 --checkpoint ck.h5 in.h5 > k.out 2> k.err &
      pid=$!
      sleep "$delay"
      # the launcher and every rank at once: Open MPI puts each rank in a
      # process group of its own (a killed mpirun's ranks ran on for up to a
      # second, finishing a write), so kill the whole session setsid made
      pkill -KILL -s "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      for _ in $(seq 50); do pgrep -s "$pid" > /dev/null || break; sleep 0.1; done
      ! pgrep -s "$pid" > /dev/null || fail "kill $k: processes of the killed job still run"
      ntmp=$(find . -maxdepth 1 -name 'ck.h5.tmp.*' | wc -l)
      [ "$ntmp" -gt "$maxtmp" ] && maxtmp=$ntmp
      [ "$ntmp" -gt 0 ] && midwrite=$((midwrite + 1))
      # if the killed run renamed a checkpoint into place (a new inode), that
      # successful write removed every temporary file of the runs before it
      ino=$(stat -c %i ck.h5)
      if [ "$ino" != "$ino_before" ]; then
        for t in $tmp_before; do [ ! -e "$t" ] || fail "kill $k: $t outlived a successful write"; done
      fi
      ino_before=$ino
      tmp_before=$(find . -maxdepth 1 -name 'ck.h5.tmp.*')
      # the last good checkpoint always loads (its history and its model)
      timeout 30 "$H2NN_HISTORY" ck.h5 > h.txt 2> h.err || { cat h.err >&2; fail "kill $k (after ${delay} s): ck.h5 does not load"; }
    done
    note "$K kills, $midwrite of them with a checkpoint write under way; at most $maxtmp temporary files at once"
    # the next successful write removes every stale temporary file, also the
    # lock-test file Open MPI's MPI-IO makes next to a file it opens (a writer
    # killed in between leaves it): one planted here for a dead process
    touch ck.h5.tmp.2147480001.0.locktest.1
    run_ok 2 after "$H2NN_MPI" --quiet --resume ck.h5 --iterations 100000000 --batch-size 16 --checkpoint ck.h5 \
      --checkpoint-every 1 --eval-every 0 --iterations "$(( $(tail -n 1 h.txt | awk '{print $1}') + 2 ))" in.h5
    left=$(find . -maxdepth 1 -name 'ck.h5.tmp.*' | head -n 3)
    [ -z "$left" ] || fail "temporary files outlived the next successful write: $left"
    run_ok 2 predict "$H2NN_MPI" --predict ck.h5 --output pred.h5 in.h5 ;;
  *) fail "unknown case '$CASE'" ;;
esac
note "ok"
