#pragma once
// Spatial LDSC per-spot regression on the CUDA backend: the same results as ldsc::regress_spots
// (beta, se, z and beta_full bit for bit; p and -log10 p within a few ulp: CUDA's erfc / log10).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"

namespace gsmap::device {

// One per compute worker: owns a CUDA stream, the current chunk's spot LD on the device, work
// buffers sized spots x blocks x moments, and a cache of traits' arrays (uploaded once per trait,
// keyed by the TraitData's address and checked against its sizes and data pointers; least recently
// used traits are dropped beyond `trait_cache_bytes`). Binds to device::selected_device() in the
// calling thread. Not thread-safe.
class LdscDevice {
 public:
  // Throws Error(kUsage) when the binary has no CUDA backend.
  explicit LdscDevice(std::size_t trait_cache_bytes = std::size_t{4} << 30);
  ~LdscDevice();
  LdscDevice(LdscDevice&&) noexcept;
  LdscDevice& operator=(LdscDevice&&) noexcept;
  LdscDevice(const LdscDevice&) = delete;
  LdscDevice& operator=(const LdscDevice&) = delete;

  // Uploads a chunk's spot LD (n_rows x n_spots f32). The chunk pipeline calls this once per chunk
  // and then regress(trait, rows) for every trait, so the matrix crosses the bus once.
  void load_spot_ld(const ldsc::SpotLd& ld);

  // ldsc::regress_spots(trait, <loaded chunk>, ld_rows): same checks (ComputeError), same results.
  ldsc::TraitChunkResult regress(const ldsc::TraitData& trait,
                                 std::span<const std::int64_t> ld_rows);

  // load_spot_ld(ld) then regress(trait, ld_rows): the drop-in for ldsc::regress_spots (uploads
  // `ld` on every call; use the two-step form for several traits per chunk).
  ldsc::TraitChunkResult regress(const ldsc::TraitData& trait, const ldsc::SpotLd& ld,
                                 std::span<const std::int64_t> ld_rows);

  // Drops a trait's cached device arrays (call before destroying or changing a TraitData whose
  // address might be reused; the cache also detects changed sizes and data pointers).
  void forget_trait(const ldsc::TraitData& trait);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gsmap::device
