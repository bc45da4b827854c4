#include "gsmap/gss/rank.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::gss {

namespace {

// Order-preserving 32-bit image of an expression value (docs/algorithms.md §1.2): a < b <=>
// key(a) < key(b) and a ties b <=> key(a) == key(b), with NaN above every number and all NaNs
// tied, -0 tied with +0 (the order value_less / value_equal of the comparison sort defined).
std::uint32_t order_key(float v) {
  if (std::isnan(v)) return 0xffffffffu;
  if (v == 0.0f) return 0x80000000u;
  const std::uint32_t u = math::float_bits(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
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
  f16_of_twice_rank_.resize(ln_of_twice_rank_.size(), 0);
  for (std::int64_t t = 2; t <= 2 * n_genes; ++t) {
    ln_of_twice_rank_[static_cast<std::size_t>(t)] = numpy_logf(static_cast<float>(t) * 0.5f);
    f16_of_twice_rank_[static_cast<std::size_t>(t)] =
        math::f32_to_f16(ln_of_twice_rank_[static_cast<std::size_t>(t)]);
  }
}

void RowRanker::rank(std::span<const float> values, std::span<const std::int32_t> columns,
                     std::span<float> ln_ranks) {
  rank_sparse(values, columns);
  write_f32(ln_ranks);
}

void RowRanker::rank(std::span<const float> values, std::span<const std::int64_t> columns,
                     std::span<float> ln_ranks) {
  rank_sparse(values, columns);
  write_f32(ln_ranks);
}

void RowRanker::rank_sparse(std::span<const float> values, std::span<const std::int32_t> columns) {
  rank_impl(values, columns);
}

void RowRanker::rank_sparse(std::span<const float> values, std::span<const std::int64_t> columns) {
  rank_impl(values, columns);
}

void RowRanker::write_f32(std::span<float> ln_ranks) const {
  if (static_cast<std::int64_t>(ln_ranks.size()) != n_genes_) {
    throw ComputeError(
        fmt::format("RowRanker: output has {} elements, expected {}", ln_ranks.size(), n_genes_));
  }
  if (has_fill()) std::fill(ln_ranks.begin(), ln_ranks.end(), fill_ln());
  for (const Ranked& r : ranked_) {
    ln_ranks[static_cast<std::size_t>(r.column)] = ln_of_twice_rank_[r.twice_rank];
  }
}

void RowRanker::write_f16(std::span<f16_bits> ln_ranks) const {
  if (static_cast<std::int64_t>(ln_ranks.size()) != n_genes_) {
    throw ComputeError(
        fmt::format("RowRanker: output has {} elements, expected {}", ln_ranks.size(), n_genes_));
  }
  if (has_fill()) std::fill(ln_ranks.begin(), ln_ranks.end(), f16_of_twice_rank_[fill_twice_rank_]);
  for (const Ranked& r : ranked_) {
    ln_ranks[static_cast<std::size_t>(r.column)] = f16_of_twice_rank_[r.twice_rank];
  }
}

// Sorts entries_ by key: least-significant-digit radix sort on the four key bytes, skipping the
// bytes every key shares (counts are small integers: their keys differ in one or two bytes).
// Entries with equal keys get the same rank, so the order among them does not matter.
void RowRanker::sort_entries() {
  const std::size_t n = entries_.size();
  if (n < 64) {
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    return;
  }
  std::uint32_t counts[4][256] = {};
  for (const Entry& e : entries_) {
    ++counts[0][e.key & 0xffu];
    ++counts[1][(e.key >> 8) & 0xffu];
    ++counts[2][(e.key >> 16) & 0xffu];
    ++counts[3][e.key >> 24];
  }
  sort_scratch_.resize(n);
  for (int pass = 0; pass < 4; ++pass) {
    std::uint32_t* count = counts[pass];
    const int shift = 8 * pass;
    if (count[(entries_[0].key >> shift) & 0xffu] == n) continue;  // one digit: nothing to move
    std::uint32_t offset = 0;
    for (int d = 0; d < 256; ++d) {
      const std::uint32_t c = count[d];
      count[d] = offset;
      offset += c;
    }
    for (const Entry& e : entries_) sort_scratch_[count[(e.key >> shift) & 0xffu]++] = e;
    entries_.swap(sort_scratch_);
  }
}

template <typename Index>
void RowRanker::rank_impl(std::span<const float> values, std::span<const Index> columns) {
  if (values.size() != columns.size()) {
    throw InputError("expression matrix", "CSR row",
                     fmt::format("{} values but {} column indices", values.size(), columns.size()),
                     "check that data and indices of the CSR group have the same length");
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
      entries_.push_back({0, values[k], static_cast<std::int32_t>(column)});
    } else {
      entries_[static_cast<std::size_t>(slot)].value += values[k];
    }
  }
  nonzero_columns_.clear();
  std::int64_t n_negative = 0, n_stored_zero = 0;
  for (Entry& e : entries_) {
    slot_of_column_[static_cast<std::size_t>(e.column)] = -1;
    if (e.value != 0.0f) nonzero_columns_.push_back(e.column);
    n_negative += e.value < 0.0f;
    n_stored_zero += e.value == 0.0f;
    e.key = order_key(e.value);
  }
  sort_entries();

  const auto n_stored = static_cast<std::int64_t>(entries_.size());
  const std::int64_t n_absent = n_genes_ - n_stored;  // implicit zeros

  // Rank of the value 0: below it the stored negatives; tied with it the stored zeros and all
  // absent columns (twice the rank: 2 * #smaller + #equal + 1).
  fill_twice_rank_ =
      n_absent > 0 ? static_cast<std::uint32_t>(2 * n_negative + n_stored_zero + n_absent + 1) : 0;

  // Runs of equal stored values; positive values (and NaN) also rank above the absent zeros.
  ranked_.resize(entries_.size());
  std::int64_t begin = 0;
  while (begin < n_stored) {
    const Entry& first = entries_[static_cast<std::size_t>(begin)];
    std::int64_t end = begin + 1;
    while (end < n_stored && entries_[static_cast<std::size_t>(end)].key == first.key) ++end;
    const float v = first.value;
    const bool above_zero = std::isnan(v) || v > 0.0f;
    const std::int64_t n_less = begin + (above_zero ? n_absent : 0);
    const std::int64_t n_equal = (end - begin) + (v == 0.0f ? n_absent : 0);
    const auto twice = static_cast<std::uint32_t>(2 * n_less + n_equal + 1);
    for (std::int64_t k = begin; k < end; ++k) {
      ranked_[static_cast<std::size_t>(k)] = {entries_[static_cast<std::size_t>(k)].column, twice};
    }
    begin = end;
  }
}

template void RowRanker::rank_impl<std::int32_t>(std::span<const float>,
                                                 std::span<const std::int32_t>);
template void RowRanker::rank_impl<std::int64_t>(std::span<const float>,
                                                 std::span<const std::int64_t>);

void ln_ranks_to_f16(std::span<const float> ln_ranks, std::span<f16_bits> out) {
  if (out.size() != ln_ranks.size()) {
    throw ComputeError(
        fmt::format("ln_ranks_to_f16: {} inputs, {} outputs", ln_ranks.size(), out.size()));
  }
  for (std::size_t g = 0; g < ln_ranks.size(); ++g) out[g] = math::f32_to_f16(ln_ranks[g]);
}

GeneStatsAccumulator::GeneStatsAccumulator(std::int64_t n_genes)
    : n_genes_(n_genes),
      raw_(2 + 2 * static_cast<std::size_t>(std::max<std::int64_t>(n_genes, 0)), 0) {
  if (n_genes <= 0) {
    throw ComputeError(fmt::format("GeneStatsAccumulator: n_genes must be > 0, got {}", n_genes));
  }
}

std::int64_t GeneStatsAccumulator::to_fixed(float ln_rank) {
  // Multiplying by 2^kFractionBits is exact, as ldexp is (the value stays far below overflow).
  constexpr double kScale = static_cast<double>(std::int64_t{1} << kFractionBits);
  const double scaled = static_cast<double>(ln_rank) * kScale;
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
  std::int64_t* sums = raw_.data() + 2;
  std::int64_t* nonzero = raw_.data() + 2 + n_genes_;
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

void GeneStatsAccumulator::add_ranked(const RowRanker& ranker) {
  if (ranker.n_genes() != n_genes_) {
    throw ComputeError(fmt::format("GeneStatsAccumulator: a row of {} genes, expected {}",
                                   ranker.n_genes(), n_genes_));
  }
  std::int64_t* sums = raw_.data() + 2;
  std::int64_t* nonzero = raw_.data() + 2 + n_genes_;
  const std::int64_t fill = ranker.has_fill() ? to_fixed(ranker.fill_ln()) : 0;
  raw_[1] += fill;
  for (const auto& r : ranker.ranked()) sums[r.column] += to_fixed(ranker.ln_of(r)) - fill;
  for (const std::int64_t column : ranker.nonzero_columns()) ++nonzero[column];
  ++raw_[0];
}

std::vector<std::int64_t> GeneStatsAccumulator::sum_ln_fixed() const {
  std::vector<std::int64_t> sums(raw_.begin() + 2, raw_.begin() + 2 + n_genes_);
  for (auto& s : sums) s += raw_[1];
  return sums;
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
    const double sum = std::ldexp(static_cast<double>(raw_[1] + raw_[2 + g]), -kFractionBits);
    stats.g_mean[static_cast<std::size_t>(g)] = sum / n_cells;
    stats.frac[static_cast<std::size_t>(g)] = static_cast<double>(raw_[2 + n_genes_ + g]) / n_cells;
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
