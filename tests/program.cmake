# Program tests: h2nn_mpi / h2nn_gen / h2nn_history / h2nn_plot run as a user
# would (under mpiexec), driven by the bash scripts in tests/programs/.
#
# Every script gets the binaries as KEY=VALUE arguments before "--" (see
# tests/programs/common.sh), works in its own fresh temporary directory and
# wraps every MPI launch in `timeout`, so a hang fails the test; the ctest
# TIMEOUT is the outer guard.  The bad_input_* tests share read-only inputs
# made once by the fixture test bad_input_setup.
# Small input files, valid or broken in exactly one way (see its header).
add_executable(h2nn_mkinput programs/h2nn_mkinput.c)
target_link_libraries(h2nn_mkinput PRIVATE h2nn_app)

set(H2NN_PROG_DIR ${CMAKE_CURRENT_SOURCE_DIR}/programs)
set(H2NN_PROG_FIXTURE_DIR ${CMAKE_CURRENT_BINARY_DIR}/program_fixture)
string(REPLACE ";" " " h2nn_mpi_flags_str "${H2NN_MPI_FLAGS}")
set(H2NN_PROG_ARGS
  "mpiexec=${MPIEXEC_EXECUTABLE}"
  "npflag=${MPIEXEC_NUMPROC_FLAG}"
  "mpiflags=${h2nn_mpi_flags_str}"
  "h2nn_mpi=$<TARGET_FILE:h2nn_mpi>"
  "h2nn_gen=$<TARGET_FILE:h2nn_gen>"
  "h2nn_history=$<TARGET_FILE:h2nn_history>"
  "h2nn_mkinput=$<TARGET_FILE:h2nn_mkinput>"
  "h2nn_plot=${PROJECT_BINARY_DIR}/h2nn_plot"
  "fixture=${H2NN_PROG_FIXTURE_DIR}")

# h2nn_program_test(NAME SCRIPT TIMEOUT ARGS...)
function(h2nn_program_test name script timeout)
  add_test(NAME ${name}
           COMMAND bash ${H2NN_PROG_DIR}/${script} ${H2NN_PROG_ARGS} -- ${ARGN})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT ${timeout})
endfunction()

# --- bad input: every case fails cleanly, names the culprit, does not hang
# and leaves an existing checkpoint untouched.
h2nn_program_test(bad_input_setup bad_input_setup.sh 120)
set_tests_properties(bad_input_setup PROPERTIES FIXTURES_SETUP h2nn_bad_input)
set(h2nn_bad_input_cases
  # case                     ranks
  missing_file               2
  not_hdf5                   2
  truncated_hdf5             2
  truncated_hdf5             3
  missing_dataset            2
  wrong_dtype                2
  wrong_rank                 2
  n_mismatch                 2
  nan_train_input            2
  nan_train_input            3
  inf_test_output            2
  zero_output                2
  empty_train                2
  batch_too_large            2
  rank_0                     2
  zeta_0                     2
  leaf_size_0                2
  leaf_size_gt_n             2
  eta_0                      2
  eta_negative               2
  unknown_option             2
  malformed_number           2
  activation_foo             2
  checkpoint_no_dir          2
  checkpoint_is_dir          2
  resume_other_geometry      2
  resume_other_geometry      3
  resume_damaged             2
  predict_damaged            2
  predict_no_output          2
  predict_output_is_dir      2
  resume_conflicting_rank    2
  synthetic_with_input       2
  max_time_negative          2
  max_time_malformed         2
  resume_auto_no_checkpoint  2
  resume_auto_damaged        2
  resume_auto_foreign        2
  resume_auto_foreign        3
  checkpoint_backwards       2
  # hostile input and faults: each defect of the probe keeps a case
  huge_declared              2
  root_group_damaged         2
  root_group_damaged         3
  fifo_input                 2
  uint8_samples              2
  attr_string_leaf_size      2
  attr_string_lr             2
  attr_compound_rank         2
  leaf_size_2p31             2
  leaf_size_2p32_80          2
  synthetic_2p32             2
  iterations_int64_max       2
  eta_subnormal              2
  checkpoint_fifo            2
  checkpoint_chardev         2
  checkpoint_is_input        2
  checkpoint_is_input_link   2
  predict_output_is_checkpoint 2
  predict_output_is_input    2
  ckpt_activation_array      2
  ckpt_points_extra_cols     2
  ckpt_points_2n_rows        2
  ckpt_history_2d            2
  ckpt_history_scalar        2
  ckpt_step_negative         2
  ckpt_n_huge                2
  ckpt_leaf_size_0           2
  ckpt_leaf_size_neg         2
  ckpt_leaf_size_string      2
  ckpt_close_hidden_neg      2
  ckpt_output_scale_inf      2
  ckpt_nan_weights           2
  ckpt_inf_leaf_v            2
  ckpt_adam_v_negative       3
  predict_ckpt_output_mean_2d 2
  predict_ckpt_activation_array 2
  predict_ckpt_nan_weights   2
  # libhdf5 crashes and loops, refused by the sandboxed pre-read (src/io/h5sandbox.c)
  hdf5_heap_loop             1
  hdf5_heap_loop             2
  hdf5_vlen_segv             1
  hdf5_vlen_segv             2
  hdf5_vlen_loop             1
  hdf5_vlen_loop             2
  predict_hdf5_heap_loop     2
  predict_hdf5_vlen_segv     1
  predict_hdf5_vlen_loop     2
  input_hdf5_vlen_segv       2
  # found by the fuzzers after the pre-read landed (docs/reliability.md, "Findings")
  input_hdf5_root_segv       1
  input_hdf5_root_segv       2
  predict_hdf5_vlen_overlap  2
  h5check_missing            2)

