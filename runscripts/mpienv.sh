# mpienv.sh — sourced by the run scripts: Open MPI settings for this machine.
# One BLAS thread per rank; as root Open MPI needs explicit permission; more
# ranks than cores need --oversubscribe (set through the MCA variable so that
# every mpirun below inherits it).
export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# With the munge package installed but its daemon not running (e.g. SLURM's
# packages on a workstation), PMIx's munge security plugin retries the
# socket for ~2.3 s at every launch; skip the plugin unless munged is up.
if [ -e /usr/sbin/munged ] && ! pgrep -x munged > /dev/null 2>&1; then
  export PMIX_MCA_psec=^munge
fi
# Shared-memory messages up to 32 KB go eagerly (default 4 KB): a halo box
# of the close map is 10 KB, and above the eager limit Open MPI's vader
# transport needs a rendezvous and a cross-process copy (CMA) for each one —
# 10-12 % of an iteration at N = 1280 on 2 ranks (docs/performance.md).
export OMPI_MCA_btl_vader_eager_limit=${OMPI_MCA_btl_vader_eager_limit:-32768}
