#include "gsmap/gss/umap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/gss/embedding.hpp"

namespace gsmap::gss {

namespace {

constexpr int kBisectionIterations = 64;
constexpr double kSmoothTolerance = 1e-5;   // umap-learn SMOOTH_K_TOLERANCE
constexpr double kMinDistanceScale = 1e-3;  // umap-learn MIN_K_DIST_SCALE

// umap-learn's row mean (numba: f32 running sum, divided as f64).
double row_mean(std::span<const float> distances) {
  float sum = 0.0f;
  for (const float d : distances) sum += d;
  return static_cast<double>(sum) / static_cast<double>(distances.size());
}

}  // namespace

SmoothKnn smooth_knn_distance(std::span<const float> distances, float mean_all_distances) {
  if (distances.empty()) throw ComputeError("smooth_knn_distance: empty kNN row");
  const double target = std::log2(static_cast<double>(distances.size()));

  SmoothKnn out;
  for (const float d : distances) {  // local_connectivity = 1: the first non-zero distance
    if (d > 0.0f) {
      out.rho = d;
      break;
    }
  }

  float lo = 0.0f;
  float hi = std::numeric_limits<float>::infinity();
  float mid = 1.0f;
  for (int iteration = 0; iteration < kBisectionIterations; ++iteration) {
    float psum = 0.0f;
    for (std::size_t j = 1; j < distances.size(); ++j) {
      const float d = distances[j] - out.rho;
      psum += d > 0.0f ? std::exp(-(d / mid)) : 1.0f;
    }
    if (std::fabs(static_cast<double>(psum) - target) < kSmoothTolerance) break;
    if (static_cast<double>(psum) > target) {
      hi = mid;
      mid = (lo + hi) / 2.0f;
    } else {
      lo = mid;
      if (std::isinf(hi))
        mid *= 2.0f;
      else
        mid = (lo + hi) / 2.0f;
    }
  }
  out.sigma = mid;

  const double floor_value =
      kMinDistanceScale *
      (out.rho > 0.0f ? row_mean(distances) : static_cast<double>(mean_all_distances));
  if (static_cast<double>(out.sigma) < floor_value) out.sigma = static_cast<float>(floor_value);
  return out;
}

void membership_strengths(std::span<const float> distances, std::span<const std::int64_t> neighbors,
                          std::int64_t self, SmoothKnn smooth, std::span<float> membership) {
  if (neighbors.size() != distances.size() || membership.size() != distances.size()) {
    throw ComputeError("membership_strengths: row lengths differ");
  }
  for (std::size_t j = 0; j < distances.size(); ++j) {
    if (neighbors[j] == self) {
      membership[j] = 0.0f;
    } else if (distances[j] - smooth.rho <= 0.0f || smooth.sigma == 0.0f) {
      membership[j] = 1.0f;
    } else {
      membership[j] = std::exp(-((distances[j] - smooth.rho) / smooth.sigma));
    }
  }
}

void select_strongest(std::int64_t self, std::vector<WeightedNeighbor>& edges, int k,
                      std::int32_t* out_index, f16_bits* out_weight) {
  if (k <= 0) throw ComputeError(fmt::format("select_strongest: k must be > 0, got {}", k));
  const auto by_weight = [](const WeightedNeighbor& a, const WeightedNeighbor& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    return a.cell < b.cell;
  };
  const std::size_t kept = std::min(edges.size(), static_cast<std::size_t>(k));
  std::partial_sort(edges.begin(), edges.begin() + static_cast<std::ptrdiff_t>(kept), edges.end(),
                    by_weight);

  std::vector<float> weights(static_cast<std::size_t>(k), 0.0f);
  for (int slot = 0; slot < k; ++slot) {
    const bool found = static_cast<std::size_t>(slot) < kept;
    out_index[slot] =
        static_cast<std::int32_t>(found ? edges[static_cast<std::size_t>(slot)].cell : self);
    weights[static_cast<std::size_t>(slot)] =
        found ? math::round_f16(edges[static_cast<std::size_t>(slot)].weight) : 0.0f;
  }
  const float sum = math::round_f16(pairwise_sum(weights.data(), weights.size()));
  const float divisor = sum > 0.0f ? sum : 1.0f;
  for (int slot = 0; slot < k; ++slot) {
    out_weight[slot] = math::f32_to_f16(weights[static_cast<std::size_t>(slot)] / divisor);
  }
}

}  // namespace gsmap::gss
