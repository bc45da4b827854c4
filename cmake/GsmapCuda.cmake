# GSMAP_CUDA=AUTO builds the CUDA backend when nvcc is found (also without a GPU: CI compiles the
# kernels); ON requires it; OFF skips it. NCCL is used when found next to the toolkit.
set(GSMAP_HAVE_CUDA OFF)
set(GSMAP_HAVE_NCCL OFF)
if(NOT GSMAP_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)   # "native" needs a GPU at configure time
  endif()
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)   # CMake 3.25 knows no CUDA20 flag for nvcc
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(GSMAP_HAVE_CUDA ON)
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} $ENV{NCCL_HOME}/include)
    find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} $ENV{NCCL_HOME}/lib)
    if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
      add_library(NCCL::nccl UNKNOWN IMPORTED)
      set_target_properties(NCCL::nccl PROPERTIES IMPORTED_LOCATION ${NCCL_LIBRARY}
                            INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
      set(GSMAP_HAVE_NCCL ON)
    endif()
  elseif(GSMAP_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GSMAP_CUDA=ON but no CUDA compiler (nvcc) was found; "
                        "install the CUDA toolkit or configure with -DGSMAP_CUDA=OFF")
  endif()
endif()
message(STATUS "gsmap-mpi: CUDA backend ${GSMAP_HAVE_CUDA}, NCCL ${GSMAP_HAVE_NCCL}")
