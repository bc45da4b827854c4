// Device buffers between ranks: NCCL point-to-point or MPI through pinned host staging
// (device/transport.hpp, docs/gpu.md "Device transport").
#include "gsmap/device/transport.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/host_staging.hpp"
#include "gsmap/device/nccl.hpp"
#include "gsmap/dist/mpi.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "device_memory.hpp"
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {
namespace {

constexpr int kTag = 7301;
// MPI counts are int: larger transfers go as several messages of at most 1 GiB, split the same
// way on both sides.
constexpr std::size_t kMaxMessage = std::size_t{1} << 30;

// Every rank's report, gathered to every rank (fields joined by \x1f).
std::vector<RankTransportInfo> allgather_info(const RankTransportInfo& mine, MPI_Comm comm) {
  const std::string packed = fmt::format("{}\x1f{}\x1f{}", mine.nccl_loaded ? 1 : 0,
                                         mine.nccl_why_not, mine.device_id);
  const int n = dist::size(comm);
  const int length = static_cast<int>(packed.size());
  std::vector<int> lengths(n), offsets(n + 1, 0);
  GSMAP_MPI_CALL(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm));
  for (int r = 0; r < n; ++r) offsets[r + 1] = offsets[r] + lengths[r];
  std::string all(static_cast<std::size_t>(offsets[n]), '\0');
  GSMAP_MPI_CALL(MPI_Allgatherv(packed.data(), length, MPI_CHAR, all.data(), lengths.data(),
                                offsets.data(), MPI_CHAR, comm));
  std::vector<RankTransportInfo> out(n);
  for (int r = 0; r < n; ++r) {
    const std::string one = all.substr(offsets[r], lengths[r]);
    const auto a = one.find('\x1f'), b = one.find('\x1f', a + 1);
    out[r].nccl_loaded = one.substr(0, a) == "1";
    out[r].nccl_why_not = one.substr(a + 1, b - a - 1);
    out[r].device_id = one.substr(b + 1);
  }
  return out;
}

[[maybe_unused]] std::string host_name() {  // device ids (CUDA builds only)
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  GSMAP_MPI_CALL(MPI_Get_processor_name(name, &length));
  return std::string(name, static_cast<std::size_t>(length));
}

template <class Buffer>
void check_buffers(std::span<const Buffer> buffers, int n_ranks, const char* what) {
  for (const Buffer& b : buffers) {
    if (b.peer < 0 || b.peer >= n_ranks)
      throw ComputeError(fmt::format("device transport: {} peer {} outside the communicator of {} "
                                     "ranks",
                                     what, b.peer, n_ranks));
    if (b.bytes > 0 && b.data == nullptr)
      throw ComputeError(fmt::format("device transport: {} of {} bytes to/from rank {} has no "
                                     "buffer",
                                     what, b.bytes, b.peer));
  }
}

// Host buffers through MPI: every receive posted first, then every send, then one wait.
void mpi_exchange(std::span<const SendBuffer> sends, std::span<const RecvBuffer> recvs,
                  MPI_Comm comm) {
  std::vector<MPI_Request> requests;
  auto pieces = [](std::size_t bytes, auto&& post_one) {
    for (std::size_t off = 0; off < bytes; off += kMaxMessage)
      post_one(off, static_cast<int>(std::min(kMaxMessage, bytes - off)));
  };
  for (const RecvBuffer& r : recvs) {
    pieces(r.bytes, [&](std::size_t off, int count) {
      GSMAP_MPI_CALL(MPI_Irecv(static_cast<char*>(r.data) + off, count, MPI_BYTE, r.peer, kTag,
                               comm, &requests.emplace_back()));
    });
  }
  for (const SendBuffer& s : sends) {
    pieces(s.bytes, [&](std::size_t off, int count) {
      GSMAP_MPI_CALL(MPI_Isend(static_cast<const char*>(s.data) + off, count, MPI_BYTE, s.peer,
                               kTag, comm, &requests.emplace_back()));
    });
  }
  GSMAP_MPI_CALL(MPI_Waitall(static_cast<int>(requests.size()), requests.data(),
                             MPI_STATUSES_IGNORE));
}

}  // namespace

