# mpienv.sh — sourced by the run scripts: Open MPI settings for this machine.
# One BLAS thread per rank; as root Open MPI needs explicit permission; more
# ranks than cores need --oversubscribe (set through the MCA variable so that
# every mpirun below inherits it).
export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
