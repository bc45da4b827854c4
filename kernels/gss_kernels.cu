// GSS on the device (docs/algorithms.md §10.3 steps 8-12). The arithmetic is entirely that of the
// GSMAP_HD functions in gss/marker_score_math.hpp (prepare_group, cell_gene_gss, the numpy exp of
// gss_float_math.hpp), compiled with -fmad=false and IEEE division, so every stored f16 value is
// bit-identical to MarkerScoreCalculator on the CPU. These kernels only lay out the parallel loops.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "gsmap/device/cuda_api.hpp"
#include "gsmap/gss/marker_score_math.hpp"

namespace gsmap::device::cuda {
namespace {

constexpr int kGenesPerBlock = 256;
constexpr int kRowMinimumThreads = 256;
constexpr unsigned kMaxGridY = 65535;

// One block per row (grid-stride over rows): minimum of the f16 bit patterns, the same value as
// row_minimum_f16 (a minimum does not depend on the order it is taken in).
__global__ void row_minimum_kernel(const std::uint16_t* __restrict__ log_ranks, std::size_t n_rows,
                                   std::size_t n_genes, std::uint16_t* __restrict__ row_minimum) {
  __shared__ unsigned warp_minimum[kRowMinimumThreads / 32];
  for (std::size_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const std::uint16_t* row = log_ranks + r * n_genes;
    unsigned minimum = 0xffffu;
    for (std::size_t g = threadIdx.x; g < n_genes; g += blockDim.x) {
      minimum = min(minimum, static_cast<unsigned>(row[g]));
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      minimum = min(minimum, __shfl_down_sync(0xffffffffu, minimum, offset));
    }
    if (threadIdx.x % 32 == 0) warp_minimum[threadIdx.x / 32] = minimum;
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < kRowMinimumThreads / 32; ++w) minimum = min(minimum, warp_minimum[w]);
      row_minimum[r] = static_cast<std::uint16_t>(minimum);
    }
    __syncthreads();
  }
}

// Shared-memory layout of one cell: its prepared groups, then per slot w_hat, row, weight and the
// fraction flag (largest alignment first).
struct CellScratch {
  gss::PreparedGroup* groups;
  float* w_hat;
  std::int32_t* rows;
  std::uint16_t* weights;
  std::uint8_t* in_fraction;

  __device__ CellScratch(unsigned char* base, int n_groups, int slots) {
    groups = reinterpret_cast<gss::PreparedGroup*>(base);
    w_hat = reinterpret_cast<float*>(groups + n_groups);
    rows = reinterpret_cast<std::int32_t*>(w_hat + slots);
    weights = reinterpret_cast<std::uint16_t*>(rows + slots);
    in_fraction = reinterpret_cast<std::uint8_t*>(weights + slots);
  }
};

std::size_t cell_scratch_bytes(int n_groups, int slots) {
  return sizeof(gss::PreparedGroup) * n_groups +
         (sizeof(float) + sizeof(std::int32_t) + sizeof(std::uint16_t) + sizeof(std::uint8_t)) *
             static_cast<std::size_t>(slots);
}

// Block (x, y): genes [x * 256, x * 256 + 256) of cell y (grid-stride over cells). The cell's
// groups are prepared once per block in shared memory (thread b prepares group b: step 8 is a
// short sequential sum in slot order); then each thread scores one gene. Neighbouring threads
// read neighbouring genes of the same log-rank row, so every slot's row is read coalesced.
__global__ void marker_score_kernel(MarkerScoreArgs a) {
  extern __shared__ __align__(16) unsigned char shared[];
  const CellScratch cell(shared, a.n_groups, a.slots_per_cell);
  const int group_slots = a.slots_per_cell / a.n_groups;
  const auto pooling =
      a.hierarchical ? gss::MarkerScorePooling::kHierarchical : gss::MarkerScorePooling::kWholeRow;
  const std::size_t gene = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const float g_mean = gene < a.n_genes ? a.g_mean[gene] : 0.0f;
  const float frac = gene < a.n_genes ? a.frac[gene] : 0.0f;

  for (std::size_t c = blockIdx.y; c < a.n_cells; c += gridDim.y) {
    const std::size_t first_slot = c * static_cast<std::size_t>(a.slots_per_cell);
    for (int s = threadIdx.x; s < a.slots_per_cell; s += blockDim.x) {
      cell.rows[s] = a.slot_rows[first_slot + s];
      cell.weights[s] = a.weights[first_slot + s];
    }
    __syncthreads();
    if (static_cast<int>(threadIdx.x) < a.n_groups) {
      const int offset = static_cast<int>(threadIdx.x) * group_slots;
      cell.groups[threadIdx.x] =
          gss::prepare_group(cell.weights + offset, cell.rows + offset, group_slots, pooling,
                             cell.w_hat + offset, cell.in_fraction + offset);
    }
    __syncthreads();
    if (blockIdx.x == 0 && threadIdx.x == 0) {
      bool any_valid = false;
      for (int b = 0; b < a.n_groups; ++b) any_valid = any_valid || cell.groups[b].valid;
      a.zero_weight[c] = any_valid ? 0 : 1;
    }
    if (gene < a.n_genes) {
      a.gss[c * a.n_genes + gene] =
          gss::cell_gene_gss(cell.groups, a.n_groups, a.log_ranks, a.n_genes, a.row_minimum, gene,
                             g_mean, frac, a.use_expression_fraction);
    }
    __syncthreads();  // the next cell overwrites the scratch
  }
}

}  // namespace

void launch_row_minimum(const std::uint16_t* log_ranks, std::size_t n_rows, std::size_t n_genes,
                        std::uint16_t* row_minimum, Stream stream) {
  if (n_rows == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>(n_rows, 1u << 20));
  row_minimum_kernel<<<blocks, kRowMinimumThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      log_ranks, n_rows, n_genes, row_minimum);
  GSMAP_CUDA_CHECK_LAUNCH("row_minimum_kernel");
}

void launch_marker_scores(const MarkerScoreArgs& args, Stream stream) {
  if (args.n_cells == 0) return;
  const std::size_t gene_blocks = (args.n_genes + kGenesPerBlock - 1) / kGenesPerBlock;
  const dim3 grid(static_cast<unsigned>(std::max<std::size_t>(gene_blocks, 1)),
                  static_cast<unsigned>(std::min<std::size_t>(args.n_cells, kMaxGridY)));
  const std::size_t shared_bytes = cell_scratch_bytes(args.n_groups, args.slots_per_cell);
  if (shared_bytes > 48 * 1024) {
    GSMAP_CUDA_CALL(cudaFuncSetAttribute(marker_score_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(shared_bytes)));
  }
  marker_score_kernel<<<grid, kGenesPerBlock, shared_bytes, static_cast<cudaStream_t>(stream)>>>(
      args);
  GSMAP_CUDA_CHECK_LAUNCH("marker_score_kernel");
}

}  // namespace gsmap::device::cuda
