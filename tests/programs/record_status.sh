#!/usr/bin/env bash
# record_status.sh DIR CMD... — one MPI rank's wrapper (run under mpiexec):
# runs CMD and writes its exit status to DIR/rank_status.<rank>, so a test
# can check that EVERY rank ended by itself, and how.  The rank comes from
# the launcher's environment (Open MPI, else PMI/PMIx); "unknown" otherwise.
# When the launcher is stopped (timeout: a hang), CMD is killed with it and
# no status is written.
set -uo pipefail
dir=$1
shift
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-${PMIX_RANK:-unknown}}}
"$@" &
child=$!
trap 'kill -KILL "$child" 2>/dev/null; exit 143' TERM INT HUP
rc=0
wait "$child" || rc=$?
echo "$rc" > "$dir/rank_status.$rank"
exit "$rc"
