# GSMAP_CUDA=AUTO builds the CUDA backend when nvcc is found (also without a GPU: CI compiles the
# kernels); ON requires it; OFF skips it. NCCL is never linked: src/device/nccl.cpp opens
# libnccl.so.2 at run time (docs/gpu.md "NCCL"), so GSMAP_HAVE_NCCL (--version's "NCCL: on") only
# says that the NCCL path is compiled in, which it is with the CUDA backend.
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
    set(GSMAP_HAVE_NCCL ON)
  elseif(GSMAP_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GSMAP_CUDA=ON but no CUDA compiler (nvcc) was found; "
                        "install the CUDA toolkit or configure with -DGSMAP_CUDA=OFF")
  endif()
endif()
message(STATUS "gsmap-mpi: CUDA backend ${GSMAP_HAVE_CUDA}, NCCL ${GSMAP_HAVE_NCCL}")
