#pragma once
// NCCL, opened at run time with dlopen and never linked (docs/gpu.md "NCCL"): libnccl is 200+ MiB,
// ships with CUDA toolkits and Python wheels rather than with the system, and a machine without it
// must still run (device buffers then move through MPI, device/transport.hpp). Only the handful of
// functions the transport needs are bound; their C ABI has been stable since NCCL 2.7 (point-to-
// point send/receive), the oldest version accepted.
//
// Which file is opened: GSMAP_NCCL_LIBRARY when set (a path; "none" or "off" never opens one), else
// "libnccl.so.2" through the dynamic loader's search (LD_LIBRARY_PATH, the ld.so cache). The
// bundle's wrappers set GSMAP_NCCL_LIBRARY to a Python environment's nvidia-nccl wheel when they
// find one.
#include <mpi.h>

#include <cstddef>
#include <string>

namespace gsmap::device::nccl {

// The library as this process found it; loaded once (thread-safe) on first use.
struct Library {
  bool loaded = false;
  std::string path;     // the file opened (as named to dlopen), when loaded
  int version = 0;      // ncclGetVersion's code, e.g. 22809
  std::string why_not;  // when not loaded: the reason, for the log
};
const Library& library();

// "2.28.9" from a version code (both of NCCL's encodings: X*1000+Y*100+Z up to 2.8, then
// X*10000+Y*100+Z).
std::string version_string(int code);
// Oldest version with point-to-point send/receive.
inline constexpr int kMinimumVersion = 2700;

// One NCCL communicator over the ranks of an MPI communicator, on the calling thread's current
// CUDA device. Only with the CUDA backend built and library().loaded; every function throws
// ComputeError with NCCL's message (and its last-error text where the library has it).
class Communicator {
 public:
  // Collective over `comm`: rank 0 makes the unique id and broadcasts it; every rank joins. Ranks
  // of one communicator must use distinct devices (NCCL refuses duplicates).
  explicit Communicator(MPI_Comm comm);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  // Point-to-point transfers between group_start() and group_end() are issued together on
  // `stream` (a cudaStream_t); the i-th send from a to b matches the i-th receive on b from a.
  void group_start();
  void send(const void* data, std::size_t bytes, int peer, void* stream);
  void recv(void* data, std::size_t bytes, int peer, void* stream);
  void group_end();

 private:
  void* comm_ = nullptr;  // ncclComm_t
};

}  // namespace gsmap::device::nccl
