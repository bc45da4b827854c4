#pragma once
// The kind of data set and the cross-slice pooling of GSS (docs/algorithms.md §3, §4): settings the
// gss module reads and the CLI fills, so they live here rather than in pipeline/config.hpp.

namespace gsmap {

enum class DatasetType { kScRNA, kSpatial2D, kSpatial3D };
enum class CrossSliceStrategy { kGlobalPool, kPerSlicePool, kHierarchicalPool };

}  // namespace gsmap
