#include "gsmap/ldsc/engine.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/memory.hpp"

namespace gsmap::ldsc {

using Index = std::int64_t;

LdscProblem::LdscProblem(const CommonResources& c, std::vector<const TraitData*> t)
    : common(&c), traits(std::move(t)), plan(c, traits) {
  // u = W_T^T N in f64, SNPs in the trait's order (docs/algorithms.md §7).
  const Index* outer = c.gene_weights.outerIndexPtr();
  const Index* gene = c.gene_weights.innerIndexPtr();
  const float* weight = c.gene_weights.valuePtr();
  gene_times_n.reserve(traits.size());
  for (const TraitData* trait : traits) {
    std::vector<double> u(c.genes.size(), 0.0);
    for (Index k = 0; k < trait->m(); ++k) {
      const Index row = trait->common_index[static_cast<std::size_t>(k)];
      const double n = trait->n[static_cast<std::size_t>(k)];
      for (Index e = outer[row]; e < outer[row + 1]; ++e)
        u[static_cast<std::size_t>(gene[e])] += n * static_cast<double>(weight[e]);
    }
    gene_times_n.push_back(std::move(u));
  }
}

InMemoryGssSource::InMemoryGssSource(std::vector<math::f16_bits> rows, std::int64_t n_genes)
    : rows_(std::move(rows)), n_genes_(n_genes) {
  if (n_genes_ < 1 || rows_.size() % static_cast<std::size_t>(n_genes_) != 0)
    throw ComputeError(fmt::format("GSS rows in memory: {} values are not rows of {} genes",
                                   rows_.size(), n_genes_));
  n_spots_ = static_cast<Index>(rows_.size()) / n_genes_;
}

void InMemoryGssSource::read_rows(std::span<const std::int64_t> spots, math::f16_bits* out) const {
  for (std::size_t i = 0; i < spots.size(); ++i) {
    if (spots[i] < 0 || spots[i] >= n_spots_)
      throw ComputeError(fmt::format("GSS row {} outside [0, {})", spots[i], n_spots_));
    std::memcpy(out + i * n_genes_, rows_.data() + spots[i] * n_genes_,
                static_cast<std::size_t>(n_genes_) * sizeof(math::f16_bits));
  }
}

namespace {

struct Chunk {
  Index offset = 0, count = 0;  // positions in `spots`
};
struct LoadedChunk {
  Chunk chunk;
  std::vector<math::f16_bits> gss;
};

}  // namespace

EngineResult run_ldsc_engine(const LdscProblem& problem, const GssSource& gss,
                             LdscBackend& backend, std::span<const std::int64_t> spots,
                             const EngineOptions& options) {
  const CommonResources& common = *problem.common;
  if (gss.n_genes() != common.n_marker_genes)
    throw InputError(gss.describe(), "",
                     fmt::format("GSS rows have {} genes; the LDSC resources were aligned to {} "
                                 "marker-score genes",
                                 gss.n_genes(), common.n_marker_genes),
                     "use the marker scores the resources were built from");
  if (options.chunk_spots < 1)
    throw UsageError(fmt::format("--spots-per-chunk-quick-mode {}: must be >= 1",
                                 options.chunk_spots));
  for (const Index s : spots)
    if (s < 0 || s >= gss.n_spots())
      throw ComputeError(fmt::format("spot {} outside [0, {}) of {}", s, gss.n_spots(),
                                     gss.describe()));

  const auto n = static_cast<Index>(spots.size());
  const std::size_t n_traits = problem.n_traits();
  EngineResult result;
  result.traits.resize(n_traits);
  for (auto& r : result.traits)
    for (auto* v : {&r.beta, &r.se, &r.z, &r.p, &r.neg_log10_p, &r.beta_full})
      v->assign(static_cast<std::size_t>(n), std::numeric_limits<double>::quiet_NaN());
  if (n == 0 || n_traits == 0) return result;

  const Index multiple = std::max<Index>(1, backend.chunk_multiple());
  const Index chunk_spots = (options.chunk_spots + multiple - 1) / multiple * multiple;
  std::vector<Chunk> chunks;
  for (Index a = 0; a < n; a += chunk_spots) chunks.push_back({a, std::min(chunk_spots, n - a)});

  const int n_workers = std::max(1, options.compute_workers);
  std::vector<std::unique_ptr<LdscWorker>> workers(static_cast<std::size_t>(n_workers));
  std::vector<BackendTimes> times(static_cast<std::size_t>(n_workers));
  std::vector<std::vector<TraitChunkResult>> scratch(static_cast<std::size_t>(n_workers));
  std::vector<std::atomic<Index>> singular(n_traits);
  const auto row_bytes = static_cast<std::int64_t>(common.n_marker_genes * sizeof(math::f16_bits));

  core::PipelineShape shape;
  shape.read_workers = std::max(1, options.read_workers);
  shape.compute_workers = n_workers;
  shape.write_workers = 0;
  shape.compute_input_queue_size = 2;  // up to 2 chunks waiting per compute worker
  shape.stage_names = {"GSS reader", "Spot LD + regression", "-"};
  core::PipelineStages<Chunk, LoadedChunk, int> stages;
  stages.read = [&](Chunk& c, int) {
    LoadedChunk lc;
    lc.chunk = c;
    lc.gss.resize(static_cast<std::size_t>(c.count * common.n_marker_genes));
    gss.read_rows(spots.subspan(static_cast<std::size_t>(c.offset),
                                static_cast<std::size_t>(c.count)),
                  lc.gss.data());
    core::MemoryLedger::instance().add("GSS chunks", c.count * row_bytes);
    return lc;
  };
  stages.compute = [&](LoadedChunk& lc, int w) {
    auto& worker = workers[static_cast<std::size_t>(w)];
    if (!worker) worker = backend.make_worker(problem);  // in the thread that uses it
    auto& out = scratch[static_cast<std::size_t>(w)];
    worker->regress_chunk(lc.gss.data(), lc.chunk.count, out, times[static_cast<std::size_t>(w)]);
    for (std::size_t t = 0; t < n_traits; ++t) {
      TraitChunkResult& dst = result.traits[t];
      const TraitChunkResult& src = out[t];
      const auto at = static_cast<std::ptrdiff_t>(lc.chunk.offset);
      std::copy(src.beta.begin(), src.beta.end(), dst.beta.begin() + at);
      std::copy(src.se.begin(), src.se.end(), dst.se.begin() + at);
      std::copy(src.z.begin(), src.z.end(), dst.z.begin() + at);
      std::copy(src.p.begin(), src.p.end(), dst.p.begin() + at);
      std::copy(src.neg_log10_p.begin(), src.neg_log10_p.end(), dst.neg_log10_p.begin() + at);
      std::copy(src.beta_full.begin(), src.beta_full.end(), dst.beta_full.begin() + at);
      singular[t] += src.n_singular;
    }
    core::MemoryLedger::instance().add("GSS chunks", -lc.chunk.count * row_bytes);
    lc.gss = {};
    if (options.on_chunk_done) options.on_chunk_done(lc.chunk.count);
    return 0;
  };
  {
    core::StagedPipeline<Chunk, LoadedChunk, int> pipeline(shape, stages);
    result.report =
        pipeline.run(std::move(chunks), options.label, static_cast<std::size_t>(chunk_spots));
  }
  workers.clear();
  for (std::size_t t = 0; t < n_traits; ++t) {
    result.traits[t].n_singular = singular[t].load();
    result.n_singular += result.traits[t].n_singular;
  }
  for (const auto& t : times) {
    result.times.spot_ld += t.spot_ld;
    result.times.regression += t.regression;
    result.times.jackknife += t.jackknife;
  }
  return result;
}

}  // namespace gsmap::ldsc
