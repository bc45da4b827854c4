#include "gsmap/dist/halo.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::dist {

HaloExchange::HaloExchange(const Partition& partition, MPI_Comm comm, std::size_t row_bytes,
                           const std::byte* own_rows)
    : partition_(partition), comm_(comm), row_bytes_(row_bytes), own_rows_(own_rows) {
  GSMAP_MPI_CALL(MPI_Type_contiguous(static_cast<int>(row_bytes), MPI_BYTE, &row_type_));
  GSMAP_MPI_CALL(MPI_Type_commit(&row_type_));
}

HaloExchange::~HaloExchange() { MPI_Type_free(&row_type_); }

std::vector<std::byte> HaloExchange::exchange(const std::vector<std::int64_t>& needed) {
  const int n = partition_.parts();
  const int me = rank(comm_);
  // Requests grouped by owner: `needed` is sorted, so each owner's rows are one run.
  std::vector<int> send_counts(n, 0), recv_counts(n, 0);
  for (std::int64_t row : needed) {
    const int owner = partition_.owner(row);
    if (owner == me) throw ComputeError(fmt::format("halo request for own row {}", row));
    ++send_counts[owner];
  }
  GSMAP_MPI_CALL(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm_));
  std::vector<int> send_displ(n, 0), recv_displ(n, 0);
  for (int r = 1; r < n; ++r) {
    send_displ[r] = send_displ[r - 1] + send_counts[r - 1];
    recv_displ[r] = recv_displ[r - 1] + recv_counts[r - 1];
  }
  const int n_requests_in = recv_displ[n - 1] + recv_counts[n - 1];
  std::vector<std::int64_t> requested(n_requests_in);
  GSMAP_MPI_CALL(MPI_Alltoallv(needed.data(), send_counts.data(), send_displ.data(), MPI_INT64_T,
                               requested.data(), recv_counts.data(), recv_displ.data(), MPI_INT64_T,
                               comm_));
  // Serve: copy the requested own rows in request order.
  std::vector<std::byte> serve(static_cast<std::size_t>(n_requests_in) * row_bytes_);
  const std::int64_t my_start = partition_.start(me), my_end = partition_.end(me);
  for (int i = 0; i < n_requests_in; ++i) {
    const std::int64_t row = requested[i];
    if (row < my_start || row >= my_end) {
      throw ComputeError(fmt::format("rank {} asked for row {} outside [{}, {})", me, row, my_start,
                                     my_end));
    }
    std::memcpy(serve.data() + static_cast<std::size_t>(i) * row_bytes_,
                own_rows_ + static_cast<std::size_t>(row - my_start) * row_bytes_, row_bytes_);
  }
  // Rows travel back: what I served goes to the requester, what I asked for comes to me.
  std::vector<std::byte> received(needed.size() * row_bytes_);
  GSMAP_MPI_CALL(MPI_Alltoallv(serve.data(), recv_counts.data(), recv_displ.data(), row_type_,
                               received.data(), send_counts.data(), send_displ.data(), row_type_,
                               comm_));
  rows_received_ += static_cast<std::int64_t>(needed.size());
  rows_sent_ += n_requests_in;
  return received;
}

