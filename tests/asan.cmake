# The sanitizer subset (label "asan"), the last stage of runscripts/test.sh:
# a second build, build-asan/, configured with -DH2NN_SANITIZE=ON (ASan +
# UBSan, -O1), builds only the h2nn_asan_deps target and runs `ctest -L asan`.
# Kept small (the whole suite must stay under 10 minutes on 2 cores) but
# covering every file reader and the training loop:
#   readers   check_input, check_input_mpi (input files, checkpoints and
#             history, unit tests), fuzz_replay_input / fuzz_replay_checkpoint
#             (the seed corpus and every fixed finding: hostile input files,
#             checkpoints and histories in-process), and the bad_input cases
#             below (the same readers through the programs, on 2 ranks;
#             hdf5_*: the sandboxed pre-read h2nn_h5check, itself built with
#             the sanitizers, refuses files on which libhdf5 crashes or loops
#             — there ASan reports libhdf5's own invalid access and aborts the
#             pre-read, which is the refusal the test expects)
#   writers   gen_cli + check_genfile (h2nn_gen), checkpoint_roundtrip
#             (checkpoints, --predict outputs)
#   training  checkpoint_roundtrip (30 iterations on 2 ranks, --predict on 1
#             and 3), faults_diverge (resume, divergence, the finite checks
#             before every write), faults_vlen_attr (h5py-style attributes)
# Time limits are scaled by 3 there (sanitized code runs 2-4x slower).
set(h2nn_asan_tests
    check_input check_input_mpi gen_cli check_genfile bad_input_setup checkpoint_roundtrip faults_diverge
    faults_vlen_attr fuzz_replay_input fuzz_replay_checkpoint)
foreach(c not_hdf5 truncated_hdf5 huge_declared resume_damaged predict_damaged leaf_size_2p31
          ckpt_activation_array ckpt_points_extra_cols ckpt_history_2d ckpt_step_negative
          predict_ckpt_output_mean_2d hdf5_heap_loop hdf5_vlen_segv h5check_missing)
  list(APPEND h2nn_asan_tests bad_input_${c})
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
# what the subset runs: built alone in build-asan/ (not the benchmarks, the
# double-precision unit tests, ...), which halves the sanitized build's time
add_custom_target(h2nn_asan_deps)
add_dependencies(h2nn_asan_deps h2nn_mpi h2nn_gen h2nn_history h2nn_mkinput check_input check_input_mpi
                 check_genfile fuzz_replay_input fuzz_replay_checkpoint)
