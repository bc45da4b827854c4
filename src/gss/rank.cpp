#include "gsmap/gss/rank.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::gss {

namespace {

// Strict weak order on expression values with NaN above every number (NaNs are equivalent).
bool value_less(float a, float b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

bool value_equal(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b;
}

}  // namespace

RowRanker::RowRanker(std::int64_t n_genes)
    : n_genes_(n_genes),
      slot_of_column_(static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), -1) {
  if (n_genes <= 0)
    throw ComputeError(fmt::format("RowRanker: n_genes must be > 0, got {}", n_genes));
  if (n_genes >= (std::int64_t{1} << 23)) {
    throw ComputeError(fmt::format("RowRanker: {} genes exceed the exact f32 rank range", n_genes));
  }
  // Every rank is a half-integer in [1, G]: tabulate ln once (t = twice the rank, exact in f32).
  ln_of_twice_rank_.resize(static_cast<std::size_t>(2 * n_genes + 1), 0.0f);
  for (std::int64_t t = 2; t <= 2 * n_genes; ++t) {
    ln_of_twice_rank_[static_cast<std::size_t>(t)] = numpy_logf(static_cast<float>(t) * 0.5f);
  }
}

void RowRanker::rank(std::span<const float> values, std::span<const std::int32_t> columns,
                     std::span<float> ln_ranks) {
  rank_impl(values, columns, ln_ranks);
}

void RowRanker::rank(std::span<const float> values, std::span<const std::int64_t> columns,
                     std::span<float> ln_ranks) {
  rank_impl(values, columns, ln_ranks);
}

template <typename Index>
void RowRanker::rank_impl(std::span<const float> values, std::span<const Index> columns,
                          std::span<float> ln_ranks) {
  if (values.size() != columns.size()) {
    throw InputError("expression matrix", "CSR row",
                     fmt::format("{} values but {} column indices", values.size(), columns.size()),
                     "check that data and indices of the CSR group have the same length");
  }
  if (static_cast<std::int64_t>(ln_ranks.size()) != n_genes_) {
    throw ComputeError(
        fmt::format("RowRanker: output has {} elements, expected {}", ln_ranks.size(), n_genes_));
  }

  // Distinct stored columns with their summed values.
  entries_.clear();
  for (std::size_t k = 0; k < values.size(); ++k) {
    const auto column = static_cast<std::int64_t>(columns[k]);
    if (column < 0 || column >= n_genes_) {
      for (const Entry& e : entries_) slot_of_column_[static_cast<std::size_t>(e.column)] = -1;
      throw InputError("expression matrix", fmt::format("column index {}", column),
                       fmt::format("outside [0, {}) (the number of genes)", n_genes_),
                       "check the indices dataset of the CSR expression layer");
    }
    std::int32_t& slot = slot_of_column_[static_cast<std::size_t>(column)];
    if (slot < 0) {
      slot = static_cast<std::int32_t>(entries_.size());
      entries_.push_back({values[k], column});
    } else {
      entries_[static_cast<std::size_t>(slot)].value += values[k];
    }
  }
  nonzero_columns_.clear();
  for (const Entry& e : entries_) {
    slot_of_column_[static_cast<std::size_t>(e.column)] = -1;
    if (e.value != 0.0f) nonzero_columns_.push_back(e.column);
  }

  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return value_less(a.value, b.value); });

  const auto n_stored = static_cast<std::int64_t>(entries_.size());
  const std::int64_t n_absent = n_genes_ - n_stored;  // implicit zeros

  // Rank of the value 0: below it the stored negatives; tied with it the stored zeros and all
  // absent columns.
  std::int64_t n_negative = 0, n_stored_zero = 0;
  for (const Entry& e : entries_) {
    if (e.value < 0.0f)
      ++n_negative;
    else if (e.value == 0.0f)
      ++n_stored_zero;
  }
  if (n_absent > 0) {
    // twice the rank: 2 * #smaller + #equal + 1
    const std::int64_t twice = 2 * n_negative + n_stored_zero + n_absent + 1;
    std::fill(ln_ranks.begin(), ln_ranks.end(), ln_of_twice_rank_[static_cast<std::size_t>(twice)]);
  }

  // Runs of equal stored values; positive values (and NaN) also rank above the absent zeros.
  std::int64_t begin = 0;
  while (begin < n_stored) {
    const float v = entries_[static_cast<std::size_t>(begin)].value;
    std::int64_t end = begin + 1;
    while (end < n_stored && value_equal(entries_[static_cast<std::size_t>(end)].value, v)) ++end;
    const bool above_zero = std::isnan(v) || v > 0.0f;
    const std::int64_t n_less = begin + (above_zero ? n_absent : 0);
    const std::int64_t n_equal = (end - begin) + (v == 0.0f ? n_absent : 0);
    const float ln = ln_of_twice_rank_[static_cast<std::size_t>(2 * n_less + n_equal + 1)];
    for (std::int64_t k = begin; k < end; ++k) {
      ln_ranks[static_cast<std::size_t>(entries_[static_cast<std::size_t>(k)].column)] = ln;
    }
    begin = end;
  }
}

