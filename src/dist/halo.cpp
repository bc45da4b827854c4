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

}  // namespace gsmap::dist
