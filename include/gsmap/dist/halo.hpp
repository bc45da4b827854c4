#pragma once
// Halo exchange of fixed-size rows between ranks of a row partition: each rank asks for the rows
// it needs that other ranks own and serves the rows others ask of it (MPI_Alltoallv of the
// requested indices, then of the rows as one contiguous MPI datatype per row). Collective: every
// rank calls exchange() the same number of times, with an empty request when it needs nothing.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "gsmap/dist/mpi.hpp"

namespace gsmap::dist {

class HaloExchange {
 public:
  // `own_rows` points at this rank's block: rows [partition.start(me), partition.end(me)), each
  // `row_bytes` bytes, row-major. It must stay valid while exchange() runs.
  HaloExchange(const Partition& partition, MPI_Comm comm, std::size_t row_bytes,
               const std::byte* own_rows);
  ~HaloExchange();
  HaloExchange(const HaloExchange&) = delete;
  HaloExchange& operator=(const HaloExchange&) = delete;

  // Collective. `needed`: sorted, unique global rows owned by OTHER ranks. Returns their bytes in
  // the order of `needed` (needed.size() * row_bytes).
  std::vector<std::byte> exchange(const std::vector<std::int64_t>& needed);

  std::int64_t rows_received() const { return rows_received_; }
  std::int64_t rows_sent() const { return rows_sent_; }
  std::size_t row_bytes() const { return row_bytes_; }

 private:
  const Partition& partition_;
  MPI_Comm comm_;
  std::size_t row_bytes_;
  const std::byte* own_rows_;
  MPI_Datatype row_type_;
  std::int64_t rows_received_ = 0, rows_sent_ = 0;
};

// Collective: a pull of rows in windows of the holders' order (docs/algorithms.md §5.3), so that
// a holder can release its rows as the exchange passes them while the receivers' rows arrive.
// Rank r holds rows [partition.start(r), partition.end(r)), row i of them at
// held + (i - start) * row_bytes. `needed`: sorted, unique global rows this rank wants (its own
// rows included: copied, not sent). Round x moves, from every rank r, the needed rows among its
// held rows [start + x * w_r, start + (x + 1) * w_r) (w_r: windows_of(partition, the largest
// rank's window_rows)): they land in `out` one after the
// other in arrival order (the round's own rows first, then the received rows by source rank, each
// source's in global order), so `out` fills as a prefix; slot[k] is set to the row of `out` that
// holds needed[k]. The rounds are as many as the rank with the most held rows needs (every rank
// joins every round). After round x, `round_done(x, held_done, filled)`: this rank's held rows
// [0, held_done) are read by nobody any more (the caller may release them), rows [0, filled) of
// `out` are written. Sends are packed in one buffer per round (the round's requested rows).
// The windows of fetch_rows_in_windows: as many rounds as the largest share needs in windows of
// `window_rows`, and every rank's share cut into that many equal windows (rows[r] rows each, the
// last one shorter), so that every rank releases its rows at the same pace.
struct WindowPlan {
  std::int64_t rounds = 0;
  std::vector<std::int64_t> rows;  // per rank
};
WindowPlan windows_of(const Partition& partition, std::int64_t window_rows);

struct WindowedFetchCounts {
  std::int64_t rows_local = 0, rows_received = 0, rows_sent = 0, rounds = 0;
  std::int64_t send_buffer_rows = 0;  // the largest round's packed rows
  std::int64_t window_rows = 0;       // this rank's window (windows_of)
};
WindowedFetchCounts fetch_rows_in_windows(
    const Partition& partition, std::span<const std::int64_t> needed, std::size_t row_bytes,
    const std::byte* held, std::int64_t window_rows, std::byte* out, std::span<std::int64_t> slot,
    const std::function<void(std::int64_t round, std::int64_t held_done, std::int64_t filled)>& round_done,
    MPI_Comm comm);

// Collective: moves fixed-size rows to the ranks that keep them (the push counterpart of
// HaloExchange, for a redistribution between two orders of the same cells). Row i of this rank
// (`row(i)`, `row_bytes` bytes) has the key keys[i] and goes to rank dest[i]; every rank receives
// the rows sent to it and hands each to `place(key, bytes)`, rows to itself included (copied,
// not sent). Runs in rounds of at most `bytes_per_round` rows sent per rank (every rank joins every
// round). Returns what this rank sent and received over MPI and the rounds.
struct RedistributionCounts {
  std::int64_t rows_sent = 0, rows_received = 0, rows_local = 0, rounds = 0;
};
RedistributionCounts send_rows_to_owners(std::span<const std::int64_t> keys,
                                         std::span<const int> dest, std::size_t row_bytes,
                                         const std::function<const std::byte*(std::size_t)>& row,
                                         const std::function<void(std::int64_t, const std::byte*)>& place,
                                         std::size_t bytes_per_round, MPI_Comm comm);

}  // namespace gsmap::dist
