# The git hash is read at configure time; a tarball without .git reports "unknown".
find_package(Git QUIET)
set(GSMAP_GIT_HASH "unknown")
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE _hash
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _hash)
    set(GSMAP_GIT_HASH ${_hash})
  endif()
endif()
if(GSMAP_HAVE_CUDA)
  set(GSMAP_HAVE_CUDA_BOOL true)
else()
  set(GSMAP_HAVE_CUDA_BOOL false)
endif()
if(GSMAP_HAVE_NCCL)
  set(GSMAP_HAVE_NCCL_BOOL true)
else()
  set(GSMAP_HAVE_NCCL_BOOL false)
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.hpp.in
               ${CMAKE_BINARY_DIR}/generated/gsmap/version.hpp @ONLY)
