#pragma once
// The per-row arithmetic of the scRNA homogeneous neighbours (docs/algorithms.md §3.7): UMAP fuzzy
// connectivities as scanpy's neighbors(method="umap") computes them from a kNN graph (umap-learn's
// smooth_knn_dist / compute_membership_strengths with local_connectivity = 1, bandwidth = 1,
// set_op_mix_ratio = 1, in umap-learn's f32 arithmetic), and gsMap's selection of the K strongest
// connections of a row. The graph-level driver is in neighbors.hpp.
#include <cstdint>
#include <span>
#include <vector>

#include "gsmap/math/f16.hpp"

namespace gsmap::gss {

using math::f16_bits;

struct SmoothKnn {
  float sigma = 0.0f;
  float rho = 0.0f;
};

// One row of the kNN graph: `distances` ascending, position 0 is the cell itself (distance 0),
// k = distances.size() (K including self). rho = the smallest non-zero distance (0 if none);
// sigma by bisection so that sum_{j >= 1} exp(-max(0, d_j - rho) / sigma) = log2(k): at most 64
// iterations, stop when within 1e-5, start at 1, double while there is no upper bound. Then
// sigma >= 1e-3 * mean(row distances) if rho > 0, else sigma >= 1e-3 * mean_all_distances (the
// mean over the whole group's kNN distance matrix).
SmoothKnn smooth_knn_distance(std::span<const float> distances, float mean_all_distances);

// Membership strengths mu_j of one row: 0 for the cell itself (neighbors[j] == self), 1 if
// d_j - rho <= 0 or sigma == 0, else exp(-(d_j - rho) / sigma) (f32).
void membership_strengths(std::span<const float> distances, std::span<const std::int64_t> neighbors,
                          std::int64_t self, SmoothKnn smooth, std::span<float> membership);

// Fuzzy union of the two directed strengths (set_op_mix_ratio = 1): (a + b) - a * b, each
// operation rounded to f32 as scipy's sparse arithmetic does.
inline float fuzzy_union(float a, float b) {
  const float sum = a + b;
  const float product = a * b;
  return sum - product;
}

struct WeightedNeighbor {
  std::int64_t cell = 0;
  float weight = 0.0f;
};

// gsMap's selection for one cell from the non-zero entries of its row of the symmetrised graph
// (self excluded): sort by weight descending (ties: lower cell index first), keep the first K,
// pad with the cell's own index and weight 0, round the weights to f16, and divide by their sum
// (summed in f32 in numpy's pairwise order, rounded to f16) when it is > 0. `edges` is reordered.
void select_strongest(std::int64_t self, std::vector<WeightedNeighbor>& edges, int k,
                      std::int32_t* out_index, f16_bits* out_weight);

}  // namespace gsmap::gss
