# Data tests: HDF5 wrappers and input files, the RTE / custom / kernel data,
# and the h2nn_gen program.  Included by tests/CMakeLists.txt.

# Unit tests (one rank).
# Only the E1 reference of this test uses GSL; link libgsl alone (GSL::gsl
# would add libgslcblas, whose cblas_* would shadow OpenBLAS).
h2nn_check_test(check_rte check_rte.c h2nn_generators ${GSL_LIBRARY})
h2nn_check_test(check_datagen check_datagen.c h2nn_generators)
h2nn_check_test(check_input check_input.c h2nn_io)

# The collective reader on several ranks: every rank returns the same error.
h2nn_check_test(check_input_mpi check_input_mpi.c h2nn_io)
add_test(NAME check_input_mpi_np3
         COMMAND ${H2NN_MPIEXEC} 3 ${H2NN_MPI_FLAGS} $<TARGET_FILE:check_input_mpi>)
set_tests_properties(check_input_mpi_np3 PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 300)

# h2nn_gen: option errors (one line "h2nn_gen: error: ..." and a non-zero
# exit, also under mpiexec), rank-count independence (byte-identical files
# from 1 and 3 ranks), and the files that check_genfile validates.
set(H2NN_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/gen_files)
add_test(NAME gen_cli
         COMMAND ${CMAKE_COMMAND} -DGEN=$<TARGET_FILE:h2nn_gen> -DDIR=${H2NN_GEN_DIR}
                 "-DMPIEXEC=${MPIEXEC_EXECUTABLE}" "-DNPFLAG=${MPIEXEC_NUMPROC_FLAG}"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/gen_cli.cmake)
set_tests_properties(gen_cli PROPERTIES ENVIRONMENT "${H2NN_TEST_ENV}" TIMEOUT 300
                     FIXTURES_SETUP h2nn_gen_files)

# The generated files: layout, provenance attributes, and contents
# recomputed independently (sample g of the RTE set re-solved; custom and
# kernel outputs = A * inputs).
h2nn_check_test(check_genfile check_genfile.c h2nn_generators)
set_tests_properties(check_genfile PROPERTIES
                     ENVIRONMENT "${H2NN_TEST_ENV};H2NN_GEN_DIR=${H2NN_GEN_DIR}"
                     FIXTURES_REQUIRED h2nn_gen_files)
