// The GSS engine (docs/algorithms.md §1-§5); see gss/engine.hpp for the stages.
#include "gsmap/gss/engine.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/kill_point.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/core/progress.hpp"
#include "gsmap/core/throughput.hpp"
#include "gsmap/dist/halo.hpp"
#include "gsmap/dist/progress.hpp"

namespace gsmap::gss {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// ---- Resident rows ----------------------------------------------------------------------------

// Where every row a processed cell reads lives: the processed cells' rows first (in processing
// order), then the halo rows (sorted global ids), all in one RowBlock so that a batch indexes them
// directly. Lookups go through one sorted (global, row) table: nothing here is sized by the whole
// data set.
class ResidentIndex {
 public:
  ResidentIndex(std::span<const std::int64_t> own_cells, std::vector<std::int64_t> halo_cells)
      : own_(own_cells.begin(), own_cells.end()), halo_(std::move(halo_cells)) {
    where_.reserve(own_.size() + halo_.size());
    for (std::size_t i = 0; i < own_.size(); ++i) where_.emplace_back(own_[i], static_cast<std::int64_t>(i));
    for (std::size_t i = 0; i < halo_.size(); ++i) {
      where_.emplace_back(halo_[i], static_cast<std::int64_t>(own_.size() + i));
    }
    std::sort(where_.begin(), where_.end());
    for (std::size_t i = 1; i < where_.size(); ++i) {
      if (where_[i].first == where_[i - 1].first) {
        throw ComputeError(fmt::format("cell {} is twice among the resident rows", where_[i].first));
      }
    }
  }
  std::int64_t own() const { return static_cast<std::int64_t>(own_.size()); }
  const std::vector<std::int64_t>& own_cells() const { return own_; }
  std::int64_t rows() const { return static_cast<std::int64_t>(where_.size()); }
  const std::vector<std::int64_t>& halo() const { return halo_; }
  // (global, resident row) of every resident row, by global id.
  const std::vector<std::pair<std::int64_t, std::int64_t>>& by_global() const { return where_; }
  // Resident row of a global cell, -1 when it is not resident.
  std::int64_t find(std::int64_t global) const {
    const auto it = std::lower_bound(where_.begin(), where_.end(),
                                     std::pair<std::int64_t, std::int64_t>(global, -1));
    return it != where_.end() && it->first == global ? it->second : -1;
  }
  std::int64_t own_position(std::int64_t global) const {
    const std::int64_t r = find(global);
    return r < own() ? r : -1;
  }
  // Resident row of a global cell; throws when it is neither own nor in the halo.
  std::int64_t row(std::int64_t global) const {
    const std::int64_t r = find(global);
    if (r < 0) throw ComputeError(fmt::format("log-rank row {} is neither own nor in the halo", global));
    return r;
  }

 private:
  std::vector<std::int64_t> own_;
  std::vector<std::int64_t> halo_;
  std::vector<std::pair<std::int64_t, std::int64_t>> where_;
};

// ---- Stage A ------------------------------------------------------------------------------------

// gsMap3D's G_Mean summation order (docs/algorithms.md §2): f32 sums of each ranking chunk (rows
// in order), chunk sums folded in f32 per sample, samples added in f64. The partition keeps chunks
// whole, so the fold runs along the ranks in order: rank r continues the state of rank r - 1. Any
// rank count gives the same bits.
struct GMeanFold {
  std::int32_t sample = -1;
  std::vector<float> sample_sums;
  std::vector<double> total;
  explicit GMeanFold(std::size_t g) : sample_sums(g, 0.0f), total(g, 0.0) {}
  void add(std::int32_t chunk_sample, const float* sums) {
    if (chunk_sample != sample) {
      flush();
      sample = chunk_sample;
    }
    for (std::size_t i = 0; i < sample_sums.size(); ++i) sample_sums[i] += sums[i];
  }
  void flush() {
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += static_cast<double>(sample_sums[i]);
    std::fill(sample_sums.begin(), sample_sums.end(), 0.0f);
  }
};

// The Stage A rows of each ranked chunk go to GssHooks::stage_a_rows on one helper thread, chunk
// after chunk, while the workers rank on: the ranking never waits for the storage (a direct write
// waits for the disk, which may still be busy with someone else's write-back); the rows stay in
// the block until Stage A ends. finish() waits for the last call and rethrows the first exception
// of one; the destructor (Stage A threw) drops what is still queued and waits for the call under way.
class RowHandOver {
 public:
  explicit RowHandOver(const GssHooks& hooks) : hooks_(hooks) {
    if (hooks_.stage_a_rows) thread_ = std::thread([this] { run(); });
  }
  RowHandOver(const RowHandOver&) = delete;
  RowHandOver& operator=(const RowHandOver&) = delete;
  ~RowHandOver() { stop(true); }

