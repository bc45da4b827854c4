add_library(gsmap_warnings INTERFACE)
target_compile_options(gsmap_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GSMAP_WERROR}>>:-Werror>)

# GSMAP_SANITIZE (e.g. "address,undefined" or "thread"; the asan and tsan presets of
# CMakePresets.json) instruments every C/C++ target of the project: the options are directory-wide,
# set before src/, tests/ and bench/ are added, and apply to C and C++ compiles and to every link.
# nvcc does not take them, so they are refused together with the CUDA backend. Every UBSan finding
# is fatal (-fno-sanitize-recover=all), so a test that triggers one fails. The runtime options and
# the suppressions for third-party reports are in tests/sanitizers/ (scripts/sanitize.sh).
if(GSMAP_SANITIZE)
  if(GSMAP_HAVE_CUDA)
    message(FATAL_ERROR "GSMAP_SANITIZE=${GSMAP_SANITIZE} needs -DGSMAP_CUDA=OFF: nvcc code cannot "
                        "be instrumented (use the asan or tsan preset of CMakePresets.json)")
  endif()
  if(GSMAP_SANITIZE MATCHES "thread" AND GSMAP_SANITIZE MATCHES "address|leak")
    message(FATAL_ERROR "GSMAP_SANITIZE=${GSMAP_SANITIZE}: ThreadSanitizer cannot be combined with "
                        "AddressSanitizer or LeakSanitizer; configure two build directories")
  endif()
  set(_gsmap_san -fsanitize=${GSMAP_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_gsmap_san}>")
  add_link_options(-fsanitize=${GSMAP_SANITIZE})
  message(STATUS "gsmap-mpi: sanitizers ${GSMAP_SANITIZE} on every C/C++ target")
endif()
