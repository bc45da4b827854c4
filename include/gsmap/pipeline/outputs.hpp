#pragma once
// The files of latent_to_gene (docs/formats.md "Outputs"): where they are, and how ranks write
// and read them. Each h5ad carries gsmap_complete = 1 as its last write; a resumed run trusts only
// complete files.
#include <mpi.h>

#include <atomic>
#include <span>
#include <thread>
#include <string>
#include <vector>

#include "gsmap/core/row_block.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/pipeline/cells.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

struct LatentToGenePaths {
  std::string dir, log_ranks, marker_scores, mean_frac, find_latent_metadata;
  static LatentToGenePaths of(const CommonConfig& common);
};

// mean_frac.csv: gene,G_Mean,frac (shortest round-trip doubles, so reading back is exact).
void write_mean_frac(const std::string& path, const std::vector<std::string>& genes,
                     const gss::GeneStats& stats);
gss::GeneStats read_mean_frac(const std::string& path, const std::vector<std::string>& genes);

// log_ranks.h5ad (X = f16 ln ranks, obs index = spot names, var = genes), written while Stage A
// ranks: the constructor (collective) creates the file and X; store_rows (one thread at a time;
// io::ParallelH5adWriter::DirectRows, no HDF5 or MPI call) writes the rows of a ranking chunk once
// it is ranked and starts their write-back to the disk; a failed write is kept, not thrown, and
// later rows are skipped; finish (collective) throws the first failure of the lowest failing rank
// on every rank (an IoError all ranks agree on, printed once), else adds obs and var and closes
// the file.
class LogRanksFile {
 public:
  LogRanksFile(const std::string& path, const CellSet& cells, MPI_Comm comm);
  // Global rows [row0, row0 + n) of X from n x genes contiguous values.
  void store_rows(std::int64_t row0, std::int64_t n, const gss::f16_bits* rows);
  // Collective: obs index = spot names of this rank's rows [part.start(me), part.end(me)).
  void finish(const dist::Partition& part);

 private:
  const CellSet& cells_;
  MPI_Comm comm_;
  io::ParallelH5adWriter writer_;
  const io::ParallelH5adWriter::DirectRows* x_ = nullptr;
  std::string error_;  // first failed store_rows
};

// This rank's rows [start, start + rows) of a complete log_ranks.h5ad into the first `rows` rows
// of `ranks`.
void read_log_ranks(const std::string& path, const CellSet& cells, std::int64_t start,
                    RowBlock& ranks, std::int64_t rows);

// marker_scores.h5ad with X = GSS (f16), obs (spot names, sample_name, slice_id, label columns,
// neighbour QC), var = genes, obsm spatial + neighbour indices and similarities. Written in two
// steps so that the GSS rows go to the file as the GSS engine finishes them and no rank holds a
// GSS block: the constructor (collective) creates the file and X; store_rows (any thread,
// concurrently; io::ParallelH5adWriter::DirectRows) writes GSS rows; finish (collective) adds
// everything else and closes the file (mark complete after all rows were stored). While rows
// are stored, a helper thread starts their write-back to the disk every quarter second
// (sync_file_range, no HDF5 or MPI call), so that the fsync of the commit finds X mostly written.
class MarkerScoresFile {
 public:
  MarkerScoresFile(const std::string& path, const CellSet& cells, MPI_Comm comm);
  // Rows of X at the given global cell indices; `rows` holds global_rows.size() x genes values.
  void store_rows(std::span<const std::int64_t> global_rows, std::span<const gss::f16_bits> rows) const;
  // Collective: this rank's cells are [part.start(me), part.end(me)); `neighbors` in that order.
  void finish(const dist::Partition& part, const gss::NeighborResult& neighbors, bool with_niche);

 private:
  const CellSet& cells_;
  MPI_Comm comm_;
  io::ParallelH5adWriter writer_;
  const io::ParallelH5adWriter::DirectRows* x_ = nullptr;
  mutable std::atomic<std::int64_t> stored_rows_{0};
  std::jthread flusher_;  // stopped and joined before writer_ closes the file
};

}  // namespace gsmap::pipeline