  void push(std::int64_t row0, std::int64_t n, const f16_bits* rows) {
    if (!thread_.joinable()) return;
    {
      const std::lock_guard lock(mutex_);
      queue_.push_back({row0, n, rows});
    }
    ready_.notify_one();
  }
  void finish() {
    stop(false);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  struct Rows {
    std::int64_t row0, n;
    const f16_bits* rows;
  };
  void run() {
    for (;;) {
      Rows next{};
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closed and drained
        next = queue_.front();
        queue_.pop_front();
      }
      if (error_) continue;  // after a failed call the rest is dropped; finish() rethrows
      try {
        hooks_.stage_a_rows(next.row0, next.n, next.rows);
      } catch (...) {
        error_ = std::current_exception();
      }
    }
  }
  void stop(bool drop_queued) {
    if (!thread_.joinable()) return;
    {
      const std::lock_guard lock(mutex_);
      if (drop_queued) queue_.clear();
      closed_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

  const GssHooks& hooks_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Rows> queue_;
  bool closed_ = false;
  std::exception_ptr error_;  // written by the helper thread, read after the join
  std::thread thread_;
};

// Ranks the own chunks into rows [chunk.begin - own_start, ...) of `block`: f16 ln ranks, per-chunk
// f32 sums (chunk_sums: chunks x G), exact non-zero counts. One thread reads the next chunk while
// all workers rank the current one.
// Each chunk's rows go to GssHooks::stage_a_rows on a helper thread (RowHandOver) while the next
// chunks are ranked.
GeneStatsAccumulator rank_own_cells(const GssInputs& in, std::int64_t own_start, RowBlock& block,
                                    std::vector<float>& chunk_sums, const GssHooks& hooks) {
  const std::int64_t n_genes = in.n_genes;
  const auto& chunks = in.own_chunks;
  struct ThreadState {
    RowRanker ranker;
    GeneStatsAccumulator stats;
    explicit ThreadState(std::int64_t g) : ranker(g), stats(g) {}
  };
  tbb::enumerable_thread_specific<ThreadState> state([&] { return ThreadState(n_genes); });
  // f32 ln ranks of a sub-block of rows (about 1 MiB).
  const std::int64_t sub_rows = std::max<std::int64_t>(8, (std::int64_t{1} << 20) / (4 * n_genes));
  std::vector<float> ln(static_cast<std::size_t>(sub_rows * n_genes));
  chunk_sums.assign(chunks.size() * static_cast<std::size_t>(n_genes), 0.0f);
  core::MemoryPart ledger_sums("ranking chunk sums",
                               static_cast<std::int64_t>(chunk_sums.size() * sizeof(float)));
  // Declared before `next`: on an exception the pending read is waited for first (a std::async
  // future waits in its destructor), then the hand-over of rows under way.
  RowHandOver handed(hooks);
  std::future<ChunkRows> next;
  if (!chunks.empty()) next = std::async(std::launch::async, in.read_chunk, chunks[0]);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const auto& ch = chunks[k];
    const ChunkRows rows_k = next.get();
    if (k + 1 < chunks.size()) next = std::async(std::launch::async, in.read_chunk, chunks[k + 1]);
    // The chunks are read on other threads, into their own heaps; once the last read is under way,
    // the chunks freed from here on give those heaps' free tops back, so that they do not stay
    // resident under the blocks of the next stages (docs/scalability.md "Memory per rank").
    if (k + 2 == chunks.size() || chunks.size() == 1) core::return_freed_heap_tops();
    const std::int64_t rows = ch.end - ch.begin;
    if (static_cast<std::int64_t>(rows_k.row_of.size()) != rows) {
      throw ComputeError(fmt::format("ranking chunk [{}, {}): the reader returned {} rows",
                                     ch.begin, ch.end, rows_k.row_of.size()));
    }
    const auto& csr = rows_k.block;
    // Sub-blocks of rows small enough for the cache: all workers rank a sub-block (f16 rows into
    // the block, exact statistics), then add its f32 rows to the chunk sums, rows in order (numpy's
    // chunk.sum(axis=0) in f32), genes in parallel.
    float* sums = chunk_sums.data() + k * n_genes;
    for (std::int64_t s0 = 0; s0 < rows; s0 += sub_rows) {
      const std::int64_t s1 = std::min(rows, s0 + sub_rows);
      tbb::parallel_for(tbb::blocked_range<std::int64_t>(s0, s1, 2), [&](const auto& r) {
        auto& ts = state.local();
        for (std::int64_t i = r.begin(); i != r.end(); ++i) {
          const std::int64_t local = rows_k.row_of[static_cast<std::size_t>(i)];
          const auto b = csr.indptr[local], e = csr.indptr[local + 1];
          ts.ranker.rank_sparse(std::span<const float>(csr.data.data() + b, e - b),
                                std::span<const std::int32_t>(csr.indices.data() + b, e - b));
          ts.stats.add_ranked(ts.ranker);
          ts.ranker.write_f32(std::span<float>(ln.data() + (i - s0) * n_genes,
                                               static_cast<std::size_t>(n_genes)));
          ts.ranker.write_f16(std::span<f16_bits>(block.row(ch.begin + i - own_start),
                                                  static_cast<std::size_t>(n_genes)));
        }
      });
      tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n_genes, 512), [&](const auto& r) {
        for (std::int64_t i = 0; i < s1 - s0; ++i) {
          const float* row = ln.data() + i * n_genes;
          for (std::int64_t q = r.begin(); q != r.end(); ++q) sums[q] += row[q];
        }
      });
    }
    handed.push(ch.begin, rows, block.row(ch.begin - own_start));
    kill_point("ranking");
    core::progress_add(rows);
    core::poll_progress();
  }
  handed.finish();
  GeneStatsAccumulator total(n_genes);
  for (auto& ts : state) total.merge(ts.stats);
  return total;
}

