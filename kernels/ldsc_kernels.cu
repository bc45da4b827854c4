// Spatial LDSC per-spot regression on the device (docs/algorithms.md §7, §8). The arithmetic is
// that of ldsc/regression_math.hpp, applied in the operation order of the CPU driver
// (src/ldsc/regression.cpp), compiled with -fmad=false: h, the block moments, the jackknife and
// therefore beta / se / z are the same f64 bits as ldsc::regress_spots; p and -log10 p go through
// CUDA's erfc / log10, which may differ from glibc's in the last place.
//
// Three launches per tile of spots:
//   1. heritability: per spot the SNP loop in order (an f64 sum whose order fixes its bits), fed
//      through shared memory by a whole thread block;
//   2. block moments: one thread per (spot, jackknife block), the block's SNPs in order, the
//      moment record in registers (P in 3..8) or in global memory (other P);
//   3. jackknife + statistics: one thread per spot.
// Threads along x are consecutive spots, so spot-LD rows (SNP-major) are read coalesced.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"
#include "gsmap/device/cuda_api.hpp"
#include "gsmap/ldsc/regression_math.hpp"

namespace gsmap::device::cuda {
namespace {

constexpr int kSpotsPerWarp = 32;
constexpr int kBlocksPerThreadBlock = 8;  // jackknife blocks per thread block (y)
constexpr int kSpotThreads = 32;  // jackknife: one warp per block spreads small chunks over SMs
constexpr int kMaxFeatures = 32;

// Pass 1: h/M per spot from sum_i L_ij N_i, summed in SNP order like the CPU (that order fixes
// the bits, so the sum is one sequential chain of f64 additions per spot). The whole block fetches
// a stage of kHeritabilityStage SNPs and forms the products L_ij N_i (each rounded once, as on the
// CPU) into shared memory while warp 0 (lane = spot) adds up the previous stage, eight loads ahead
// of its additions; the chain of additions is then the only serial part.
constexpr int kHeritabilityWarps = 32;
constexpr int kHeritabilityRowsPerThread = 8;
constexpr int kHeritabilityStage = kHeritabilityWarps * kHeritabilityRowsPerThread;  // SNPs
constexpr int kHeritabilityBatch = 8;
constexpr std::size_t kHeritabilityShared =
    2 * kHeritabilityStage * kSpotsPerWarp * sizeof(double);  // 128 KiB: two stages of products

__global__ void __launch_bounds__(kSpotsPerWarp* kHeritabilityWarps)
    heritability_kernel(SpotRegressionArgs a) {
  extern __shared__ __align__(16) unsigned char shared[];
  double* products = reinterpret_cast<double*>(shared);  // [2][stage][32 spots]
  const int x = static_cast<int>(threadIdx.x), y = static_cast<int>(threadIdx.y);
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * kSpotsPerWarp + x;
  const bool active = t < a.tile_spots;
  const float* ld = a.ld + a.spot_begin + (active ? t : 0);
  const std::int64_t stages = (a.m + kHeritabilityStage - 1) / kHeritabilityStage;

  float ld_next[kHeritabilityRowsPerThread];
  double n_next[kHeritabilityRowsPerThread];
  auto fetch = [&](std::int64_t stage) {
#pragma unroll
    for (int r = 0; r < kHeritabilityRowsPerThread; ++r) {
      const std::int64_t i = stage * kHeritabilityStage + y + kHeritabilityWarps * r;
      const bool present = i < a.m;
      ld_next[r] = present && active ? ld[a.ld_rows[i] * a.n_spots] : 0.0f;
      n_next[r] = present ? a.n[i] : 0.0;
    }
  };
  auto stash = [&](int buffer) {
#pragma unroll
    for (int r = 0; r < kHeritabilityRowsPerThread; ++r) {
      const int k = y + kHeritabilityWarps * r;
      products[(buffer * kHeritabilityStage + k) * kSpotsPerWarp + x] =
          static_cast<double>(ld_next[r]) * n_next[r];
    }
  };

  double sum = 0.0;
  if (stages > 0) {
    fetch(0);
    stash(0);
  }
  __syncthreads();
  for (std::int64_t stage = 0; stage < stages; ++stage) {
    const int buffer = static_cast<int>(stage & 1);
    if (stage + 1 < stages) fetch(stage + 1);
    if (y == 0) {
      const std::int64_t left = a.m - stage * kHeritabilityStage;
      const int count = left < kHeritabilityStage ? static_cast<int>(left) : kHeritabilityStage;
      const double* p = products + buffer * kHeritabilityStage * kSpotsPerWarp + x;
      double batch[kHeritabilityBatch];
#pragma unroll
      for (int r = 0; r < kHeritabilityBatch; ++r) batch[r] = p[r * kSpotsPerWarp];
      for (int k = 0; k < count; k += kHeritabilityBatch) {
        double next[kHeritabilityBatch];
#pragma unroll
        for (int r = 0; r < kHeritabilityBatch; ++r) {
          const int j = k + kHeritabilityBatch + r;
          next[r] = j < kHeritabilityStage ? p[j * kSpotsPerWarp] : 0.0;
        }
#pragma unroll
        for (int r = 0; r < kHeritabilityBatch; ++r) {
          if (k + r < count) sum += batch[r];
        }
#pragma unroll
        for (int r = 0; r < kHeritabilityBatch; ++r) batch[r] = next[r];
      }
    }
    if (stage + 1 < stages) stash(buffer ^ 1);
    __syncthreads();
  }
  if (y == 0 && active) {
    const double mean_xn = (sum + a.sum_baseline_times_n) / static_cast<double>(a.m);
    a.h_over_m[t] = ldsc::clipped_heritability(a.mean_chisq, mean_xn) / ldsc::kHeritabilityM;
  }
}

// u = [spot LD, design row] and the squared weight of SNP i for one spot (regress_tile's pass 2).
template <int kP>
__device__ __forceinline__ double snp_row(const SpotRegressionArgs& a, const float* ld,
                                          double h_over_m, std::int64_t i, int n_features,
                                          double* u) {
  const int P = kP > 0 ? kP : n_features;
  const double l = static_cast<double>(ld[a.ld_rows[i] * a.n_spots]);
  u[0] = l;
  const double* xb = a.design + i * (P - 1);
#pragma unroll
  for (int c = 1; c < (kP > 0 ? kP : kMaxFeatures); ++c) {
    if (kP == 0 && c >= P) break;
    u[c] = xb[c - 1];
  }
  return ldsc::squared_regression_weight(l + a.baseline_sum[i], h_over_m * a.n[i], a.ld_term[i]);
}

// Moment record of block b for one spot, kept in registers.
template <int kP>
__global__ void block_moments_kernel(SpotRegressionArgs a) {
  constexpr int kMoments = ldsc::moment_count(kP);
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int b = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (t >= a.tile_spots || b >= a.n_blocks) return;
  const float* ld = a.ld + a.spot_begin + t;
  const double h_over_m = a.h_over_m[t];
  double acc[kMoments];
#pragma unroll
  for (int k = 0; k < kMoments; ++k) acc[k] = 0.0;
  double u[kP];
  const std::int64_t end = (b + 1) * a.block_size;
  // Unrolled so that the loads of later SNPs are issued before the moments of earlier ones need
  // them (the additions into acc stay in SNP order).
#pragma unroll 4
  for (std::int64_t i = b * a.block_size; i < end; ++i) {
    const double q = snp_row<kP>(a, ld, h_over_m, i, kP, u);
    ldsc::accumulate_moments(kP, q, u, a.chisq[i], acc, 1);
  }
  double* out = a.block_moments + static_cast<std::int64_t>(b) * kMoments * a.tile_spots + t;
#pragma unroll
  for (int k = 0; k < kMoments; ++k) out[k * a.tile_spots] = acc[k];
}

// Any P up to kMaxFeatures: the record accumulates in global memory (zeroed by the host), stride
// tile_spots, exactly as accumulate_moments is written for.
__global__ void block_moments_global_kernel(SpotRegressionArgs a) {
  const int P = a.n_features;
  const int n_moments = ldsc::moment_count(P);
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int b = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (t >= a.tile_spots || b >= a.n_blocks) return;
  const float* ld = a.ld + a.spot_begin + t;
  const double h_over_m = a.h_over_m[t];
  double* acc = a.block_moments + static_cast<std::int64_t>(b) * n_moments * a.tile_spots + t;
  double u[kMaxFeatures];
  const std::int64_t end = (b + 1) * a.block_size;
  for (std::int64_t i = b * a.block_size; i < end; ++i) {
    const double q = snp_row<0>(a, ld, h_over_m, i, P, u);
    ldsc::accumulate_moments(P, q, u, a.chisq[i], acc, static_cast<int>(a.tile_spots));
  }
}

__device__ __forceinline__ void store_spot(const SpotRegressionArgs& a, std::int64_t t,
                                           const ldsc::JackknifeEstimate& e) {
  const std::int64_t spot = a.spot_begin + t;
  const ldsc::SpotStatistics s = ldsc::spot_statistics(e.mean / a.nbar, e.se / a.nbar);
  a.beta[spot] = s.beta;
  a.se[spot] = s.se;
  a.z[spot] = s.z;
  a.p[spot] = s.p;
  a.neg_log10_p[spot] = s.neg_log10_p;
  a.beta_full[spot] = e.full / a.nbar;
  a.singular[spot] = e.ok ? 0 : 1;
}

template <int kP>
__global__ void jackknife_kernel(SpotRegressionArgs a) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= a.tile_spots) return;
  double work[ldsc::jackknife_work_size(kP)];
  const ldsc::JackknifeEstimate e = ldsc::jackknife_first_coefficient(
      kP, a.n_blocks, a.block_moments + t, static_cast<int>(a.tile_spots), work);
  store_spot(a, t, e);
}