const char* path_name(TransportPath path) { return path == TransportPath::kNccl ? "NCCL" : "MPI"; }

TransportChoice choose_transport(Memory memory, bool allow_nccl,
                                 const std::vector<RankTransportInfo>& ranks) {
  if (memory == Memory::kHost) return {TransportPath::kMpi, "host buffers"};
  if (!allow_nccl) return {TransportPath::kMpi, "NCCL not allowed by the caller"};
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    if (!ranks[r].nccl_loaded) {
      return {TransportPath::kMpi,
              fmt::format("NCCL not loaded{}: {}",
                          ranks.size() > 1 ? fmt::format(" on rank {}", r) : std::string(),
                          ranks[r].nccl_why_not)};
    }
  }
  for (std::size_t a = 0; a < ranks.size(); ++a) {
    for (std::size_t b = a + 1; b < ranks.size(); ++b) {
      if (ranks[a].device_id == ranks[b].device_id) {
        return {TransportPath::kMpi,
                fmt::format("ranks {} and {} share GPU {} (NCCL needs one GPU per rank)", a, b,
                            ranks[a].device_id)};
      }
    }
  }
  return {TransportPath::kNccl,
          ranks.size() == 1 ? "one rank" : fmt::format("{} ranks on distinct GPUs", ranks.size())};
}

struct DeviceTransport::Impl {
  std::unique_ptr<nccl::Communicator> nccl;
  HostStagingBuffer send_stage, recv_stage;
#if defined(GSMAP_WITH_CUDA)
  std::optional<CudaStream> stream;
#endif
};

DeviceTransport::DeviceTransport(MPI_Comm comm, Memory memory, bool allow_nccl)
    : comm_(comm), memory_(memory), impl_(std::make_unique<Impl>()) {
  RankTransportInfo mine;
  std::string local_error;
  if (memory == Memory::kDevice) {
#if defined(GSMAP_WITH_CUDA)
    if (visible_gpus() == 0) {
      local_error = "device transport: device buffers, but this rank sees no GPU";
    } else {
      cuda::set_device(selected_device());
      mine.device_id = host_name() + "/" + cuda::pci_bus_id(selected_device());
      impl_->stream.emplace();
    }
#else
    local_error = "device transport: device buffers need the CUDA backend, which this binary lacks";
#endif
    if (allow_nccl) {
      const nccl::Library& lib = nccl::library();
      mine.nccl_loaded = lib.loaded;
      mine.nccl_why_not = lib.why_not;
    }
  }
  dist::throw_if_any_failed(local_error, comm);
  choice_ = choose_transport(memory, allow_nccl, allgather_info(mine, comm));
  if (choice_.path == TransportPath::kNccl) {
    // NCCL reads the machine's topology and opens sockets while it initialises, which a sandbox
    // may refuse: a failure on any rank sends every rank down the MPI path, logged.
    std::string failed;
    try {
      impl_->nccl = std::make_unique<nccl::Communicator>(comm);
    } catch (const Error& e) {
      failed = e.what();
    }
    if (dist::any(!failed.empty(), comm)) {
      impl_->nccl.reset();
      choice_ = {TransportPath::kMpi,
                 failed.empty() ? "NCCL initialisation failed on another rank"
                                : "NCCL initialisation failed: " + failed};
      GSMAP_LOG_WARN("device transport: {}", choice_.reason);
    }
  }
  if (dist::rank(comm) == 0) GSMAP_LOG_INFO("device transport: {}", describe());
}

DeviceTransport::~DeviceTransport() = default;

std::string DeviceTransport::describe() const {
  if (choice_.path == TransportPath::kNccl) {
    const nccl::Library& lib = nccl::library();
    return fmt::format("NCCL {} from {} ({})", nccl::version_string(lib.version), lib.path,
                       choice_.reason);
  }
  return fmt::format("MPI{} ({})", memory_ == Memory::kDevice ? " through pinned host staging" : "",
                     choice_.reason);
}