// Folds the chunk sums along the ranks in order and returns G_Mean on every rank. Collective.
std::vector<double> fold_g_mean(const std::vector<RankChunk>& own_chunks,
                                const std::vector<float>& chunk_sums, std::size_t n_genes,
                                std::int64_t n_cells, MPI_Comm comm) {
  const int me = dist::rank(comm), np = dist::size(comm);
  GMeanFold fold(n_genes);
  constexpr int kTag = 7301;
  if (me > 0) {
    GSMAP_MPI_CALL(MPI_Recv(&fold.sample, 1, MPI_INT32_T, me - 1, kTag, comm, MPI_STATUS_IGNORE));
    GSMAP_MPI_CALL(MPI_Recv(fold.sample_sums.data(), static_cast<int>(n_genes), MPI_FLOAT, me - 1,
                            kTag, comm, MPI_STATUS_IGNORE));
    GSMAP_MPI_CALL(MPI_Recv(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, me - 1, kTag,
                            comm, MPI_STATUS_IGNORE));
  }
  for (std::size_t k = 0; k < own_chunks.size(); ++k) {
    fold.add(own_chunks[k].sample, chunk_sums.data() + k * n_genes);
  }
  if (me + 1 < np) {
    GSMAP_MPI_CALL(MPI_Send(&fold.sample, 1, MPI_INT32_T, me + 1, kTag, comm));
    GSMAP_MPI_CALL(MPI_Send(fold.sample_sums.data(), static_cast<int>(n_genes), MPI_FLOAT, me + 1,
                            kTag, comm));
    GSMAP_MPI_CALL(MPI_Send(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, me + 1, kTag,
                            comm));
  } else {
    fold.flush();
    for (auto& t : fold.total) t /= static_cast<double>(n_cells);
  }
  GSMAP_MPI_CALL(MPI_Bcast(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, np - 1, comm));
  return fold.total;
}

// ---- Halo ---------------------------------------------------------------------------------------

// Every row the processed cells' neighbours name that is not a processed cell, sorted and unique.
// One bit per id over the range of the processed cells' ids (transient: at most 1 bit per cell of
// the data set) tells own rows from halo rows in one pass over the neighbour columns.
std::vector<std::int64_t> halo_rows(const NeighborResult& nb, std::span<const std::int64_t> own) {
  std::vector<std::int64_t> halo;
  if (own.empty()) {
    for (const auto idx : nb.indices) {
      if (idx >= 0) halo.push_back(idx);
    }
  } else {
    const auto [lo_it, hi_it] = std::minmax_element(own.begin(), own.end());
    const std::int64_t lo = *lo_it, hi = *hi_it;
    std::vector<std::uint64_t> is_own(static_cast<std::size_t>((hi - lo) / 64 + 1), 0);
    for (const auto c : own) {
      const auto bit = static_cast<std::uint64_t>(c - lo);
      is_own[bit / 64] |= std::uint64_t{1} << (bit % 64);
    }
    for (const auto idx : nb.indices) {
      if (idx < 0) continue;
      const bool inside = idx >= lo && idx <= hi;
      const auto bit = static_cast<std::uint64_t>(idx - lo);
      if (!inside || ((is_own[bit / 64] >> (bit % 64)) & 1u) == 0) halo.push_back(idx);
    }
  }
  std::sort(halo.begin(), halo.end());
  halo.erase(std::unique(halo.begin(), halo.end()), halo.end());
  return halo;
}

struct FetchCounts {
  std::int64_t own_received = 0, halo_received = 0, rounds = 0;
};

// True when the cells this rank processes are exactly the cells it ranks (one rank, or any
// partition where both shares coincide; own_cells has no repeats, ResidentIndex checks it): the
// resident block is then the ranked block permuted in place, plus the halo rows after it
// (docs/algorithms.md §5.3).
bool processes_ranked_rows(std::span<const std::int64_t> own, std::int64_t start, std::int64_t end) {
  if (static_cast<std::int64_t>(own.size()) != end - start) return false;
  return std::all_of(own.begin(), own.end(),
                     [&](std::int64_t c) { return c >= start && c < end; });
}

// Row i of `block` takes the row that was at from[i] (from: a permutation of 0 .. n - 1), in
// place: cycle by cycle, each with one spare row; the cycles (disjoint) run on all workers.
void permute_rows_in_place(RowBlock& block, std::span<const std::int64_t> from) {
  const std::size_t n = from.size();
  const std::size_t g = static_cast<std::size_t>(block.cols());
  std::vector<std::uint64_t> visited((n + 63) / 64, 0);
  const auto seen = [&](std::size_t i) { return (visited[i >> 6] >> (i & 63)) & 1u; };
  const auto mark = [&](std::size_t i) { visited[i >> 6] |= std::uint64_t{1} << (i & 63); };
  std::vector<std::size_t> leaders;  // one row of each cycle longer than 1
  for (std::size_t i = 0; i < n; ++i) {
    if (seen(i)) continue;
    std::size_t j = i, length = 0;
    do {
      if (from[j] < 0 || static_cast<std::size_t>(from[j]) >= n || seen(j)) {
        throw ComputeError(fmt::format("resident rows: row {} is not a permutation entry", j));
      }
      mark(j);
      j = static_cast<std::size_t>(from[j]);
      ++length;
    } while (j != i);
    if (length > 1) leaders.push_back(i);
  }
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, leaders.size(), 1), [&](const auto& r) {
    std::vector<f16_bits> spare(g);
    for (std::size_t c = r.begin(); c != r.end(); ++c) {
      const std::size_t first = leaders[c];
      std::copy_n(block.row(static_cast<std::int64_t>(first)), g, spare.data());
      std::size_t j = first;
      for (;;) {
        const auto k = static_cast<std::size_t>(from[j]);
        f16_bits* dst = block.row(static_cast<std::int64_t>(j));
        if (k == first) {
          std::copy_n(spare.data(), g, dst);
          break;
        }
        std::copy_n(block.row(static_cast<std::int64_t>(k)), g, dst);
        j = k;
      }
    }
  });
}

