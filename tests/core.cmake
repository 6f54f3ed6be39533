# Core unit tests: geometry, the network in double precision, optimizer.
h2nn_check_test(check_error check_error.c h2nn_util)
h2nn_check_test(test_tree test_tree.c h2nn_geom)
h2nn_check_test(test_model test_model.c h2nn_model_d)
h2nn_check_test(test_model_float test_model_float.c h2nn_model_f)
h2nn_check_test(test_gemm test_gemm.c h2nn_core_f)

# Distribution: every split P = P_d x P_m of 1, 2, 3, 4, 8 and 16 ranks against one
# rank (8 and 16 model-parallel ranks exercise one and two coarse levels).
h2nn_check_test(test_dist test_dist.c h2nn_model_d)
foreach(np 2 3 4 8 16)
  add_test(NAME test_dist_np${np} COMMAND ${H2NN_MPIEXEC} ${np} ${H2NN_MPI_FLAGS} $<TARGET_FILE:test_dist>)
  set_tests_properties(test_dist_np${np} PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 300)
endforeach()
# ... whose assertions agree across ranks: a failure on one rank is reported by all, no hang
add_test(NAME test_dist_assert_agree COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/dist/dist_assert_agree.sh
         ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:test_dist>)
set_tests_properties(test_dist_assert_agree PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 150)

# Distribution through the program: the same losses on 1..8 ranks, checkpoints
# moving between rank counts, clean failures (not with H2NN_CORE_ONLY: no programs).
if(H2NN_CORE_ONLY)
  return()
endif()
add_test(NAME dist_agreement COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/dist/dist_agreement.sh ${MPIEXEC_EXECUTABLE}
         $<TARGET_FILE:h2nn_mpi> $<TARGET_FILE:h2nn_gen> $<TARGET_FILE:h2nn_history>)
add_test(NAME dist_error COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/dist/dist_error.sh ${MPIEXEC_EXECUTABLE}
         $<TARGET_FILE:h2nn_mpi> $<TARGET_FILE:h2nn_gen>)
set_tests_properties(dist_agreement dist_error PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 400)

# The --max-time parser (util/duration.c).
h2nn_check_test(check_duration check_duration.c h2nn_util)
