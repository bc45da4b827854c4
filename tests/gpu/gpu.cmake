# GPU tests.
#  * test_gpu: GoogleTest, GPU-versus-CPU equality of GssDevice / LdscDevice and backend selection;
#    the GPU cases skip when no CUDA device is visible (here and in CI), so it builds and passes
#    with and without the CUDA backend.
#  * gpu_selftest (only with the CUDA backend, not part of `all`): the same comparisons plus
#    throughput figures, as one program that needs neither MPI, HDF5, spdlog, fmt nor gtest at run
#    time (static libstdc++ and cudart), for GPU machines that lack those libraries
#    (docs/development.md §4.2):  cmake --build <dir> --target gpu_selftest
set(_gpu_dir ${CMAKE_CURRENT_LIST_DIR})

add_executable(test_gpu ${_gpu_dir}/test_gpu.cpp ${_gpu_dir}/gpu_cases.cpp)
target_link_libraries(test_gpu PRIVATE gsmap_device gsmap_gss gsmap_ldsc GTest::gtest_main
                                       gsmap_warnings)
target_compile_options(test_gpu PRIVATE -ffp-contract=off)
gtest_discover_tests(test_gpu PROPERTIES ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS gpu
                     DISCOVERY_TIMEOUT 60)

if(GSMAP_HAVE_CUDA)
  file(GLOB _gpu_kernel_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/*.cu)
  add_executable(gpu_selftest EXCLUDE_FROM_ALL
    ${_gpu_dir}/gpu_selftest.cpp
    ${_gpu_dir}/gpu_cases.cpp
    ${PROJECT_SOURCE_DIR}/src/device/device_selection.cpp
    ${PROJECT_SOURCE_DIR}/src/device/gss_device.cpp
    ${PROJECT_SOURCE_DIR}/src/device/host_staging.cpp
    ${PROJECT_SOURCE_DIR}/src/device/ldsc_device.cpp
    ${PROJECT_SOURCE_DIR}/src/gss/marker_score.cpp
    ${PROJECT_SOURCE_DIR}/src/ldsc/regression.cpp
    ${PROJECT_SOURCE_DIR}/src/ldsc/cpu_simd.cpp
    ${_gpu_kernel_sources})
  target_include_directories(gpu_selftest PRIVATE ${PROJECT_SOURCE_DIR}/include
                                                  ${PROJECT_BINARY_DIR}/generated)
  # fmt header-only: the CPU reference and the device classes format their error messages.
  target_compile_definitions(gpu_selftest PRIVATE GSMAP_WITH_CUDA=1 FMT_HEADER_ONLY=1)
  target_compile_options(gpu_selftest PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -fmad=false>)
  target_link_libraries(gpu_selftest PRIVATE CUDA::cudart_static Eigen3::Eigen gsmap_warnings)
  target_link_options(gpu_selftest PRIVATE -static-libstdc++ -static-libgcc -Wl,--as-needed)
endif()