// In place (processes_ranked_rows): rows [0, own) of `block` hold the rank's Stage A rows in input
// order and serve the other ranks' requests, the halo rows arrive after them through the same
// rounds as every other rank's (dist::fetch_rows_in_windows: the ranks' collectives match whether
// or not they are in place), then the own rows and the halo rows are permuted into the resident
// order in place (docs/algorithms.md §5.3).
FetchCounts fetch_halo_in_place(const dist::Partition& stage_a, const ResidentIndex& index,
                                RowBlock& block, std::int64_t window, std::int64_t& send_rows,
                                std::int64_t& window_used, MPI_Comm comm) {
  const int me = dist::rank(comm);
  const std::int64_t a0 = stage_a.start(me), own = index.own();
  const std::size_t row_bytes = static_cast<std::size_t>(block.cols()) * sizeof(f16_bits);
  const auto& halo = index.halo();
  std::vector<std::int64_t> slot(halo.size());
  const auto done = dist::fetch_rows_in_windows(
      stage_a, halo, row_bytes, reinterpret_cast<const std::byte*>(block.data()), window,
      reinterpret_cast<std::byte*>(block.row(own)), slot, nullptr, comm);
  FetchCounts counts;
  counts.halo_received = done.rows_received;
  counts.rounds = done.rounds;
  send_rows = done.send_buffer_rows;
  window_used = done.window_rows;
  // Every rank joined every round: nobody reads this rank's Stage A rows any more.
  std::vector<std::int64_t> from(static_cast<std::size_t>(index.rows()));
  const auto& cells = index.own_cells();
  for (std::int64_t i = 0; i < own; ++i) from[static_cast<std::size_t>(i)] = cells[static_cast<std::size_t>(i)] - a0;
  for (std::size_t k = 0; k < halo.size(); ++k) from[static_cast<std::size_t>(own) + k] = own + slot[k];
  permute_rows_in_place(block, from);
  return counts;
}

// A part of the memory ledger whose bytes change while it lives; what is left is given back when
// it goes (also on an exception).
class LedgerShare {
 public:
  LedgerShare(std::string name, std::int64_t bytes) : name_(std::move(name)) { add(bytes); }
  ~LedgerShare() { core::MemoryLedger::instance().add(name_, -bytes_); }
  LedgerShare(const LedgerShare&) = delete;
  LedgerShare& operator=(const LedgerShare&) = delete;
  void add(std::int64_t delta) {
    bytes_ += delta;
    core::MemoryLedger::instance().add(name_, delta);
  }

 private:
  std::string name_;
  std::int64_t bytes_ = 0;
};

struct StreamedFetch {
  FetchCounts counts;
  std::int64_t window_rows = 0;       // rows of a holder's window (one round)
  std::int64_t peak_rows_held = 0;    // ranked rows not yet released + resident rows filled
  std::int64_t send_buffer_rows = 0;  // the largest round's packed rows
};

// Fills the resident block from the ranked blocks of Stage A in rounds over windows of the
// holders' input order (dist::fetch_rows_in_windows, docs/algorithms.md §5.3): after each round the
// window's ranked rows are released (nobody reads them again) while the resident rows arrive one
// after the other, so the two blocks never coexist in full: at most about one block plus a
// window. The rows land in arrival order, then are permuted into the resident order in place.
// `block` is a fresh block (its pages untouched); `ranked` holds this rank's Stage A rows.
StreamedFetch fetch_resident_rows_streamed(const dist::Partition& stage_a, const ResidentIndex& index,
                                           RowBlock& ranked, RowBlock& block, std::int64_t window,
                                           LedgerShare& ledger_ranked, LedgerShare& ledger_own,
                                           LedgerShare& ledger_halo, MPI_Comm comm) {
  const int me = dist::rank(comm);
  const std::int64_t a0 = stage_a.start(me), n_ranked = stage_a.count(me);
  const std::int64_t row_bytes = block.cols() * static_cast<std::int64_t>(sizeof(f16_bits));
  const auto& by = index.by_global();
  StreamedFetch out;
  window = dist::allreduce_max(window, comm);  // the windows are cut alike on every rank
  const dist::WindowPlan plan = dist::windows_of(stage_a, window);
  const std::int64_t rounds = plan.rounds;
  // Own and halo rows of each round (for the ledger), the rows received from other ranks.
  std::vector<std::int64_t> own_in(static_cast<std::size_t>(rounds), 0), halo_in(static_cast<std::size_t>(rounds), 0);
  std::vector<std::int64_t> needed(by.size()), slot(by.size());
  for (std::size_t k = 0; k < by.size(); ++k) {
    const auto [global, row] = by[k];
    needed[k] = global;
    const int owner = stage_a.owner(global);
    const auto x = static_cast<std::size_t>((global - stage_a.start(owner)) / plan.rows[static_cast<std::size_t>(owner)]);
    ++(row < index.own() ? own_in : halo_in)[x];
    if (global < a0 || global >= a0 + n_ranked) ++(row < index.own() ? out.counts.own_received : out.counts.halo_received);
  }
  std::int64_t released = 0;
  const auto round_done = [&](std::int64_t x, std::int64_t held_done, std::int64_t filled) {
    // The window's rows arrived while its ranked rows were still held: count both, then release.
    out.peak_rows_held = std::max(out.peak_rows_held, n_ranked - released + filled);
    ledger_own.add(own_in[static_cast<std::size_t>(x)] * row_bytes);
    ledger_halo.add(halo_in[static_cast<std::size_t>(x)] * row_bytes);
    ranked.release_rows(std::max<std::int64_t>(0, released - 1), held_done);  // the page across the last bound too
    ledger_ranked.add(-(held_done - released) * row_bytes);
    released = held_done;
  };
  const auto done = dist::fetch_rows_in_windows(
      stage_a, needed, static_cast<std::size_t>(row_bytes), reinterpret_cast<const std::byte*>(ranked.data()),
      window, reinterpret_cast<std::byte*>(block.data()), slot, round_done, comm);
  out.counts.rounds = done.rounds;
  out.window_rows = done.window_rows;
  out.send_buffer_rows = done.send_buffer_rows;
  // Arrival order -> resident order (own rows in processing order, then the halo by global id).
  std::vector<std::int64_t> from(by.size());
  for (std::size_t k = 0; k < by.size(); ++k) from[static_cast<std::size_t>(by[k].second)] = slot[k];
  permute_rows_in_place(block, from);
  return out;
}

