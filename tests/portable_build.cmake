# portable_build.cmake — configure-level test of the build flags (run by ctest
# as `cmake -DSRC=... -DWORK=... -P portable_build.cmake`): configures three
# fresh build trees of the sources and reads their compile commands.
#   default                            no -march anywhere (a binary built on one
#                                      node runs on every node); on x86-64 the
#                                      AVX2 / AVX-512 flags only on their kernel
#                                      files
#   -DH2NN_ARCH=native                 -march=native on every file
#   -DCMAKE_C_FLAGS_RELEASE=<user's>   the user's flags used as given
cmake_minimum_required(VERSION 3.25)
if(NOT SRC OR NOT WORK)
  message(FATAL_ERROR "usage: cmake -DSRC=<source dir> -DWORK=<scratch dir> -P portable_build.cmake")
endif()

# configure(NAME ARGS...) -> variable cmds_NAME: compile_commands.json's text
function(configure name)
  set(dir ${WORK}/${name})
  file(REMOVE_RECURSE ${dir})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${dir} -DCMAKE_BUILD_TYPE=Release -DH2NN_CORE_ONLY=ON
                          -DH2NN_BUILD_TESTS=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configure ${name} failed:\n${out}")
  endif()
  file(READ ${dir}/compile_commands.json cmds)
  set(cmds_${name} "${cmds}" PARENT_SCOPE)
  file(REMOVE_RECURSE ${dir})
endfunction()

# command(TEXT FILE OUT): the compile command of source FILE (a path suffix)
function(command text file out)
  string(REGEX MATCH "\"command\": \"[^\"]*/${file}\"" cmd "${text}")
  if(NOT cmd)
    message(FATAL_ERROR "no compile command for ${file}")
  endif()
  set(${out} "${cmd}" PARENT_SCOPE)
endfunction()

configure(default)
if(cmds_default MATCHES "-march")
  string(REGEX MATCH "[^\"]*-march[^\"]*" bad "${cmds_default}")
  message(FATAL_ERROR "the default build has a -march flag: ${bad}")
endif()
command("${cmds_default}" "src/core/gemm.c" gemm)
if(gemm MATCHES "-mavx")
  message(FATAL_ERROR "the default build compiles gemm.c with AVX flags: ${gemm}")
endif()
if(CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  command("${cmds_default}" "src/core/kernels_avx2.c" k2)
  command("${cmds_default}" "src/core/kernels_avx512.c" k5)
  if(NOT k2 MATCHES "-mavx2" OR NOT k2 MATCHES "-mfma" OR k2 MATCHES "avx512")
    message(FATAL_ERROR "kernels_avx2.c not compiled for AVX2 + FMA only: ${k2}")
  endif()
  if(NOT k5 MATCHES "-mavx512f")
    message(FATAL_ERROR "kernels_avx512.c not compiled for AVX-512: ${k5}")
  endif()
endif()
message(STATUS "default build: no -march; ISA flags only on the kernel files")

configure(native -DH2NN_ARCH=native)
string(REGEX MATCHALL "\"command\": \"[^\"]*\"" all "${cmds_native}")
foreach(c IN LISTS all)
  if(NOT c MATCHES "-march=native")
    message(FATAL_ERROR "-DH2NN_ARCH=native: a file without -march=native: ${c}")
  endif()
endforeach()
message(STATUS "-DH2NN_ARCH=native: -march=native on every file")

configure(user "-DCMAKE_C_FLAGS_RELEASE=-O2 -march=x86-64-v2 -DH2NN_USER_FLAGS")
command("${cmds_user}" "src/core/gemm.c" gemm)
if(NOT gemm MATCHES "-O2 -march=x86-64-v2 -DH2NN_USER_FLAGS" OR gemm MATCHES "-O3")
  message(FATAL_ERROR "the user's CMAKE_C_FLAGS_RELEASE was not used as given: ${gemm}")
endif()
message(STATUS "a user's CMAKE_C_FLAGS_RELEASE is used as given")
