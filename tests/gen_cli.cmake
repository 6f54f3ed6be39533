# gen_cli.cmake — command-line contract of h2nn_gen (run with cmake -P).
# Inputs: GEN (program), DIR (scratch directory), MPIEXEC, NPFLAG.
# 1. every bad option: exit status != 0 and exactly one stderr line
#    "h2nn_gen: error: ..." (on one rank; and once under mpiexec -np 2);
# 2. rte and kernel files from 1 and 3 ranks are byte-identical;
# 3. leaves rte.h5, custom.h5, kernel_grid.h5, kernel_sphere.h5 in DIR for
#    check_genfile.
set(MPIRUN ${MPIEXEC} --oversubscribe --bind-to none)
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})

function(expect_error what)
  execute_process(COMMAND ${GEN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 60)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${what}: h2nn_gen ${ARGN} succeeded, expected an error")
  endif()
  if(NOT err MATCHES "^h2nn_gen: error: [^\n]+\n$")
    message(FATAL_ERROR "${what}: expected one line 'h2nn_gen: error: ...', got:\n${err}")
  endif()
  message(STATUS "${what}: ${err}")
endfunction()

set(OUT --output ${DIR}/x.h5)
expect_error("unknown option" rte --n 16 --samples 6 ${OUT} --bogus 3)
expect_error("malformed number" rte --n 1x6 --samples 6 ${OUT})
expect_error("malformed real" rte --n 16 --samples 6 ${OUT} --test-fraction half)
expect_error("n < 2" rte --n 1 --samples 6 ${OUT})
expect_error("samples < 2" custom --n 16 --samples 1 ${OUT})
expect_error("missing output" rte --n 16 --samples 6)
expect_error("missing value" rte --n 16 --samples 6 --output)
expect_error("unknown generator" heat --n 16 --samples 6 ${OUT})
expect_error("missing generator" --n 16 --samples 6 ${OUT})
expect_error("unknown kernel" kernel --kernel laplace --n 16 --samples 6 ${OUT})
expect_error("unknown geometry" kernel --geometry cube --n 16 --samples 6 ${OUT})
expect_error("unknown dim" kernel --dim 4 --n 16 --samples 6 ${OUT})
expect_error("sphere needs 3-D" kernel --geometry sphere --dim 2 --n 16 --samples 6 ${OUT})
expect_error("kernel option on rte" rte --kernel log --n 16 --samples 6 ${OUT})
expect_error("test fraction" rte --n 16 --samples 6 --test-fraction 1.5 ${OUT})
expect_error("empty test set" rte --n 16 --samples 2 --test-fraction 0.1 ${OUT})
expect_error("unwritable directory" rte --n 16 --samples 6 --output ${DIR}/no/such/dir/x.h5)
if(EXISTS ${DIR}/x.h5)
  message(FATAL_ERROR "a failed run left ${DIR}/x.h5 behind")
endif()

# Under mpiexec: all ranks exit (no hang), non-zero, the message once.
execute_process(COMMAND ${MPIRUN} ${NPFLAG} 2 ${GEN} rte --n 1 --samples 6 ${OUT}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out TIMEOUT 120)
string(REGEX MATCHALL "h2nn_gen: error:" hits "${err}")
list(LENGTH hits nhits)
if(rc EQUAL 0 OR NOT nhits EQUAL 1)
  message(FATAL_ERROR "mpiexec -np 2 with --n 1: status ${rc}, stderr:\n${err}")
endif()

execute_process(COMMAND ${GEN} --help RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "--test-fraction" OR NOT out MATCHES "--geometry")
  message(FATAL_ERROR "--help: status ${rc}, output:\n${out}")
endif()

function(run_gen np)
  execute_process(COMMAND ${MPIRUN} ${NPFLAG} ${np} ${GEN} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 240)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "h2nn_gen ${ARGN} on ${np} ranks failed (${rc}):\n${out}\n${err}")
  endif()
  if(NOT out MATCHES "h2nn_gen: wrote ")
    message(FATAL_ERROR "h2nn_gen ${ARGN}: no end summary:\n${out}")
  endif()
endfunction()

function(same_file a b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a} ${b} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${a} and ${b} differ: the data depend on the number of ranks")
  endif()
endfunction()

run_gen(1 rte --n 64 --samples 30 --seed 5 --output ${DIR}/rte.h5)
run_gen(3 rte --n 64 --samples 30 --seed 5 --output ${DIR}/rte_np3.h5)
same_file(${DIR}/rte.h5 ${DIR}/rte_np3.h5)
# an existing file is replaced
run_gen(2 rte --n 64 --samples 30 --seed 5 --output ${DIR}/rte_np3.h5)
same_file(${DIR}/rte.h5 ${DIR}/rte_np3.h5)

run_gen(2 custom --n 80 --samples 24 --seed 2 --output ${DIR}/custom.h5)
run_gen(2 kernel --n 200 --dim 2 --geometry grid --kernel log --samples 12 --seed 3
        --output ${DIR}/kernel_grid.h5)
run_gen(3 kernel --n 150 --geometry sphere --kernel gaussian --samples 9 --seed 4
        --test-fraction 0.5 --output ${DIR}/kernel_sphere.h5)
run_gen(1 kernel --n 120 --dim 3 --geometry random --kernel inverse --samples 8 --seed 6
        --output ${DIR}/kernel_random.h5)

file(GLOB leftovers ${DIR}/*.tmp.*)
if(leftovers)
  message(FATAL_ERROR "temporary files left behind: ${leftovers}")
endif()