template void RowRanker::rank_impl<std::int32_t>(std::span<const float>,
                                                 std::span<const std::int32_t>, std::span<float>);
template void RowRanker::rank_impl<std::int64_t>(std::span<const float>,
                                                 std::span<const std::int64_t>, std::span<float>);

void ln_ranks_to_f16(std::span<const float> ln_ranks, std::span<f16_bits> out) {
  if (out.size() != ln_ranks.size()) {
    throw ComputeError(
        fmt::format("ln_ranks_to_f16: {} inputs, {} outputs", ln_ranks.size(), out.size()));
  }
  for (std::size_t g = 0; g < ln_ranks.size(); ++g) out[g] = math::f32_to_f16(ln_ranks[g]);
}

GeneStatsAccumulator::GeneStatsAccumulator(std::int64_t n_genes)
    : n_genes_(n_genes),
      raw_(1 + 2 * static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), 0) {
  if (n_genes <= 0) {
    throw ComputeError(fmt::format("GeneStatsAccumulator: n_genes must be > 0, got {}", n_genes));
  }
}

std::int64_t GeneStatsAccumulator::to_fixed(float ln_rank) {
  const double scaled = std::ldexp(static_cast<double>(ln_rank), kFractionBits);
  // ln ranks lie in [0, 32): anything else is not a log rank (and would not be exact).
  if (!(scaled >= 0.0 && scaled < 0x1p30)) {
    throw ComputeError(fmt::format("ln rank {} outside [0, 32)", ln_rank));
  }
  const auto fixed = static_cast<std::int64_t>(scaled);
  if (static_cast<double>(fixed) != scaled) {
    throw ComputeError(
        fmt::format("ln rank {} is not a multiple of 2^-{}", ln_rank, kFractionBits));
  }
  return fixed;
}

void GeneStatsAccumulator::add_cell(std::span<const float> ln_ranks,
                                    std::span<const std::int64_t> nonzero_columns) {
  if (static_cast<std::int64_t>(ln_ranks.size()) != n_genes_) {
    throw ComputeError(
        fmt::format("GeneStatsAccumulator: {} ln ranks, expected {}", ln_ranks.size(), n_genes_));
  }
  std::int64_t* sums = raw_.data() + 1;
  std::int64_t* nonzero = raw_.data() + 1 + n_genes_;
  for (std::int64_t g = 0; g < n_genes_; ++g)
    sums[g] += to_fixed(ln_ranks[static_cast<std::size_t>(g)]);
  for (const std::int64_t column : nonzero_columns) {
    if (column < 0 || column >= n_genes_) {
      throw ComputeError(
          fmt::format("GeneStatsAccumulator: column {} outside [0, {})", column, n_genes_));
    }
    ++nonzero[column];
  }
  ++raw_[0];
}

void GeneStatsAccumulator::merge(const GeneStatsAccumulator& other) {
  if (other.n_genes_ != n_genes_) {
    throw ComputeError(
        fmt::format("GeneStatsAccumulator::merge: {} genes vs {}", other.n_genes_, n_genes_));
  }
  for (std::size_t i = 0; i < raw_.size(); ++i) raw_[i] += other.raw_[i];
}

