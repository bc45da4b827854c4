#pragma once
// The narrow interface between host code (src/device/*.cpp) and the CUDA kernels (kernels/*.cu).
// No CUDA type crosses it, so the host side compiles with the ordinary C++ compiler; it is only
// built and linked when GSMAP_WITH_CUDA is defined (the rest of the program asks
// device/backend.hpp). Every function throws gsmap::ComputeError naming the CUDA call, file, line
// and CUDA's message, except the noexcept ones (used by destructors), which ignore errors.
//
// Device pointers are plain pointers; a Stream is a cudaStream_t. All copies and launches are
// asynchronous on the given stream; synchronize() waits and reports errors of earlier launches.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gsmap::device::cuda {

// ---------------------------------------------------------------------------------------------
// Devices, streams, memory (kernels/device_info.cu).

// Number of usable CUDA devices; 0 on any error (no driver, no device).
int device_count();
// cudaSetDevice for the calling host thread (CUDA binds the current device per thread).
void set_device(int device);
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)".
std::string describe_device(int device);
// The device's PCI bus id ("0000:19:00.0"): with the host name, what tells two ranks' GPUs apart.
std::string pci_bus_id(int device);

using Stream = void*;
Stream create_stream();  // non-blocking with respect to the legacy default stream
void destroy_stream(Stream stream) noexcept;
void synchronize(Stream stream);

void* device_alloc(std::size_t bytes);
void device_free(void* pointer) noexcept;
// Page-locked host memory: copies from it run at full bus speed and truly asynchronously (the
// driver stages pageable memory through its own pinned buffers).
void* host_alloc_pinned(std::size_t bytes);
void host_free_pinned(void* pointer) noexcept;
void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes, Stream stream);
void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes, Stream stream);

// ---------------------------------------------------------------------------------------------
// GSS (kernels/gss_kernels.cu): docs/algorithms.md §10.3 steps 8-12 through the GSMAP_HD functions
// of gss/marker_score.hpp, one thread per (cell, gene).

struct MarkerScoreArgs {
  std::size_t n_cells = 0;
  std::size_t n_rows = 0;
  std::size_t n_genes = 0;
  int slots_per_cell = 0;
  int n_groups = 0;  // 1 (whole row) or S (hierarchical)
  bool hierarchical = false;
  bool use_expression_fraction = true;
  // Inputs (device): log ranks n_rows x n_genes f16 bits; slot rows and f16 weights
  // n_cells x slots_per_cell; row minima n_rows; G_Mean and frac n_genes.
  const std::uint16_t* log_ranks = nullptr;
  const std::int32_t* slot_rows = nullptr;
  const std::uint16_t* weights = nullptr;
  const std::uint16_t* row_minimum = nullptr;
  const float* g_mean = nullptr;
  const float* frac = nullptr;
  // Outputs (device): GSS n_cells x n_genes f16 bits; per cell 1 if every group had weight 0.
  std::uint16_t* gss = nullptr;
  std::uint8_t* zero_weight = nullptr;
};

// row_minimum[r] = minimum f16 bits of log-rank row r (0xffff for an empty row).
void launch_row_minimum(const std::uint16_t* log_ranks, std::size_t n_rows, std::size_t n_genes,
                        std::uint16_t* row_minimum, Stream stream);
void launch_marker_scores(const MarkerScoreArgs& args, Stream stream);

// ---------------------------------------------------------------------------------------------
// Spatial LDSC (kernels/ldsc_kernels.cu): docs/algorithms.md §7, §8 through the GSMAP_HD functions
// of ldsc/regression_math.hpp, in the operation order of ldsc::regress_spots.

struct SpotRegressionArgs {
  // Trait (device arrays of m entries; design m x (n_features - 1), row-major).
  std::int64_t m = 0;
  int n_blocks = 0;
  std::int64_t block_size = 0;
  int n_features = 0;
  double mean_chisq = 0.0;
  double sum_baseline_times_n = 0.0;
  double nbar = 0.0;
  const double* n = nullptr;
  const double* baseline_sum = nullptr;
  const double* ld_term = nullptr;
  const double* chisq = nullptr;
  const double* design = nullptr;
  const std::int64_t* ld_rows = nullptr;  // m rows of the spot-LD matrix
  // Chunk: spot LD (n_ld_rows x n_spots f32, SNP-major). This launch handles the spots
  // [spot_begin, spot_begin + tile_spots).
  const float* ld = nullptr;
  std::int64_t n_spots = 0;
  std::int64_t spot_begin = 0;
  std::int64_t tile_spots = 0;
  // Work (device): h/M per tile spot; block moments n_blocks x moment_count x tile_spots;
  // jackknife work tile_spots x jackknife_work_size (only read for n_features outside the
  // register kernels, see has_register_kernel()).
  double* h_over_m = nullptr;
  double* block_moments = nullptr;
  double* jackknife_work = nullptr;
  // Results (device arrays of n_spots, written at spot_begin..): beta, se, z, p, -log10 p,
  // full-data beta, singular flag.
  double* beta = nullptr;
  double* se = nullptr;
  double* z = nullptr;
  double* p = nullptr;
  double* neg_log10_p = nullptr;
  double* beta_full = nullptr;
  std::uint8_t* singular = nullptr;
};

// Feature counts P with a register-resident kernel; others run the global-memory kernel.
bool has_register_kernel(int n_features);
// Largest P the global-memory kernel accepts.
int max_features();
void launch_spot_regression(const SpotRegressionArgs& args, Stream stream);

}  // namespace gsmap::device::cuda