// ---- Stage C ------------------------------------------------------------------------------------

struct GssJob {
  std::vector<std::int64_t> cells;  // own positions
};
struct GssSlots {
  std::vector<std::int64_t> cells;
  std::vector<std::int32_t> slot_rows;  // n_cells x K_tot resident rows, -1 = padded
  std::vector<f16_bits> weights;        // n_cells x K_tot
};
struct GssComputed {
  std::vector<std::int64_t> cells;
  std::vector<f16_bits> scores;  // n_cells x G values (a buffer of the pool, maybe larger)
  std::size_t n_values = 0;
  std::size_t zero_weight = 0;
};

// GSS row buffers of finished batches, reused by the next batches: a batch's buffer is allocated
// (and its pages faulted in) once, not once per batch; every value of a buffer is written by the
// worker before it is read.
class ScoreBuffers {
 public:
  std::vector<f16_bits> take(std::size_t n) {
    std::vector<f16_bits> v;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        v = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (v.size() < n) v.resize(n);
    return v;
  }
  void give_back(std::vector<f16_bits>&& v) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(v));
  }

 private:
  std::mutex mutex_;
  std::vector<std::vector<f16_bits>> free_;
};

}  // namespace

MarkerScoreOptions marker_score_options(const GssEngineOptions& options) {
  const auto& params = options.neighbors;
  MarkerScoreOptions o;
  o.neighbors_per_block = params.k_homogeneous;
  o.n_blocks = params.n_blocks();
  o.pooling = (params.dataset_type == DatasetType::kSpatial3D &&
               params.strategy == CrossSliceStrategy::kHierarchicalPool)
                  ? MarkerScorePooling::kHierarchical
                  : MarkerScorePooling::kWholeRow;
  o.no_expression_fraction = options.no_expression_fraction;
  return o;
}

namespace {

// locality_order with the own position of a neighbour given by its slot (index into nb.indices)
// and global id: the engine passes the slots' resident rows, computed once, instead of a search.
template <typename PositionOfSlot>
std::vector<std::int64_t> locality_order_by_slot(std::span<const std::int64_t> positions,
                                                 const NeighborResult& nb, int k,
                                                 const PositionOfSlot& position_of) {
  const int k_tot = nb.k_total;
  k = std::min(k, k_tot);
  const std::size_t n = positions.size();
  // Largest valid neighbour weight of each cell (f16 weights compare as their f32 values).
  std::vector<float> largest(n, -1.0f);
  std::vector<std::int64_t> slot_of;  // own position -> index in `positions`
  std::int64_t max_pos = 0;
  for (auto p : positions) max_pos = std::max(max_pos, p + 1);
  slot_of.assign(static_cast<std::size_t>(max_pos), -1);
  for (std::size_t i = 0; i < n; ++i) {
    slot_of[static_cast<std::size_t>(positions[i])] = static_cast<std::int64_t>(i);
    const std::size_t base = static_cast<std::size_t>(positions[i]) * k_tot;
    for (int j = 0; j < k; ++j) {
      if (nb.indices[base + j] >= 0) {
        largest[i] = std::max(largest[i], math::f16_to_f32(nb.cell_sims[base + j]));
      }
    }
  }
  std::vector<std::size_t> by_weight(n);
  std::iota(by_weight.begin(), by_weight.end(), std::size_t{0});
  std::stable_sort(by_weight.begin(), by_weight.end(),
                   [&](std::size_t a, std::size_t b) { return largest[a] > largest[b]; });
  std::vector<std::uint8_t> visited(n, 0);
  std::vector<std::int64_t> order;
  order.reserve(n);
  std::size_t next_start = 0;
  while (order.size() < n) {
    while (visited[by_weight[next_start]]) ++next_start;
    std::size_t cur = by_weight[next_start];
    for (;;) {
      visited[cur] = 1;
      order.push_back(positions[cur]);
      const std::size_t base = static_cast<std::size_t>(positions[cur]) * k_tot;
      std::int64_t best = -1;
      float best_w = -1.0f;
      for (int j = 0; j < k; ++j) {
        const std::int64_t g = nb.indices[base + j];
        if (g < 0) continue;
        const std::int64_t p = position_of(base + static_cast<std::size_t>(j), g);
        if (p < 0 || p >= max_pos) continue;
        const std::int64_t s = slot_of[static_cast<std::size_t>(p)];
        if (s < 0 || visited[static_cast<std::size_t>(s)]) continue;
        const float w = math::f16_to_f32(nb.cell_sims[base + j]);
        if (w > best_w) {
          best_w = w;
          best = s;
        }
      }
      if (best < 0) break;
      cur = static_cast<std::size_t>(best);
    }
  }
  return order;
}

}  // namespace