RedistributionCounts send_rows_to_owners(std::span<const std::int64_t> keys,
                                         std::span<const int> dest, std::size_t row_bytes,
                                         const std::function<const std::byte*(std::size_t)>& row,
                                         const std::function<void(std::int64_t, const std::byte*)>& place,
                                         std::size_t bytes_per_round, MPI_Comm comm) {
  const int n = size(comm), me = rank(comm);
  if (keys.size() != dest.size()) throw ComputeError("send_rows_to_owners: keys and ranks differ in size");
  RedistributionCounts counts;
  // Rows to other ranks, grouped by destination (stable: each rank receives in this rank's order).
  std::vector<std::size_t> outgoing;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (dest[i] < 0 || dest[i] >= n) {
      throw ComputeError(fmt::format("send_rows_to_owners: row {} for rank {} of {}", keys[i], dest[i], n));
    }
    if (dest[i] == me) {
      place(keys[i], row(i));
      ++counts.rows_local;
    } else {
      outgoing.push_back(i);
    }
  }
  std::stable_sort(outgoing.begin(), outgoing.end(),
                   [&](std::size_t a, std::size_t b) { return dest[a] < dest[b]; });
  const std::size_t per = std::max<std::size_t>(1, bytes_per_round / std::max<std::size_t>(1, row_bytes));
  const auto mine = static_cast<std::int64_t>((outgoing.size() + per - 1) / per);
  std::int64_t rounds = mine;
  GSMAP_MPI_CALL(MPI_Allreduce(&mine, &rounds, 1, MPI_INT64_T, MPI_MAX, comm));
  MPI_Datatype row_type;
  GSMAP_MPI_CALL(MPI_Type_contiguous(static_cast<int>(row_bytes), MPI_BYTE, &row_type));
  GSMAP_MPI_CALL(MPI_Type_commit(&row_type));
  std::vector<int> send_counts(n), recv_counts(n), send_displ(n), recv_displ(n);
  std::vector<std::int64_t> send_keys, recv_keys;
  std::vector<std::byte> send_rows, recv_rows;
  for (std::int64_t x = 0; x < rounds; ++x) {
    const std::size_t b = std::min(outgoing.size(), static_cast<std::size_t>(x) * per);
    const std::size_t e = std::min(outgoing.size(), b + per);
    std::fill(send_counts.begin(), send_counts.end(), 0);
    send_keys.clear();
    send_rows.resize((e - b) * row_bytes);
    for (std::size_t j = b; j < e; ++j) {
      const std::size_t i = outgoing[j];
      ++send_counts[dest[i]];
      send_keys.push_back(keys[i]);
      std::memcpy(send_rows.data() + (j - b) * row_bytes, row(i), row_bytes);
    }
    GSMAP_MPI_CALL(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm));
    for (int r = 1; r < n; ++r) {
      send_displ[r] = send_displ[r - 1] + send_counts[r - 1];
      recv_displ[r] = recv_displ[r - 1] + recv_counts[r - 1];
    }
    const int n_in = recv_displ[n - 1] + recv_counts[n - 1];
    recv_keys.resize(static_cast<std::size_t>(n_in));
    recv_rows.resize(static_cast<std::size_t>(n_in) * row_bytes);
    GSMAP_MPI_CALL(MPI_Alltoallv(send_keys.data(), send_counts.data(), send_displ.data(), MPI_INT64_T,
                                 recv_keys.data(), recv_counts.data(), recv_displ.data(), MPI_INT64_T,
                                 comm));
    GSMAP_MPI_CALL(MPI_Alltoallv(send_rows.data(), send_counts.data(), send_displ.data(), row_type,
                                 recv_rows.data(), recv_counts.data(), recv_displ.data(), row_type,
                                 comm));
    for (int i = 0; i < n_in; ++i) {
      place(recv_keys[static_cast<std::size_t>(i)], recv_rows.data() + static_cast<std::size_t>(i) * row_bytes);
    }
    counts.rows_sent += static_cast<std::int64_t>(e - b);
    counts.rows_received += n_in;
  }
  MPI_Type_free(&row_type);
  counts.rounds = rounds;
  return counts;
}

namespace {
struct RowType {  // a committed contiguous MPI datatype of one row, freed on scope exit
  MPI_Datatype type = MPI_DATATYPE_NULL;
  explicit RowType(std::size_t row_bytes) {
    GSMAP_MPI_CALL(MPI_Type_contiguous(static_cast<int>(row_bytes), MPI_BYTE, &type));
    GSMAP_MPI_CALL(MPI_Type_commit(&type));
  }
  ~RowType() { MPI_Type_free(&type); }
  RowType(const RowType&) = delete;
  RowType& operator=(const RowType&) = delete;
};
}  // namespace

