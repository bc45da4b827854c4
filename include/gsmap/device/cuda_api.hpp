#pragma once
// The narrow interface between host code and the CUDA kernels (kernels/*.cu). Only compiled in
// when GSMAP_WITH_CUDA is defined; the rest of the program asks device/backend.hpp.
namespace gsmap::device::cuda {

// Number of usable CUDA devices; 0 on any error (no driver, no device).
int device_count();

}  // namespace gsmap::device::cuda