list(LENGTH h2nn_bad_input_cases h2nn_n)
math(EXPR h2nn_last "${h2nn_n} - 1")
foreach(i RANGE 0 ${h2nn_last} 2)
  math(EXPR j "${i} + 1")
  list(GET h2nn_bad_input_cases ${i} case)
  list(GET h2nn_bad_input_cases ${j} np)
  set(tname bad_input_${case})
  if(NOT np EQUAL 2)
    set(tname bad_input_${case}_np${np})
  endif()
  h2nn_program_test(${tname} bad_input.sh 120 ${case} ${np})
  set_tests_properties(${tname} PROPERTIES FIXTURES_REQUIRED h2nn_bad_input)
endforeach()

# --- checkpoints, resume, data parallelism, end to end
h2nn_program_test(checkpoint_roundtrip checkpoint_roundtrip.sh 120)
h2nn_program_test(resume_equals_uninterrupted resume_equals_uninterrupted.sh 120)
h2nn_program_test(data_parallel_agreement data_parallel_agreement.sh 120)
h2nn_program_test(rte_smoke rte_smoke.sh 180)
h2nn_program_test(synthetic_runs_dim1 synthetic_runs.sh 120 1 30)
h2nn_program_test(synthetic_runs_dim2 synthetic_runs.sh 120 2 20)
h2nn_program_test(help_and_json help_and_json.sh 120)
h2nn_program_test(init_kernel init_kernel.sh 120)

# --- kernel sets: each one the CPU runs gives the same losses; one it lacks fails cleanly
h2nn_program_test(isa_sets isa_sets.sh 240)

# --- surviving the cluster: real signals (to mpirun, to one rank), SIGUSR2
# checkpoints, signals during checkpoint writes, the --max-time budget, and
# --resume auto continuing bitwise (tests/programs/signals.sh)
foreach(case term_mpirun usr1_rank int_rank usr2 during_write kill_during_write max_time before_start)
  h2nn_program_test(signals_${case} signals.sh 300 ${case})
endforeach()

# --- the SLURM batch script on a real SLURM started by the test (munged,
# slurmctld, slurmd in a temporary directory): warning signal, checkpoint,
# requeue, resume, completion (tests/slurm/slurm_requeue.sh; 2-4 minutes)
add_test(NAME slurm_requeue
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/slurm_requeue.sh ${H2NN_PROG_ARGS} -- ${PROJECT_SOURCE_DIR})
set_tests_properties(slurm_requeue PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 720 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# --- the installed library: a consumer built against it (CMake and pkg-config)
# reproduces --predict on 1 and 3 ranks
h2nn_program_test(library_consumer library_consumer.sh 120
  ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/lib ${CMAKE_C_COMPILER})

# --- tools/h2nn.py (numpy + h5py) against h2nn_mpi --predict.  Python 3 with
# numpy and h5py is a test dependency (runscripts/setup.sh installs Debian's
# python3-numpy and python3-h5py): the first interpreter that imports both
# (Debian's /usr/bin/python3 before any other python3 on PATH; set
# H2NN_PYTHON3 to choose one); with none the test fails and says why.
if(NOT H2NN_PYTHON3)
  find_program(h2nn_path_python3 NAMES python3)
  foreach(py /usr/bin/python3 ${h2nn_path_python3})
    execute_process(COMMAND ${py} -c "import numpy, h5py" RESULT_VARIABLE h2nn_py_rc OUTPUT_QUIET ERROR_QUIET)
    if(h2nn_py_rc EQUAL 0)
      set(H2NN_PYTHON3 ${py} CACHE FILEPATH "Python 3 with numpy and h5py (tests of tools/h2nn.py)")
      break()
    endif()
  endforeach()
  if(NOT H2NN_PYTHON3)
    message(WARNING "no python3 with numpy and h5py: the python_predict test will fail (apt-get install python3-numpy python3-h5py)")
  endif()
endif()
if(H2NN_PYTHON3)
  set(h2nn_python ${H2NN_PYTHON3})
else()
  set(h2nn_python python3)
endif()
h2nn_program_test(python_predict python_predict.sh 120 ${h2nn_python})
h2nn_program_test(dense_fit dense_fit.sh 60 ${h2nn_python})
h2nn_program_test(accuracy_resume accuracy_resume.sh 360)
h2nn_check_test(test_validation test_validation.c h2nn_app)
h2nn_program_test(auto_choices auto_choices.sh 180)

# --- faults: locks, divergence, h5py strings, a full disk, SIGKILL during checkpoints
foreach(case lock diverge vlen_attr history_huge rename_fails disk_full)
  h2nn_program_test(faults_${case} faults.sh 180 ${case})
  set_tests_properties(faults_${case} PROPERTIES FIXTURES_REQUIRED h2nn_bad_input SKIP_RETURN_CODE 77)
endforeach()
h2nn_program_test(faults_sigkill faults.sh 300 sigkill 20)
set_tests_properties(faults_sigkill PROPERTIES FIXTURES_REQUIRED h2nn_bad_input)
