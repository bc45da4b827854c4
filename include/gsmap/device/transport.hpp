#pragma once
// Moving buffers that live in GPU memory between the ranks of a communicator (docs/gpu.md
// "Device transport"): NCCL point-to-point when every rank has NCCL and its own GPU, otherwise MPI
// through pinned host staging (Debian's Open MPI is not CUDA-aware). MPI keeps control and host
// data; this class only moves bulk device data (halo rows between device-resident log-rank
// blocks). Host buffers (Memory::kHost) always take the MPI path, so the same calling code runs
// in CPU builds and on machines without a GPU.
//
// The path is chosen once, collectively, and is the same on every rank; the log names it, why,
// and (log_totals) how many bytes it moved. When NCCL was chosen but fails to initialise on any
// rank, every rank takes the MPI path and the failure is logged as a warning.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace gsmap::device {

enum class Memory { kDevice, kHost };
enum class TransportPath { kNccl, kMpi };
const char* path_name(TransportPath path);  // "NCCL" / "MPI"

// What each rank reports before the path is chosen.
struct RankTransportInfo {
  bool nccl_loaded = false;
  std::string nccl_why_not;  // when not loaded
  std::string device_id;     // "<host>/<PCI bus id>" of the rank's GPU; empty without one
};
struct TransportChoice {
  TransportPath path = TransportPath::kMpi;
  std::string reason;
};
// The rule, a pure function of every rank's report (index = rank): NCCL when the buffers are in
// device memory, NCCL is allowed and loaded on every rank, and no two ranks share a GPU (NCCL
// refuses duplicate devices in one communicator); MPI otherwise, with the first reason that
// applies.
TransportChoice choose_transport(Memory memory, bool allow_nccl,
                                 const std::vector<RankTransportInfo>& ranks);

// One transfer: `bytes` bytes at `data` (device memory of this rank's GPU, or host memory, as the
// transport was made for) to or from rank `peer` of the communicator (the rank itself allowed).
struct SendBuffer {
  int peer = 0;
  const void* data = nullptr;
  std::size_t bytes = 0;
};
struct RecvBuffer {
  int peer = 0;
  void* data = nullptr;
  std::size_t bytes = 0;
};

class DeviceTransport {
 public:
  // Collective over `comm`. For Memory::kDevice the CUDA backend must be built and this rank's
  // device selected (device::select_device); throws ComputeError otherwise. `allow_nccl = false`
  // forces the MPI path.
  DeviceTransport(MPI_Comm comm, Memory memory, bool allow_nccl = true);
  ~DeviceTransport();
  DeviceTransport(const DeviceTransport&) = delete;
  DeviceTransport& operator=(const DeviceTransport&) = delete;

  TransportPath path() const { return choice_.path; }
  const std::string& reason() const { return choice_.reason; }
  // "NCCL 2.28.9 (ranks on distinct GPUs)" / "MPI (libnccl.so.2 not found ...)".
  std::string describe() const;

  // Collective in the MPI sense: every rank calls it with its own sends and receives, and the
  // i-th send from rank a to rank b pairs with the i-th receive on b from a, with equal byte
  // counts. Returns when every receive has landed (device memory: copied in and synchronised)
  // and every send buffer may be reused.
  void exchange(std::span<const SendBuffer> sends, std::span<const RecvBuffer> recvs);

  struct Totals {
    std::int64_t bytes_sent = 0;
    std::int64_t bytes_received = 0;
    std::int64_t messages_sent = 0;
    std::int64_t messages_received = 0;
    double seconds = 0.0;  // wall time inside exchange()
  };
  // This rank's totals since construction.
  const Totals& totals() const { return totals_; }
  // Collective: rank 0 logs "<label>: <path> moved <MiB> in <n> messages (all ranks) in <s>".
  void log_totals(const std::string& label) const;

 private:
  struct Impl;
  MPI_Comm comm_;
  Memory memory_;
  TransportChoice choice_;
  Totals totals_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gsmap::device
