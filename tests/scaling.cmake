# Scaling studies (issue 14): the planner against real runs, the study driver
# end to end, and the SimGrid simulation build (sim_run, skipped only without SimGrid).
if(NOT TARGET h2nn_app)
  return()
endif()
set(H2NN_SCALING_DIR ${CMAKE_CURRENT_SOURCE_DIR}/scaling)
foreach(t plan_memory scaling_study)
  add_test(NAME ${t} COMMAND bash ${H2NN_SCALING_DIR}/${t}.sh ${H2NN_PROG_ARGS} --)
  set_tests_properties(${t} PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 240)
endforeach()

# The SimGrid simulation build (built into <build>/sim when smpicc is installed)
add_test(NAME sim_run COMMAND bash ${H2NN_SCALING_DIR}/sim_run.sh ${H2NN_PROG_ARGS} -- ${PROJECT_BINARY_DIR}/sim/h2nn_mpi)
set_tests_properties(sim_run PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77)
