#pragma once
// Input validation shared by the steps, quick-mode's start-up checks and --dry-run
// (docs/usage.md "What is validated", docs/troubleshooting.md). Every failure is an InputError
// (exit code 3) naming the file, the field or row, the problem and the fix. Checks that need the
// data itself run on the first read of that data by the rank that reads it; the others run before
// a step writes anything.
#include <mpi.h>

#include <string>
#include <vector>

#include "gsmap/io/h5ad.hpp"
#include "gsmap/pipeline/cells.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

// Expression values of one block of rows read for ranking: NaN, infinite or negative values are an
// InputError naming the sample, its file, the layer, the row (0-based, in the sample's file), the
// gene and the number of bad values in the block. Only the sample's kept cells (kept_rows) are
// checked: cells removed by the filters are never ranked.
void check_expression_block(const io::CsrRows& block, const SampleCells& sample,
                            const std::vector<std::string>& genes);

// Gene (or feature) names must be unique: a repeated name would be counted twice downstream.
// InputError naming both positions of the first repeat and how many names repeat.
void check_unique_names(const std::vector<std::string>& names, const std::string& file,
                        const std::string& where);

// Every column of `columns` is an obs column of `obs`; else InputError listing the candidate
// (label) columns. `option` is the command-line option that names the columns.
void require_obs_columns(const io::H5adReader& obs, const std::vector<std::string>& columns,
                         const std::string& option);

// quick-mode's start-up checks of the later steps' inputs, before step 1 writes anything: the
// traits and their sumstats headers, the w_ld folder, the weight matrix's file, and the Cauchy
// annotation columns in the samples (or in complete marker scores). Collective; every rank checks.
void preflight_quick_mode(const Config& cfg, MPI_Comm comm);

// --dry-run (src/pipeline/dry_run.cpp): validates every input of the steps `subcommand` covers,
// prints the plan (samples, kept cells, cells per rank, genes, SNPs per trait, jackknife blocks,
// estimated peak memory per rank, disk space written) and writes nothing. Collective.
void run_dry_run(const Config& cfg, const std::string& subcommand, MPI_Comm comm);

}  // namespace gsmap::pipeline
