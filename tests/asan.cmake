# The sanitizer subset (label "asan"): every file reader (input files,
# checkpoints, history; unit tests, the bad_input cases, the fuzz corpus
# replay), the writers, and the training loop with checkpoints and resume.
# CI (.ci/run) runs it in a second build, build-asan/, configured with
# -DH2NN_SANITIZE=ON: `ctest -L asan`.  Time limits are scaled there by
# H2NN_SANITIZE (sanitized code runs 2-4x slower).
set(h2nn_asan_tests check_input check_input_mpi gen_cli check_genfile bad_input_setup checkpoint_roundtrip
    resume_equals_uninterrupted faults_lock faults_diverge faults_vlen_attr fuzz_replay_input
    fuzz_replay_checkpoint)
get_property(h2nn_all_tests DIRECTORY PROPERTY TESTS)
foreach(t ${h2nn_all_tests})
  if(t MATCHES "^bad_input_" AND NOT t MATCHES "_np3$")
    list(APPEND h2nn_asan_tests ${t})
  endif()
endforeach()
foreach(t ${h2nn_asan_tests})
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY LABELS asan)
    if(H2NN_SANITIZE)
      # MPI and PMIx keep allocations to the end (not ours): no leak report;
      # a corrupt HDF5 header may ask for a huge block: malloc returns NULL
      set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
                   "ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0:abort_on_error=1"
                   "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" "RUN_TIMEOUT=240")
      get_test_property(${t} TIMEOUT h2nn_to)
      if(h2nn_to)
        math(EXPR h2nn_to "${h2nn_to} * 3")
        set_tests_properties(${t} PROPERTIES TIMEOUT ${h2nn_to})
      endif()
    endif()
  endif()
endforeach()
