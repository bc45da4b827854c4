#pragma once
// Backend choice of a step (docs/troubleshooting.md "GPU not used") and the local rank -> GPU
// mapping: every rank finds its node-local rank through a shared-memory communicator and takes GPU
// local_rank % visible GPUs; rank 0 logs rank -> host -> device. Collective.
#include <mpi.h>

#include <memory>

#include "gsmap/gss/backend.hpp"
#include "gsmap/ldsc/engine.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

// True when this step runs its compute stages on the CUDA device selected for this rank.
bool setup_backend(const CommonConfig& common, MPI_Comm comm);

// The GSS backend of latent-to-gene: CUDA when every rank has a GPU (setup_backend), else CPU.
// The one place that chooses; the engine only sees gss::GssBackend. Collective.
std::unique_ptr<gss::GssBackend> make_gss_backend(const CommonConfig& common, MPI_Comm comm);

// The spatial-LDSC backend of this step (setup_backend decides CUDA or CPU): the one object the
// engine is given; nothing else branches on the choice. Collective.
std::unique_ptr<ldsc::LdscBackend> make_ldsc_backend(const CommonConfig& common, MPI_Comm comm);

}  // namespace gsmap::pipeline
