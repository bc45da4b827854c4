// The CUDA backend of the spatial-LDSC engine: per chunk, the spot LD of all plan rows is computed
// on the host (compute_spot_ld, once for all traits) and uploaded once; every trait is then
// regressed on the device (device::LdscDevice; the two-pass h of regress_spots). Without CUDA in
// the binary, make_worker() throws the device's usage error.
#include <chrono>

#include "gsmap/core/memory.hpp"
#include "gsmap/device/ldsc_device.hpp"
#include "gsmap/ldsc/engine.hpp"

namespace gsmap::ldsc {
namespace {

using Clock = std::chrono::steady_clock;

class CudaWorker final : public LdscWorker {
 public:
  explicit CudaWorker(const LdscProblem& problem) : p_(problem) {}

  void regress_chunk(const math::f16_bits* gss, std::int64_t n_spots,
                     std::vector<TraitChunkResult>& out, BackendTimes& times) override {
    const auto t0 = Clock::now();
    compute_spot_ld(*p_.common, p_.plan, gss, n_spots, ld_);
    const auto bytes = static_cast<std::int64_t>(ld_.values.capacity() * sizeof(float));
    if (bytes != recorded_) {
      core::MemoryLedger::instance().add("LDSC tiles", bytes - recorded_);
      recorded_ = bytes;
    }
    const auto t1 = Clock::now();
    device_.load_spot_ld(ld_);  // once per chunk, for all traits
    out.resize(p_.n_traits());
    for (std::size_t t = 0; t < p_.n_traits(); ++t)
      out[t] = device_.regress(*p_.traits[t], p_.plan.trait_rows(t));
    const auto t2 = Clock::now();
    times.spot_ld += std::chrono::duration<double>(t1 - t0).count();
    times.regression += std::chrono::duration<double>(t2 - t1).count();
  }

  ~CudaWorker() override { core::MemoryLedger::instance().add("LDSC tiles", -recorded_); }

 private:
  const LdscProblem& p_;
  device::LdscDevice device_;
  SpotLd ld_;
  std::int64_t recorded_ = 0;
};

class CudaBackend final : public LdscBackend {
 public:
  std::string name() const override {
    return "CUDA (spot LD on the host per chunk, regression on the device)";
  }
  std::unique_ptr<LdscWorker> make_worker(const LdscProblem& problem) override {
    return std::make_unique<CudaWorker>(problem);
  }
};

}  // namespace

std::unique_ptr<LdscBackend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace gsmap::ldsc