WindowPlan windows_of(const Partition& partition, std::int64_t window_rows) {
  WindowPlan plan;
  window_rows = std::max<std::int64_t>(1, window_rows);
  for (int r = 0; r < partition.parts(); ++r) {
    plan.rounds = std::max(plan.rounds, (partition.count(r) + window_rows - 1) / window_rows);
  }
  for (int r = 0; r < partition.parts(); ++r) {
    plan.rows.push_back(plan.rounds > 0 ? std::max<std::int64_t>(1, (partition.count(r) + plan.rounds - 1) / plan.rounds) : 1);
  }
  return plan;
}

WindowedFetchCounts fetch_rows_in_windows(
    const Partition& partition, std::span<const std::int64_t> needed, std::size_t row_bytes,
    const std::byte* held, std::int64_t window_rows, std::byte* out, std::span<std::int64_t> slot,
    const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& round_done,
    MPI_Comm comm) {
  const int n = partition.parts(), me = rank(comm);
  if (size(comm) != n) {
    throw ComputeError(fmt::format("fetch_rows_in_windows: a partition of {} parts on {} ranks", n, size(comm)));
  }
  if (slot.size() != needed.size()) throw ComputeError("fetch_rows_in_windows: needed and slot differ in size");
  if (window_rows < 1) throw ComputeError("fetch_rows_in_windows: a window of no rows");
  WindowedFetchCounts counts;
  // This rank's requests, one run per owner (needed is sorted, the partition's ranges ascend).
  std::vector<std::size_t> run(static_cast<std::size_t>(n) + 1, 0);
  for (std::size_t k = 0; k < needed.size(); ++k) {
    if (k > 0 && needed[k] <= needed[k - 1]) {
      throw ComputeError(fmt::format("fetch_rows_in_windows: needed rows not sorted and unique at {}", needed[k]));
    }
    if (needed[k] < 0 || needed[k] >= partition.total()) {
      throw ComputeError(fmt::format("fetch_rows_in_windows: row {} outside [0, {})", needed[k], partition.total()));
    }
    ++run[static_cast<std::size_t>(partition.owner(needed[k])) + 1];
  }
  for (int r = 0; r < n; ++r) run[r + 1] += run[r];
  // The requests travel once, up front (8 bytes per row): every holder then knows, for each of
  // its windows, which of its rows go where. Own rows are not sent.
  std::vector<int> ask(n), asked(n), ask_displ(n, 0), asked_displ(n, 0);
  for (int r = 0; r < n; ++r) ask[r] = r == me ? 0 : static_cast<int>(run[r + 1] - run[r]);
  GSMAP_MPI_CALL(MPI_Alltoall(ask.data(), 1, MPI_INT, asked.data(), 1, MPI_INT, comm));
  for (int r = 0; r < n; ++r) ask_displ[r] = static_cast<int>(run[r]);
  for (int r = 1; r < n; ++r) asked_displ[r] = asked_displ[r - 1] + asked[r - 1];
  std::vector<std::int64_t> requested(static_cast<std::size_t>(asked_displ[n - 1] + asked[n - 1]));
  GSMAP_MPI_CALL(MPI_Alltoallv(needed.data(), ask.data(), ask_displ.data(), MPI_INT64_T,
                               requested.data(), asked.data(), asked_displ.data(), MPI_INT64_T, comm));
  const std::int64_t my_start = partition.start(me), my_count = partition.count(me);
  for (const auto row : requested) {
    if (row < my_start || row >= my_start + my_count) {
      throw ComputeError(fmt::format("rank {} asked for row {} outside [{}, {})", me, row, my_start,
                                     my_start + my_count));
    }
  }
  // Every rank must cut the same windows: the largest rank's window_rows (a rank with few rows
  // does not force small windows on all), then every share in the same number of rounds.
  GSMAP_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &window_rows, 1, MPI_INT64_T, MPI_MAX, comm));
  const WindowPlan plan = windows_of(partition, window_rows);
  counts.window_rows = plan.rows[static_cast<std::size_t>(me)];
  counts.rounds = plan.rounds;
  const RowType row_type(row_bytes);
  std::vector<std::size_t> serve_at(n), take_at(n);  // cursors into requested / needed
  for (int r = 0; r < n; ++r) {
    serve_at[r] = static_cast<std::size_t>(asked_displ[r]);
    take_at[r] = run[r];
  }
  std::vector<int> send_counts(n), send_displ(n), recv_counts(n), recv_displ(n), check(n);
  std::vector<std::byte> send;
  std::int64_t filled = 0;
  const auto window_end = [&](int r, std::int64_t x) {  // global end of rank r's window x
    return partition.start(r) + std::min(partition.count(r), (x + 1) * plan.rows[static_cast<std::size_t>(r)]);
  };
  for (std::int64_t x = 0; x < counts.rounds; ++x) {
    // Own rows of this window: copied, first.
    const std::int64_t own_end = window_end(me, x);
    for (auto& k = take_at[me]; k < run[me + 1] && needed[k] < own_end; ++k) {
      std::memcpy(out + static_cast<std::size_t>(filled) * row_bytes,
                  held + static_cast<std::size_t>(needed[k] - my_start) * row_bytes, row_bytes);
      slot[k] = filled++;
      ++counts.rows_local;
    }
    // Rows of this window that others asked for, packed by requester.
    std::size_t packed = 0;
    for (int r = 0; r < n; ++r) {
      const std::size_t b = serve_at[r], e_all = static_cast<std::size_t>(asked_displ[r] + asked[r]);
      std::size_t e = b;
      while (e < e_all && requested[e] < own_end) ++e;
      send_counts[r] = static_cast<int>(e - b);
      send_displ[r] = static_cast<int>(packed);
      packed += e - b;
    }
    send.resize(packed * row_bytes);
    counts.send_buffer_rows = std::max(counts.send_buffer_rows, static_cast<std::int64_t>(packed));
    for (int r = 0; r < n; ++r) {
      for (int i = 0; i < send_counts[r]; ++i) {
        const std::int64_t row = requested[serve_at[r] + static_cast<std::size_t>(i)];
        std::memcpy(send.data() + (static_cast<std::size_t>(send_displ[r]) + static_cast<std::size_t>(i)) * row_bytes,
                    held + static_cast<std::size_t>(row - my_start) * row_bytes, row_bytes);
      }
      serve_at[r] += static_cast<std::size_t>(send_counts[r]);
    }
    // Rows of the senders' windows x that this rank asked for land after the own rows.
    std::int64_t incoming = 0;
    for (int s = 0; s < n; ++s) {
      std::size_t e = take_at[s];
      if (s != me) {
        const std::int64_t end_s = window_end(s, x);
        while (e < run[s + 1] && needed[e] < end_s) ++e;
      }
      recv_counts[s] = static_cast<int>(e - take_at[s]);
      recv_displ[s] = static_cast<int>(incoming);
      for (std::size_t k = take_at[s]; k < e; ++k) slot[k] = filled + incoming++;
      take_at[s] = e;
    }
    // Both sides count the rows of a round from the same requests: a check, p integers a round.
    GSMAP_MPI_CALL(MPI_Alltoall(send_counts.data(), 1, MPI_INT, check.data(), 1, MPI_INT, comm));
    for (int s = 0; s < n; ++s) {
      if (check[s] != recv_counts[s]) {
        throw ComputeError(fmt::format("fetch_rows_in_windows: round {}: rank {} sends {} rows, rank {} "
                                       "expects {}", x, s, check[s], me, recv_counts[s]));
      }
    }
    GSMAP_MPI_CALL(MPI_Alltoallv(send.data(), send_counts.data(), send_displ.data(), row_type.type,
                                 out + static_cast<std::size_t>(filled) * row_bytes, recv_counts.data(),
                                 recv_displ.data(), row_type.type, comm));
    filled += incoming;
    counts.rows_received += incoming;
    counts.rows_sent += static_cast<std::int64_t>(packed);
    if (round_done) round_done(x, window_end(me, x) - my_start, filled);
  }
  for (int r = 0; r < n; ++r) {
    if (take_at[r] != run[r + 1]) {
      throw ComputeError(fmt::format("fetch_rows_in_windows: {} rows asked of rank {} never came",
                                     run[r + 1] - take_at[r], r));
    }
  }
  return counts;
}

}  // namespace gsmap::dist
