# Every dependency comes from Debian packages (scripts/install-deps.sh); nothing downloads.
find_package(MPI REQUIRED COMPONENTS C)
# Open MPI's deprecated C++ bindings are pulled in by mpi.h (also through hdf5.h) otherwise.
add_compile_definitions(OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "gsmap-mpi needs a parallel (MPI) build of HDF5, but the HDF5 found (${HDF5_VERSION}, "
    "${HDF5_C_INCLUDE_DIRS}) is serial. On Debian/Ubuntu install libhdf5-openmpi-dev "
    "(scripts/install-deps.sh does), or point HDF5_ROOT at a parallel HDF5.")
endif()

find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(TBB REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(DEFLATE REQUIRED IMPORTED_TARGET libdeflate)
# The results report's images (src/report): Debian's libcairo2-dev.
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)
if(GSMAP_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(GSMAP_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()