std::vector<std::int64_t> locality_order(
    std::span<const std::int64_t> positions, const NeighborResult& nb, int k,
    const std::function<std::int64_t(std::int64_t)>& position_of) {
  return locality_order_by_slot(positions, nb, k,
                                [&](std::size_t, std::int64_t g) { return position_of(g); });
}

GssRunResult run_gss_engine(const GssInputs& in, const GssEngineOptions& options,
                            GssBackend& backend, const GssHooks& hooks, MPI_Comm comm) {
  if (in.partition == nullptr || in.cells == nullptr) {
    throw ComputeError("GSS engine: inputs without a partition or a cell table");
  }
  const auto& part = *in.partition;
  const int me = dist::rank(comm);
  const std::int64_t start = part.start(me), end = part.end(me), n_ranked = end - start;
  const auto n_own = static_cast<std::int64_t>(in.own_cells.size());
  const std::int64_t n_genes = in.n_genes;
  const CellTable& table = *in.cells;
  {
    std::int64_t covered = 0;
    for (const auto& ch : in.own_chunks) {
      if (ch.begin < start || ch.end > end || ch.begin >= ch.end) {
        throw ComputeError(fmt::format("GSS engine: ranking chunk [{}, {}) is not within this "
                                       "rank's cells [{}, {})", ch.begin, ch.end, start, end));
      }
      covered += ch.end - ch.begin;
    }
    if (covered != n_ranked) {
      throw ComputeError(fmt::format("GSS engine: the ranking chunks cover {} of this rank's {} "
                                     "cells", covered, n_ranked));
    }
    for (const auto c : in.own_cells) {
      if (c < 0 || c >= table.n) {
        throw ComputeError(fmt::format("GSS engine: processed cell {} outside [0, {})", c, table.n));
      }
    }
  }
  GssRunResult result;
  auto& ledger = core::MemoryLedger::instance();

  // Stage B: neighbours of the processed cells.
  const core::CpuStopwatch clock_b;  // wall and process CPU: the stages' CPU/wall ratios
  {
    dist::StageProgress progress("neighbours", n_own, "cells", comm);
    result.neighbors = progress.run([&] {
      if (in.find_neighbors) return in.find_neighbors(in.own_cells);
      HomogeneousNeighborFinder finder(table, options.neighbors);
      return finder.find(in.own_cells);
    });
    progress.finish();
  }
  const NeighborResult& nb = result.neighbors;
  const int k_tot = nb.k_total;
  if (hooks.stage_b_done) hooks.stage_b_done();
  result.seconds_b = clock_b.wall_seconds();
  result.cpu_b = clock_b.cpu_seconds();
  ledger.set("neighbours", static_cast<std::int64_t>(
                               nb.indices.size() * (sizeof(std::int32_t) + 2 * sizeof(f16_bits)) +
                               nb.candidates.size() * sizeof(std::int32_t)));

  const ResidentIndex index(in.own_cells, halo_rows(nb, in.own_cells));
  const std::int64_t row_bytes = n_genes * static_cast<std::int64_t>(sizeof(f16_bits));

  // Stage A: ranks of the input share, global statistics (or a previous run's). When this rank
  // processes exactly the cells it ranks, the ranked block is allocated with the halo rows after
  // the ranked ones and becomes the resident block, permuted in place (docs/algorithms.md §5.3):
  // the two blocks never coexist.
  const bool in_place = processes_ranked_rows(in.own_cells, start, end);
  auto ranked = std::make_unique<RowBlock>(in_place ? index.rows() : n_ranked, n_genes,
                                           options.memmap_tmp_dir, in_place ? "log_ranks" : "ranked");
  // Ledger parts (docs/scalability.md "Memory per rank"): in place, the block is the log-rank
  // block and the halo from the start; otherwise the ranked block shrinks as the resident block
  // (log-rank block and halo) fills, window by window.
  std::optional<LedgerShare> ledger_ranked;
  LedgerShare ledger_own("log-rank block", in_place ? n_own * row_bytes : 0);
  LedgerShare ledger_halo("halo", in_place ? (index.rows() - n_own) * row_bytes : 0);
  if (!in_place) ledger_ranked.emplace("ranked block", n_ranked * row_bytes);
  const core::CpuStopwatch clock_a;
  std::optional<GeneStats> resumed;
  if (hooks.resume_stage_a) resumed = hooks.resume_stage_a(*ranked, n_ranked);
  // Every rank must take the same path (the fold and the all-reduce are collective).
  const bool all_resumed = !dist::any(!resumed.has_value(), comm);
  if (all_resumed) {
    result.stats = std::move(*resumed);
    result.stage_a_resumed = true;
  } else {
    std::vector<float> chunk_sums;
    if (hooks.stage_a_begins) hooks.stage_a_begins();
    dist::StageProgress progress("ranking", n_ranked, "cells", comm);
    auto acc = rank_own_cells(in, start, *ranked, chunk_sums, hooks);
    progress.finish();
    dist::allreduce_sum_span(acc.raw(), comm);
    result.stats = acc.finalize();  // frac from exact counts
    result.stats.g_mean = fold_g_mean(in.own_chunks, chunk_sums, static_cast<std::size_t>(n_genes),
                                      part.total(), comm);
    result.seconds_a = clock_a.wall_seconds();
    result.cpu_a = clock_a.cpu_seconds();
    if (hooks.stage_a_done) hooks.stage_a_done(result.stats, *ranked, n_ranked);
  }

#ifdef __GLIBC__
  // Stage A's chunk buffers and what its hooks freed (the log-rank file's obs, gathered to rank 0)
  // are heap blocks amid live ones: give their pages back before the resident block fills.
  malloc_trim(0);
#endif
  // The resident block: processed cells' rows, then the halo, each row fetched once per run.
  const auto t_h = Clock::now();
  RowBlock block;
  FetchCounts fetched;
  // Windows of at most 1/32 of the resident block (and the option's bound) of each holder's rows
  // per round, the same on every rank (the largest rank's).
  const std::int64_t window = std::max<std::int64_t>(
      1, std::min<std::int64_t>(static_cast<std::int64_t>(options.halo_bytes_per_exchange),
                                std::max<std::int64_t>(row_bytes, index.rows() * row_bytes / 32)) /
             row_bytes);
  if (in_place) {
    block = std::move(*ranked);
    fetched = fetch_halo_in_place(part, index, block, window, result.send_buffer_rows,
                                  result.window_rows, comm);
    result.peak_rows_held = index.rows();
  } else {
    // A fresh block: its pages are faulted in as the rows arrive.
    block = RowBlock(index.rows(), n_genes, options.memmap_tmp_dir, "log_ranks");
    const StreamedFetch streamed = fetch_resident_rows_streamed(
        part, index, *ranked, block, window, *ledger_ranked, ledger_own, ledger_halo, comm);
    fetched = streamed.counts;
    result.peak_rows_held = streamed.peak_rows_held;
    result.window_rows = streamed.window_rows;
    result.send_buffer_rows = streamed.send_buffer_rows;
  }
  ranked.reset();
  ledger_ranked.reset();
  result.ranked_rows = n_ranked;
  result.resident_rows = index.rows();
  result.resident_in_place = in_place;
  result.own_rows = n_own;
  result.redistributed_rows = fetched.own_received;
  result.halo_rows = static_cast<std::int64_t>(index.halo().size());
  result.halo_rows_received = fetched.halo_received;
  result.exchange_rounds = fetched.rounds;
  result.seconds_halo = seconds_since(t_h);
#ifdef __GLIBC__
  malloc_trim(0);  // the fetch's send buffers, likewise, before Stage C
#endif
  if (hooks.stage_c_begins) hooks.stage_c_begins();

  // Stage C.
  const core::CpuStopwatch clock_c;
  const std::size_t n_rows = static_cast<std::size_t>(index.rows());
  const std::size_t g = static_cast<std::size_t>(n_genes);
  std::vector<f16_bits> row_minimum(n_rows);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_rows, 64), [&](const auto& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      row_minimum[i] = row_minimum_f16(block.row(static_cast<std::int64_t>(i)), g);
    }
  });
  // Neighbour slots as resident rows, once (the writer of marker scores keeps global ids).
  std::vector<std::int32_t> slot_rows(nb.indices.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, nb.indices.size(), 4096), [&](const auto& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const std::int64_t idx = nb.indices[i];
      slot_rows[i] = idx < 0 ? -1 : static_cast<std::int32_t>(index.row(idx));
    }
  });
  ledger.set("GSS slots", static_cast<std::int64_t>(slot_rows.size() * sizeof(std::int32_t) +
                                                    row_minimum.size() * sizeof(f16_bits)));
  const ResidentRows resident{n_rows, g,
                              std::span<const f16_bits>(block.data(), n_rows * g),
                              std::span<const f16_bits>(row_minimum)};
  const auto ms_options = marker_score_options(options);
  std::vector<float> g_mean(g), frac(g);
  for (std::size_t q = 0; q < g; ++q) {
    g_mean[q] = static_cast<float>(result.stats.g_mean[q]);
    frac[q] = static_cast<float>(result.stats.frac[q]);
  }
  std::vector<std::unique_ptr<GssWorker>> workers;
  for (int w = 0; w < options.shape.compute_workers; ++w) {
    workers.push_back(backend.make_worker(ms_options, g_mean, frac, resident));
  }
  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_size);

  std::atomic<std::int64_t> zero_weight{0};
  ScoreBuffers buffers;
  core::PipelineStages<GssJob, GssSlots, GssComputed> stages;
  stages.read = [&](GssJob& job, int) {
    GssSlots s;
    s.cells = std::move(job.cells);
    const std::size_t kt = static_cast<std::size_t>(k_tot);
    s.slot_rows.resize(s.cells.size() * kt);
    s.weights.resize(s.cells.size() * kt);
    for (std::size_t i = 0; i < s.cells.size(); ++i) {
      const std::size_t base = static_cast<std::size_t>(s.cells[i]) * kt;
      std::copy_n(slot_rows.data() + base, kt, s.slot_rows.data() + i * kt);
      std::copy_n(nb.cell_sims.data() + base, kt, s.weights.data() + i * kt);
    }
    return s;
  };
  stages.compute = [&](GssSlots& s, int worker) {
    GssComputed out;
    out.cells = std::move(s.cells);
    out.n_values = out.cells.size() * g;
    out.scores = buffers.take(out.n_values);
    NeighbourRankBatch batch;
    batch.n_cells = out.cells.size();
    batch.n_rows = n_rows;
    batch.n_genes = g;
    batch.log_ranks = resident.log_ranks;
    batch.slot_rows = s.slot_rows;
    batch.weights = s.weights;
    batch.row_minimum = resident.row_minimum;
    const std::span<f16_bits> scores(out.scores.data(), out.n_values);
    out.zero_weight =
        workers[static_cast<std::size_t>(worker)]->compute(batch, scores).zero_weight_cells;
    ledger.add("GSS batches", static_cast<std::int64_t>(out.n_values * sizeof(f16_bits)));
    return out;
  };
  stages.write = [&](GssComputed& r, int) {
    if (hooks.sink) hooks.sink(r.cells, std::span<const f16_bits>(r.scores.data(), r.n_values));
    ledger.add("GSS batches", -static_cast<std::int64_t>(r.n_values * sizeof(f16_bits)));
    buffers.give_back(std::move(r.scores));
    zero_weight += static_cast<std::int64_t>(r.zero_weight);
    const std::int64_t first = in.own_cells[static_cast<std::size_t>(r.cells.front())];
    const auto type = table.group.empty() ? 0 : table.group[static_cast<std::size_t>(first)];
    core::progress_add(static_cast<std::int64_t>(r.cells.size()), static_cast<std::size_t>(type));
    kill_point("gss");
  };
  // Finished batches wait for the writers in a queue of at most 1/16 of the resident block's bytes
  // (at least 2 batches, at most --writer-queue-size): the GSS rows waiting to be written follow
  // the rank's share instead of a fixed count of batches (docs/scalability.md "Memory per rank").
  // Only the queue's depth changes; the writers set the pace when they are the slower stage.
  core::PipelineShape shape = options.shape;
  // The writers serialise on the output file; once they are the bottleneck, a compute worker
  // that outruns them yields its core to them (include/gsmap/core/staged_pipeline.hpp).
  shape.writers_first = true;
  const std::size_t batch_bytes = batch_size * g * sizeof(f16_bits);
  shape.writer_queue_size = std::clamp<std::size_t>(block.bytes() / 16 / std::max<std::size_t>(1, batch_bytes), 2,
                                                    std::max<std::size_t>(2, options.shape.writer_queue_size));
  result.writer_queue_batches = static_cast<std::int64_t>(shape.writer_queue_size);
  core::StagedPipeline<GssJob, GssSlots, GssComputed> pipeline(shape, stages);

  // Batches per cell type (cells of one type read each other's rows), in locality order.
  const std::size_t n_types = std::max<std::size_t>(1, table.group_names.size());
  std::vector<std::vector<std::int64_t>> by_type(n_types);
  for (std::int64_t i = 0; i < n_own; ++i) {
    const std::int64_t cell = in.own_cells[static_cast<std::size_t>(i)];
    const std::int32_t t = table.group.empty() ? 0 : table.group[static_cast<std::size_t>(cell)];
    if (t < 0 || static_cast<std::size_t>(t) >= n_types) {
      throw ComputeError(fmt::format("cell {} has cell type label {} outside [0, {})", cell, t,
                                     n_types));
    }
    by_type[static_cast<std::size_t>(t)].push_back(i);
  }
  // A neighbour's own position is its resident row when that is an own row (slot_rows, above).
  const auto own_position = [&](std::size_t slot, std::int64_t) -> std::int64_t {
    const std::int32_t row = slot_rows[slot];
    return row < n_own ? row : -1;
  };
  // The cell types' orders are independent: computed in parallel, batched in type order.
  std::vector<std::vector<std::int64_t>> orders(n_types);
  tbb::parallel_for(std::size_t{0}, n_types, [&](std::size_t t) {
    orders[t] = locality_order_by_slot(by_type[t], nb, options.neighbors.k_homogeneous, own_position);
  });
  std::vector<GssJob> jobs;
  for (std::size_t t = 0; t < n_types; ++t) {
    if (by_type[t].empty()) continue;
    const auto& order = orders[t];
    for (std::size_t b0 = 0; b0 < order.size(); b0 += batch_size) {
      GssJob job;
      job.cells.assign(order.begin() + static_cast<std::ptrdiff_t>(b0),
                       order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), b0 + batch_size)));
      jobs.push_back(std::move(job));
    }
    if (!table.group_names.empty()) {
      GSMAP_LOG_INFO("Cell type '{}': {} cells on rank {}", table.group_names[t], order.size(), me);
    }
  }
  // Progress per cell type (the batches are of one type each); no names: one unnamed part.
  std::vector<std::string> type_names(n_types);
  std::vector<std::int64_t> type_cells(n_types);
  for (std::size_t t = 0; t < n_types; ++t) {
    if (!table.group_names.empty()) {
      type_names[t] = fmt::format("cell type '{}'", table.group_names[t]);
    }
    type_cells[t] = static_cast<std::int64_t>(by_type[t].size());
  }
  dist::StageProgress progress("GSS", std::move(type_names), std::move(type_cells), "cells", comm);
  result.report = pipeline.run(std::move(jobs), "GSS", batch_size);
  progress.finish();
  result.zero_weight_cells = zero_weight.load();
  result.seconds_c = clock_c.wall_seconds();
  result.cpu_c = clock_c.cpu_seconds();
  ledger.set("GSS slots", 0);
  return result;
}

}  // namespace gsmap::gss
