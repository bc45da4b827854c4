#include "gsmap/dist/halo.hpp"

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

}  // namespace gsmap::dist