void DeviceTransport::exchange(std::span<const SendBuffer> sends,
                               std::span<const RecvBuffer> recvs) {
  const auto start = std::chrono::steady_clock::now();
  const int n_ranks = dist::size(comm_);
  check_buffers(sends, n_ranks, "send");
  check_buffers(recvs, n_ranks, "receive");
  // Empty transfers are dropped on both sides alike, so the pairing of the others is unchanged.
  std::vector<SendBuffer> s;
  std::vector<RecvBuffer> r;
  for (const SendBuffer& b : sends)
    if (b.bytes > 0) s.push_back(b);
  for (const RecvBuffer& b : recvs)
    if (b.bytes > 0) r.push_back(b);

  if (memory_ == Memory::kHost) {
    mpi_exchange(s, r, comm_);
  } else {
#if defined(GSMAP_WITH_CUDA)
    cuda::set_device(selected_device());  // CUDA binds the device per host thread
    const cuda::Stream stream = impl_->stream->get();
    if (impl_->nccl) {
      impl_->nccl->group_start();
      for (const SendBuffer& b : s) impl_->nccl->send(b.data, b.bytes, b.peer, stream);
      for (const RecvBuffer& b : r) impl_->nccl->recv(b.data, b.bytes, b.peer, stream);
      impl_->nccl->group_end();
      impl_->stream->synchronize();
    } else {
      std::size_t send_total = 0, recv_total = 0;
      for (const SendBuffer& b : s) send_total += b.bytes;
      for (const RecvBuffer& b : r) recv_total += b.bytes;
      auto* send_host = static_cast<char*>(impl_->send_stage.reserve_bytes(send_total));
      auto* recv_host = static_cast<char*>(impl_->recv_stage.reserve_bytes(recv_total));
      std::vector<SendBuffer> host_sends;
      std::vector<RecvBuffer> host_recvs;
      std::size_t off = 0;
      for (const SendBuffer& b : s) {
        cuda::copy_to_host(send_host + off, b.data, b.bytes, stream);
        host_sends.push_back({b.peer, send_host + off, b.bytes});
        off += b.bytes;
      }
      off = 0;
      for (const RecvBuffer& b : r) {
        host_recvs.push_back({b.peer, recv_host + off, b.bytes});
        off += b.bytes;
      }
      impl_->stream->synchronize();
      mpi_exchange(host_sends, host_recvs, comm_);
      for (std::size_t i = 0; i < r.size(); ++i)
        cuda::copy_to_device(r[i].data, host_recvs[i].data, r[i].bytes, stream);
      impl_->stream->synchronize();
    }
#endif
  }
  for (const SendBuffer& b : s) totals_.bytes_sent += static_cast<std::int64_t>(b.bytes);
  for (const RecvBuffer& b : r) totals_.bytes_received += static_cast<std::int64_t>(b.bytes);
  totals_.messages_sent += static_cast<std::int64_t>(s.size());
  totals_.messages_received += static_cast<std::int64_t>(r.size());
  totals_.seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void DeviceTransport::log_totals(const std::string& label) const {
  std::vector<std::int64_t> sums{totals_.bytes_sent, totals_.messages_sent};
  dist::allreduce_sum(sums, comm_);
  double slowest = 0.0;
  GSMAP_MPI_CALL(MPI_Allreduce(&totals_.seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm_));
  if (dist::rank(comm_) == 0) {
    GSMAP_LOG_INFO("{}: {} moved {:.1f} MiB ({} bytes) in {} messages over {} ranks, {:.3f} s on "
                   "the slowest rank",
                   label, path_name(choice_.path), static_cast<double>(sums[0]) / (1 << 20),
                   sums[0], sums[1], dist::size(comm_), slowest);
  }
}

}  // namespace gsmap::device
