# Core unit tests: geometry, the network in double precision, optimizer.
h2nn_check_test(check_error check_error.c h2nn_util)
h2nn_check_test(test_tree test_tree.c h2nn_geom)
h2nn_check_test(test_model test_model.c h2nn_model_d)
h2nn_check_test(test_model_float test_model_float.c h2nn_model_f)
h2nn_check_test(test_gemm test_gemm.c h2nn_core_f)
# The build flags: the default build is portable (no -march), H2NN_ARCH and a
# user's CMAKE_C_FLAGS_RELEASE are honoured (configures three scratch trees).
add_test(NAME portable_build COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR}
         -DWORK=${CMAKE_CURRENT_BINARY_DIR}/portable_build -P ${CMAKE_CURRENT_SOURCE_DIR}/portable_build.cmake)
set_tests_properties(portable_build PROPERTIES TIMEOUT 300)

# Distribution: every split P = P_d x P_m of 1, 2, 3, 4, 8 and 16 ranks against one
# rank (8 and 16 model-parallel ranks exercise one and two coarse levels), and
# the splits with P_m >= 32 of 32 and 64 ranks (three to four coarse levels;
# oversubscribed, about 20 and 45 s here).
h2nn_check_test(test_dist test_dist.c h2nn_model_d)
foreach(np 2 3 4 8 16 32 64)
  add_test(NAME test_dist_np${np} COMMAND ${H2NN_MPIEXEC} ${np} ${H2NN_MPI_FLAGS} $<TARGET_FILE:test_dist>)
  set(env "${H2NN_TEST_ENV}")
  if(np GREATER 16)
    list(APPEND env H2NN_TEST_MIN_PM=32)
  endif()
  set_tests_properties(test_dist_np${np} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 300)
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
# A checkpoint written before the coarse tree was distributed (tests/data/) resumes.
add_test(NAME ckpt_before_coarse COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/dist/ckpt_before_coarse.sh ${MPIEXEC_EXECUTABLE}
         $<TARGET_FILE:h2nn_mpi> $<TARGET_FILE:h2nn_history> ${CMAKE_CURRENT_SOURCE_DIR}/data)
set_tests_properties(dist_agreement dist_error ckpt_before_coarse PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 400)

# The --max-time parser (util/duration.c).
h2nn_check_test(check_duration check_duration.c h2nn_util)
