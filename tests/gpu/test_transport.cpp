// device/transport.hpp and device/nccl.hpp under mpirun (tests/gpu/transport.cmake): the path rule,
// NCCL's run-time loading, host buffers through MPI between every pair of ranks, and, with a GPU,
// device buffers through NCCL (one rank: send to itself) and through MPI's pinned staging. The
// device cases skip without a visible GPU.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/nccl.hpp"
#include "gsmap/device/transport.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Byte i of the message from rank `from` to rank `to`, k-th of that pair.
std::uint8_t pattern(int from, int to, int k, std::size_t i) {
  return static_cast<std::uint8_t>((from * 131 + to * 31 + k * 7 + i * 13) % 251);
}
// Message sizes from `from` to `to`: an empty one, a small one and one of 70 kB (above Open MPI's
// eager limit, so the rendezvous protocol is exercised too).
std::vector<std::size_t> sizes(int from, int to) {
  return {0, static_cast<std::size_t>(1 + from + 2 * to), 70'000 + static_cast<std::size_t>(from)};
}

TEST(TransportRule, HostBuffersAlwaysTakeMpi) {
  const RankTransportInfo ok{true, "", "h/0000:01:00.0"};
  const TransportChoice c = choose_transport(Memory::kHost, true, {ok});
  EXPECT_EQ(c.path, TransportPath::kMpi);
  EXPECT_EQ(c.reason, "host buffers");
}

TEST(TransportRule, NcclWhenLoadedEverywhereAndGpusDistinct) {
  const RankTransportInfo a{true, "", "h1/0000:01:00.0"}, b{true, "", "h1/0000:02:00.0"},
      c{true, "", "h2/0000:01:00.0"};
  const TransportChoice three = choose_transport(Memory::kDevice, true, {a, b, c});
  EXPECT_EQ(three.path, TransportPath::kNccl);
  EXPECT_EQ(three.reason, "3 ranks on distinct GPUs");
  EXPECT_EQ(choose_transport(Memory::kDevice, true, {a}).path, TransportPath::kNccl);
  EXPECT_EQ(choose_transport(Memory::kDevice, false, {a, b}).path, TransportPath::kMpi);
}

TEST(TransportRule, SharedGpuOrMissingNcclTakesMpiAndSaysWhy) {
  const RankTransportInfo a{true, "", "h1/0000:01:00.0"}, b{true, "", "h1/0000:02:00.0"};
  const RankTransportInfo missing{false, "cannot open libnccl.so.2 (not found)", "h1/0000:03:00.0"};
  const TransportChoice shared = choose_transport(Memory::kDevice, true, {a, b, a});
  EXPECT_EQ(shared.path, TransportPath::kMpi);
  EXPECT_EQ(shared.reason, "ranks 0 and 2 share GPU h1/0000:01:00.0 (NCCL needs one GPU per rank)");
  const TransportChoice none = choose_transport(Memory::kDevice, true, {a, missing});
  EXPECT_EQ(none.path, TransportPath::kMpi);
  EXPECT_EQ(none.reason, "NCCL not loaded on rank 1: cannot open libnccl.so.2 (not found)");
}

TEST(NcclLibrary, VersionStrings) {
  EXPECT_EQ(nccl::version_string(22809), "2.28.9");
  EXPECT_EQ(nccl::version_string(21903), "2.19.3");
  EXPECT_EQ(nccl::version_string(2708), "2.7.8");
  EXPECT_EQ(nccl::version_string(nccl::kMinimumVersion), "2.7.0");
}

// What library() reports follows GSMAP_NCCL_LIBRARY (transport.cmake runs this binary with it
// unset, set to "none" and set to a missing file).
TEST(NcclLibrary, LoadingFollowsTheEnvironment) {
  const char* env = std::getenv("GSMAP_NCCL_LIBRARY");
  const std::string wanted = env != nullptr ? env : "";
  const nccl::Library& lib = nccl::library();
  if (wanted == "none") {
    EXPECT_FALSE(lib.loaded);
    EXPECT_EQ(lib.why_not, "GSMAP_NCCL_LIBRARY=none");
  } else if (!wanted.empty() && wanted.front() == '/' && wanted.find("missing") != std::string::npos) {
    EXPECT_FALSE(lib.loaded);
    EXPECT_NE(lib.why_not.find("cannot open " + wanted), std::string::npos) << lib.why_not;
  } else if (lib.loaded) {
    EXPECT_GE(lib.version, nccl::kMinimumVersion);
    EXPECT_EQ(lib.path, wanted.empty() ? "libnccl.so.2" : wanted);
    EXPECT_TRUE(lib.why_not.empty());
    std::printf("NCCL %s loaded from %s\n", nccl::version_string(lib.version).c_str(),
                lib.path.c_str());
  } else {
    EXPECT_NE(lib.why_not.find("libnccl.so.2"), std::string::npos) << lib.why_not;
  }
}

TEST(Transport, HostBuffersBetweenEveryPairOfRanks) {
  const int me = world_rank(), n = world_size();
  DeviceTransport transport(MPI_COMM_WORLD, Memory::kHost);
  EXPECT_EQ(transport.path(), TransportPath::kMpi);
  EXPECT_EQ(transport.describe(), "MPI (host buffers)");
  std::vector<std::vector<std::uint8_t>> out, in;
  std::vector<SendBuffer> sends;
  std::vector<RecvBuffer> recvs;
  std::int64_t expect_sent = 0, expect_received = 0;
  out.reserve(3 * n);
  in.reserve(3 * n);
  for (int peer = 0; peer < n; ++peer) {
    const auto to = sizes(me, peer), from = sizes(peer, me);
    for (int k = 0; k < 3; ++k) {
      auto& o = out.emplace_back(to[k]);
      for (std::size_t i = 0; i < o.size(); ++i) o[i] = pattern(me, peer, k, i);
      sends.push_back({peer, o.data(), o.size()});
      auto& r = in.emplace_back(from[k], 0);
      recvs.push_back({peer, r.data(), r.size()});
      expect_sent += static_cast<std::int64_t>(to[k]);
      expect_received += static_cast<std::int64_t>(from[k]);
    }
  }
  transport.exchange(sends, recvs);
  std::size_t wrong = 0, checked = 0;
  for (int peer = 0; peer < n; ++peer) {
    for (int k = 0; k < 3; ++k) {
      const auto& r = in[static_cast<std::size_t>(3 * peer + k)];
      for (std::size_t i = 0; i < r.size(); ++i, ++checked) wrong += r[i] != pattern(peer, me, k, i);
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(static_cast<std::int64_t>(checked), expect_received);
  EXPECT_EQ(transport.totals().bytes_sent, expect_sent);
  EXPECT_EQ(transport.totals().bytes_received, expect_received);
  EXPECT_EQ(transport.totals().messages_sent, 2 * n);  // the empty ones are not messages
  transport.log_totals("transport test");
}

TEST(Transport, RejectsAPeerOutsideTheCommunicator) {
  DeviceTransport transport(MPI_COMM_WORLD, Memory::kHost);
  std::uint8_t byte = 1;
  const SendBuffer bad{world_size(), &byte, 1};
  EXPECT_THROW(transport.exchange({&bad, 1}, {}), ComputeError);
}

#if defined(GSMAP_WITH_CUDA)

// Each rank sends `bytes` of its pattern to every rank (itself included) from device memory and
// checks what arrives in device memory.
void device_round(DeviceTransport& transport, std::size_t bytes) {
  const int me = world_rank(), n = world_size();
  std::vector<void*> out(n), in(n);
  std::vector<SendBuffer> sends;
  std::vector<RecvBuffer> recvs;
  const cuda::Stream stream = cuda::create_stream();
  for (int peer = 0; peer < n; ++peer) {
    std::vector<std::uint8_t> host(bytes);
    for (std::size_t i = 0; i < bytes; ++i) host[i] = pattern(me, peer, 0, i);
    out[peer] = cuda::device_alloc(bytes);
    in[peer] = cuda::device_alloc(bytes);
    cuda::copy_to_device(out[peer], host.data(), bytes, stream);
    cuda::synchronize(stream);
    sends.push_back({peer, out[peer], bytes});
    recvs.push_back({peer, in[peer], bytes});
  }
  transport.exchange(sends, recvs);
  std::size_t wrong = 0;
  for (int peer = 0; peer < n; ++peer) {
    std::vector<std::uint8_t> host(bytes, 0);
    cuda::copy_to_host(host.data(), in[peer], bytes, stream);
    cuda::synchronize(stream);
    for (std::size_t i = 0; i < bytes; ++i) wrong += host[i] != pattern(peer, me, 0, i);
    cuda::device_free(out[peer]);
    cuda::device_free(in[peer]);
  }
  cuda::destroy_stream(stream);
  EXPECT_EQ(wrong, 0u) << "through " << transport.describe();
  EXPECT_EQ(transport.totals().bytes_received, static_cast<std::int64_t>(n * bytes));
}

#define GSMAP_REQUIRE_GPU()                                                    \
  do {                                                                         \
    if (visible_gpus() == 0) GTEST_SKIP() << "no CUDA device visible";         \
  } while (false)

// The NCCL path: with one rank a send to itself (the one-GPU machine's test of the NCCL code);
// with several ranks on one GPU the rule takes MPI and says why.
TEST(TransportGpu, DeviceBuffersThroughNcclWhenItApplies) {
  GSMAP_REQUIRE_GPU();
  select_device(world_rank() % visible_gpus());
  DeviceTransport transport(MPI_COMM_WORLD, Memory::kDevice);
  std::printf("rank %d: device transport %s\n", world_rank(), transport.describe().c_str());
  const bool shared_gpu = world_size() > visible_gpus();
  if (!nccl::library().loaded) {
    EXPECT_EQ(transport.path(), TransportPath::kMpi);
    EXPECT_NE(transport.reason().find("NCCL not loaded"), std::string::npos);
  } else if (shared_gpu) {
    EXPECT_EQ(transport.path(), TransportPath::kMpi);
    EXPECT_NE(transport.reason().find("share GPU"), std::string::npos) << transport.reason();
  } else {
    EXPECT_EQ(transport.path(), TransportPath::kNccl) << transport.reason();
  }
  device_round(transport, 3 << 20);
  transport.log_totals("transport test (device, default path)");
}

TEST(TransportGpu, DeviceBuffersThroughMpiStaging) {
  GSMAP_REQUIRE_GPU();
  select_device(world_rank() % visible_gpus());
  DeviceTransport transport(MPI_COMM_WORLD, Memory::kDevice, /*allow_nccl=*/false);
  EXPECT_EQ(transport.path(), TransportPath::kMpi);
  EXPECT_EQ(transport.describe(),
            "MPI through pinned host staging (NCCL not allowed by the caller)");
  device_round(transport, (3 << 20) + 17);
  transport.log_totals("transport test (device, MPI)");
}

#endif  // GSMAP_WITH_CUDA

TEST(TransportGpu, DeviceBuffersNeedAGpu) {
  if (visible_gpus() > 0) GTEST_SKIP() << "a CUDA device is visible";
  EXPECT_THROW(DeviceTransport(MPI_COMM_WORLD, Memory::kDevice), Error);
}

}  // namespace
}  // namespace gsmap::device
