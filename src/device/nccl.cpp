// NCCL through dlopen (device/nccl.hpp). The declarations below mirror nccl.h's C ABI for the
// functions used (NCCL 2.7 and later); no NCCL header is needed to build.
#include "gsmap/device/nccl.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/dist/mpi.hpp"

namespace gsmap::device::nccl {
namespace {

// nccl.h: typedef struct ncclComm* ncclComm_t; ncclUniqueId is 128 opaque bytes passed by value;
// ncclResult_t and ncclDataType_t are C enums (int); ncclUint8 = 1.
struct UniqueId {
  char internal[128];
};
using Result = int;
constexpr Result kSuccess = 0;
constexpr int kUint8 = 1;

struct Api {
  Result (*get_version)(int*) = nullptr;
  Result (*get_unique_id)(UniqueId*) = nullptr;
  Result (*comm_init_rank)(void** comm, int nranks, UniqueId id, int rank) = nullptr;
  Result (*comm_destroy)(void*) = nullptr;
  const char* (*get_error_string)(Result) = nullptr;
  const char* (*get_last_error)(void*) = nullptr;  // NCCL >= 2.13; may be absent
  Result (*group_start)() = nullptr;
  Result (*group_end)() = nullptr;
  Result (*send)(const void*, std::size_t, int, int, void*, void*) = nullptr;
  Result (*recv)(void*, std::size_t, int, int, void*, void*) = nullptr;
};

struct Loaded {
  Library library;
  Api api;
};

template <class F>
bool bind(void* handle, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  return fn != nullptr;
}

Loaded load() {
  Loaded out;
  const char* env = std::getenv("GSMAP_NCCL_LIBRARY");
  const std::string wanted = env != nullptr && *env != '\0' ? env : "libnccl.so.2";
  if (wanted == "none" || wanted == "off") {
    out.library.why_not = "GSMAP_NCCL_LIBRARY=" + wanted;
    return out;
  }
  // RTLD_LOCAL: NCCL's symbols stay private to this handle. Never closed: NCCL keeps threads.
  void* handle = dlopen(wanted.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* message = dlerror();
    out.library.why_not = fmt::format("cannot open {} ({}){}", wanted,
                                      message != nullptr ? message : "unknown dlopen error",
                                      env == nullptr ? "; set GSMAP_NCCL_LIBRARY to its path" : "");
    return out;
  }
  Api& a = out.api;
  const bool complete = bind(handle, "ncclGetVersion", a.get_version) &&
                        bind(handle, "ncclGetUniqueId", a.get_unique_id) &&
                        bind(handle, "ncclCommInitRank", a.comm_init_rank) &&
                        bind(handle, "ncclCommDestroy", a.comm_destroy) &&
                        bind(handle, "ncclGetErrorString", a.get_error_string) &&
                        bind(handle, "ncclGroupStart", a.group_start) &&
                        bind(handle, "ncclGroupEnd", a.group_end) &&
                        bind(handle, "ncclSend", a.send) && bind(handle, "ncclRecv", a.recv);
  bind(handle, "ncclGetLastError", a.get_last_error);
  int version = 0;
  if (!complete || a.get_version(&version) != kSuccess) {
    out.library.why_not = fmt::format("{} lacks ncclSend/ncclRecv or does not report its version "
                                      "(NCCL >= {} needed)",
                                      wanted, version_string(kMinimumVersion));
    return out;
  }
  if (version < kMinimumVersion) {
    out.library.why_not = fmt::format("{} is NCCL {}, older than {} (no point-to-point)", wanted,
                                      version_string(version), version_string(kMinimumVersion));
    return out;
  }
  out.library = Library{true, wanted, version, {}};
  return out;
}

const Loaded& loaded() {
  static const Loaded instance = load();
  return instance;
}

const Api& api() {
  const Loaded& l = loaded();
  if (!l.library.loaded) throw ComputeError("NCCL is not available: " + l.library.why_not);
  return l.api;
}

void check(Result rc, const char* call, void* comm) {
  if (rc == kSuccess) return;
  const Api& a = api();
  std::string detail;
  if (comm != nullptr && a.get_last_error != nullptr) {
    const char* last = a.get_last_error(comm);
    if (last != nullptr && *last != '\0') detail = std::string(" (") + last + ")";
  }
  throw ComputeError(fmt::format("NCCL error in {}: {}{}. Fix: set GSMAP_NCCL_LIBRARY=none to move "
                                 "device data through MPI, or NCCL_DEBUG=WARN for NCCL's own report",
                                 call, a.get_error_string(rc), detail));
}

}  // namespace

const Library& library() { return loaded().library; }

std::string version_string(int code) {
  if (code >= 10000) return fmt::format("{}.{}.{}", code / 10000, code % 10000 / 100, code % 100);
  return fmt::format("{}.{}.{}", code / 1000, code % 1000 / 100, code % 100);
}

Communicator::Communicator(MPI_Comm comm) {
  if (!cuda_built()) throw ComputeError("NCCL needs the CUDA backend, which this binary lacks");
  const Api& a = api();
  UniqueId id{};
  int rc = kSuccess;
  if (dist::rank(comm) == 0) rc = a.get_unique_id(&id);
  // Every rank learns whether rank 0 got an id before anyone waits in ncclCommInitRank.
  GSMAP_MPI_CALL(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  check(rc, "ncclGetUniqueId", nullptr);
  GSMAP_MPI_CALL(MPI_Bcast(id.internal, sizeof id.internal, MPI_BYTE, 0, comm));
  check(a.comm_init_rank(&comm_, dist::size(comm), id, dist::rank(comm)), "ncclCommInitRank",
        nullptr);
}

Communicator::~Communicator() {
  if (comm_ != nullptr) api().comm_destroy(comm_);
}

void Communicator::group_start() { check(api().group_start(), "ncclGroupStart", comm_); }
void Communicator::group_end() { check(api().group_end(), "ncclGroupEnd", comm_); }

void Communicator::send(const void* data, std::size_t bytes, int peer, void* stream) {
  check(api().send(data, bytes, kUint8, peer, comm_, stream), "ncclSend", comm_);
}

void Communicator::recv(void* data, std::size_t bytes, int peer, void* stream) {
  check(api().recv(data, bytes, kUint8, peer, comm_, stream), "ncclRecv", comm_);
}

}  // namespace gsmap::device::nccl