GeneStats GeneStatsAccumulator::finalize() const {
  const std::int64_t n = raw_[0];
  if (n <= 0) throw ComputeError("global gene statistics requested before any cell was ranked");
  GeneStats stats;
  stats.n_cells = n;
  stats.g_mean.resize(static_cast<std::size_t>(n_genes_));
  stats.frac.resize(static_cast<std::size_t>(n_genes_));
  const double n_cells = static_cast<double>(n);
  for (std::int64_t g = 0; g < n_genes_; ++g) {
    // Exact below 2^53 (about 8 million cells); beyond that one rounding of a relative 1e-16.
    const double sum = std::ldexp(static_cast<double>(raw_[1 + g]), -kFractionBits);
    stats.g_mean[static_cast<std::size_t>(g)] = sum / n_cells;
    stats.frac[static_cast<std::size_t>(g)] = static_cast<double>(raw_[1 + n_genes_ + g]) / n_cells;
  }
  return stats;
}

std::vector<RankChunk> rank_chunks(std::span<const std::int64_t> cells_per_sample,
                                   std::int64_t chunk_rows) {
  if (chunk_rows <= 0)
    throw ComputeError(fmt::format("rank chunk size must be > 0, got {}", chunk_rows));
  std::vector<RankChunk> chunks;
  std::int64_t offset = 0;
  for (std::size_t s = 0; s < cells_per_sample.size(); ++s) {
    const std::int64_t n = cells_per_sample[s];
    for (std::int64_t first = 0; first < n; first += chunk_rows) {
      chunks.push_back(
          {static_cast<std::int32_t>(s), offset + first, offset + std::min(n, first + chunk_rows)});
    }
    offset += n;
  }
  return chunks;
}

ChunkSumF32::ChunkSumF32(std::int64_t n_genes)
    : sums_(static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), 0.0f) {
  if (n_genes <= 0)
    throw ComputeError(fmt::format("ChunkSumF32: n_genes must be > 0, got {}", n_genes));
}

void ChunkSumF32::add_row(std::span<const float> ln_ranks) {
  if (ln_ranks.size() != sums_.size()) {
    throw ComputeError(
        fmt::format("ChunkSumF32: {} ln ranks, expected {}", ln_ranks.size(), sums_.size()));
  }
  for (std::size_t g = 0; g < sums_.size(); ++g) sums_[g] += ln_ranks[g];
  ++rows_;
}

void ChunkSumF32::clear() {
  std::fill(sums_.begin(), sums_.end(), 0.0f);
  rows_ = 0;
}

ReferenceGeneMean::ReferenceGeneMean(std::int64_t n_genes)
    : n_genes_(n_genes),
      sample_sums_(static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), 0.0f),
      total_(static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), 0.0) {
  if (n_genes <= 0)
    throw ComputeError(fmt::format("ReferenceGeneMean: n_genes must be > 0, got {}", n_genes));
}

void ReferenceGeneMean::add_chunk(std::int32_t sample, std::span<const float> chunk_sums,
                                  std::int64_t rows) {
  if (static_cast<std::int64_t>(chunk_sums.size()) != n_genes_) {
    throw ComputeError(
        fmt::format("ReferenceGeneMean: {} sums, expected {}", chunk_sums.size(), n_genes_));
  }
  if (sample != sample_) {  // the previous sample's f32 sums join the f64 total
    for (std::size_t g = 0; g < total_.size(); ++g) {
      total_[g] += static_cast<double>(sample_sums_[g]);
      sample_sums_[g] = 0.0f;
    }
    sample_ = sample;
  }
  for (std::size_t g = 0; g < sample_sums_.size(); ++g) sample_sums_[g] += chunk_sums[g];
  n_cells_ += rows;
}

std::vector<double> ReferenceGeneMean::g_mean() const {
  if (n_cells_ <= 0)
    throw ComputeError("global gene statistics requested before any cell was ranked");
  std::vector<double> mean(total_.size());
  for (std::size_t g = 0; g < total_.size(); ++g) {
    mean[g] = (total_[g] + static_cast<double>(sample_sums_[g])) / static_cast<double>(n_cells_);
  }
  return mean;
}

}  // namespace gsmap::gss
