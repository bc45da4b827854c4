#pragma once
// The spatial-LDSC engine (docs/algorithms.md §7): given the common resources, the prepared traits,
// a source of GSS rows and a compute backend, it regresses every one of the rank's spots for every
// trait. It owns the algorithm end to end (plan -> spot tiles -> regression -> per-spot results);
// the pipeline step (pipeline/spatial_ldsc.cpp) only adds paths, resume, logging and outputs.
//
//   LdscProblem   what every backend needs, built once: the SNP plan (union of the traits' kept
//                 SNPs) and, per trait, u = W_T^T N (a gene vector, f64) for mean(x N) = (u.g +
//                 sum a_i N_i) / m.
//   GssSource     where GSS rows come from (an HDF5 file today; a device-resident block later).
//   LdscBackend   how a chunk of spots is regressed: the CPU one-pass tiles (ldsc/engine.cpp) or
//                 the CUDA regression (device/ldsc_device.hpp). Created once by a factory; no
//                 caller branches on which one it is.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gsmap/core/staged_pipeline.hpp"
#include "gsmap/ldsc/cpu_simd.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/math/f16.hpp"

namespace gsmap::ldsc {

// Everything the backends share for one run; read-only after construction (thread-safe).
struct LdscProblem {
  LdscProblem(const CommonResources& common, std::vector<const TraitData*> traits);

  const CommonResources* common;
  std::vector<const TraitData*> traits;
  SpotLdPlan plan;
  // Per trait: u[g] = sum_i N_i W_T[i, g] over the trait's kept SNPs in order (f64), g in
  // common.genes order.
  std::vector<std::vector<double>> gene_times_n;

  std::size_t n_traits() const { return traits.size(); }
};

// Source of GSS (marker-score) rows in the marker-score gene order (common.n_marker_genes wide).
class GssSource {
 public:
  virtual ~GssSource() = default;
  virtual std::int64_t n_spots() const = 0;
  // Width of a row (genes in marker-score order); must equal CommonResources::n_marker_genes.
  virtual std::int64_t n_genes() const = 0;
  virtual std::string describe() const = 0;
  // Rows of `spots` (indices in [0, n_spots()), any order) into `out`, spots.size() x n_genes()
  // f16 values, row-major, in the order of `spots`. May be called from several threads.
  virtual void read_rows(std::span<const std::int64_t> spots, math::f16_bits* out) const = 0;
};

// Rows held in memory (tests, small tools): n_spots x n_genes f16 values.
class InMemoryGssSource final : public GssSource {
 public:
  InMemoryGssSource(std::vector<math::f16_bits> rows, std::int64_t n_genes);
  std::int64_t n_spots() const override { return n_spots_; }
  std::int64_t n_genes() const override { return n_genes_; }
  std::string describe() const override { return "GSS rows in memory"; }
  void read_rows(std::span<const std::int64_t> spots, math::f16_bits* out) const override;

 private:
  std::vector<math::f16_bits> rows_;
  std::int64_t n_genes_ = 0, n_spots_ = 0;
};

// CPU seconds of a worker's thread (CPU backend; the CUDA backend reports wall seconds), summed
// over chunks.
struct BackendTimes {
  double spot_ld = 0.0;     // W . GSS^T (and the GSS transposition), once for all traits
  double regression = 0.0;  // h, block moments, jackknife, statistics of every trait
  double jackknife = 0.0;   // the part of `regression` spent in the jackknife and statistics
                            // (CPU backend; 0 where a backend does not split it)
};

// Regresses chunks of spots; one instance per compute worker (not thread-safe).
class LdscWorker {
 public:
  virtual ~LdscWorker() = default;
  // `gss`: n_spots rows of n_marker_genes f16 values. out[t] receives trait t's results for these
  // spots (resized by the worker). Results of a spot depend only on its GSS row.
  virtual void regress_chunk(const math::f16_bits* gss, std::int64_t n_spots,
                             std::vector<TraitChunkResult>& out, BackendTimes& times) = 0;
};

class LdscBackend {
 public:
  virtual ~LdscBackend() = default;
  virtual std::string name() const = 0;
  // Chunks are rounded up to a multiple of this many spots (the CPU backend's spot tile, so that
  // no tile is padded but the last one); results never depend on it.
  virtual std::int64_t chunk_multiple() const { return 1; }
  // Called once per compute worker, from the thread that will use the worker.
  virtual std::unique_ptr<LdscWorker> make_worker(const LdscProblem& problem) = 0;
};

// CPU one-pass tiles (docs/algorithms.md §7). Tile sizes only change speed, never results.
struct CpuBackendOptions {
  std::int64_t snp_tile = 256;  // plan rows per spot-LD tile
  std::int64_t spot_tile = 128;  // spots per tile (docs/performance.md: 64 -> 128 cut the spot LD ~1.2x)
  CpuSimd simd = CpuSimd::kAuto;
};
std::unique_ptr<LdscBackend> make_cpu_backend(const CpuBackendOptions& options = {});
// CUDA: spot LD on the host per chunk (compute_spot_ld), regression on the device
// (device::LdscDevice). Error(kUsage) at make_worker() when the binary has no CUDA.
std::unique_ptr<LdscBackend> make_cuda_backend();

struct EngineOptions {
  int read_workers = 1;     // threads reading GSS rows (the HDF5 reads are serialised anyway)
  int compute_workers = 1;  // each computes spot LD and regressions for its own chunks
  std::int64_t chunk_spots = 50;  // rounded up to a multiple of LdscBackend::chunk_multiple()
  std::string label = "spatial LDSC";
  // Called by a compute worker after each chunk with the number of spots it finished.
  std::function<void(std::int64_t)> on_chunk_done;
};

struct EngineResult {
  // Per trait (problem order): one result over all given spots, in the order of `spots`.
  std::vector<TraitChunkResult> traits;
  std::int64_t n_singular = 0;
  BackendTimes times;  // summed over workers
  core::PipelineReport report;
};

// Regresses `spots` (indices into `gss`, any order, need not be contiguous) for every trait of
// `problem`. Chunks are consecutive runs of `spots` of options.chunk_spots (rounded up, see
// LdscBackend::chunk_multiple); results do not depend
// on chunking, tiling, worker counts or the backend's SIMD choice. InputError when the GSS rows
// do not have the width the resources were built for.
EngineResult run_ldsc_engine(const LdscProblem& problem, const GssSource& gss,
                             LdscBackend& backend, std::span<const std::int64_t> spots,
                             const EngineOptions& options);

}  // namespace gsmap::ldsc
