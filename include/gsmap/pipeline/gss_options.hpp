#pragma once
// The GSS engine's settings from the latent-to-gene options (the engine does not know the CLI's
// config structs).
#include "gsmap/gss/engine.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

// Neighbour parameters; n_adjacent is forced to 0 for spatial2D and scRNA.
gss::NeighborParams neighbor_params(const LatentToGeneConfig& config);
// Everything run_gss_engine needs besides its inputs: neighbours, expression-fraction switch,
// batch size, Stage C workers and queues, --memmap-tmp-dir.
gss::GssEngineOptions gss_engine_options(const LatentToGeneConfig& config,
                                         const CommonConfig& common);

}  // namespace gsmap::pipeline