__global__ void jackknife_global_kernel(SpotRegressionArgs a) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= a.tile_spots) return;
  double* work = a.jackknife_work + t * ldsc::jackknife_work_size(a.n_features);
  const ldsc::JackknifeEstimate e = ldsc::jackknife_first_coefficient(
      a.n_features, a.n_blocks, a.block_moments + t, static_cast<int>(a.tile_spots), work);
  store_spot(a, t, e);
}

template <int kP>
void launch_register_kernels(const SpotRegressionArgs& a, dim3 moments_grid, dim3 moments_block,
                             unsigned spot_blocks, cudaStream_t stream) {
  block_moments_kernel<kP><<<moments_grid, moments_block, 0, stream>>>(a);
  GSMAP_CUDA_CHECK_LAUNCH("block_moments_kernel");
  jackknife_kernel<kP><<<spot_blocks, kSpotThreads, 0, stream>>>(a);
  GSMAP_CUDA_CHECK_LAUNCH("jackknife_kernel");
}

}  // namespace

bool has_register_kernel(int n_features) { return n_features >= 3 && n_features <= 8; }

int max_features() { return kMaxFeatures; }

void launch_spot_regression(const SpotRegressionArgs& a, Stream stream_handle) {
  if (a.tile_spots <= 0) return;
  if (a.n_features < 1 || a.n_features > kMaxFeatures) {
    throw ComputeError("GPU spatial LDSC: " + std::to_string(a.n_features) +
                       " regression features; the device kernels take 1 to " +
                       std::to_string(kMaxFeatures) + ". Fix: run with --no-gpu");
  }
  const auto stream = static_cast<cudaStream_t>(stream_handle);
  const auto spot_blocks = static_cast<unsigned>((a.tile_spots + kSpotThreads - 1) / kSpotThreads);
  const auto warp_blocks = static_cast<unsigned>((a.tile_spots + kSpotsPerWarp - 1) / kSpotsPerWarp);
  // More than 48 KiB of dynamic shared memory needs an opt-in (per device, so on every launch).
  GSMAP_CUDA_CALL(cudaFuncSetAttribute(heritability_kernel,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(kHeritabilityShared)));
  heritability_kernel<<<warp_blocks, dim3(kSpotsPerWarp, kHeritabilityWarps), kHeritabilityShared,
                        stream>>>(a);
  GSMAP_CUDA_CHECK_LAUNCH("heritability_kernel");

  const dim3 moments_block(kSpotsPerWarp, kBlocksPerThreadBlock);
  const dim3 moments_grid(
      static_cast<unsigned>((a.tile_spots + kSpotsPerWarp - 1) / kSpotsPerWarp),
      static_cast<unsigned>((a.n_blocks + kBlocksPerThreadBlock - 1) / kBlocksPerThreadBlock));
  switch (a.n_features) {
    case 3: launch_register_kernels<3>(a, moments_grid, moments_block, spot_blocks, stream); return;
    case 4: launch_register_kernels<4>(a, moments_grid, moments_block, spot_blocks, stream); return;
    case 5: launch_register_kernels<5>(a, moments_grid, moments_block, spot_blocks, stream); return;
    case 6: launch_register_kernels<6>(a, moments_grid, moments_block, spot_blocks, stream); return;
    case 7: launch_register_kernels<7>(a, moments_grid, moments_block, spot_blocks, stream); return;
    case 8: launch_register_kernels<8>(a, moments_grid, moments_block, spot_blocks, stream); return;
    default: break;
  }
  const std::size_t record_bytes = static_cast<std::size_t>(a.n_blocks) *
                                   ldsc::moment_count(a.n_features) * a.tile_spots * sizeof(double);
  GSMAP_CUDA_CALL(cudaMemsetAsync(a.block_moments, 0, record_bytes, stream));
  block_moments_global_kernel<<<moments_grid, moments_block, 0, stream>>>(a);
  GSMAP_CUDA_CHECK_LAUNCH("block_moments_global_kernel");
  jackknife_global_kernel<<<spot_blocks, kSpotThreads, 0, stream>>>(a);
  GSMAP_CUDA_CHECK_LAUNCH("jackknife_global_kernel");
}

}  // namespace gsmap::device::cuda
