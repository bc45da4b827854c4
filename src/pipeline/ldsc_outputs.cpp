#include "gsmap/pipeline/ldsc_outputs.hpp"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/ldsc/summary.hpp"

namespace gsmap::pipeline {

LdscColumns flatten(const std::vector<ldsc::TraitChunkResult>& chunks, std::int64_t n_spots) {
  LdscColumns c;
  c.beta.reserve(n_spots);
  for (const auto& r : chunks) {
    for (std::int64_t i = 0; i < r.n_spots(); ++i) {
      // gsMap writes beta, se and z as f32 (z rounded from the f64 value) and p, -log10 p as f64.
      c.beta.push_back(static_cast<float>(r.beta[i]));
      c.se.push_back(static_cast<float>(r.se[i]));
      c.z.push_back(static_cast<float>(r.z[i]));
      c.p.push_back(r.p[i]);
      c.neg_log10_p.push_back(r.neg_log10_p[i]);
    }
  }
  if (static_cast<std::int64_t>(c.size()) != n_spots) {
    throw ComputeError(fmt::format("spatial LDSC produced {} spots, expected {}", c.size(), n_spots));
  }
  return c;
}

namespace {
// Gathers a double column to rank 0 in rank order (spot order).
std::vector<double> gather_to_root(const std::vector<double>& mine, MPI_Comm comm) {
  const int np = dist::size(comm), me = dist::rank(comm);
  int n = static_cast<int>(mine.size());
  std::vector<int> counts(np), displs(np, 0);
  GSMAP_MPI_CALL(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm));
  for (int r = 1; r < np; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<double> all(me == 0 ? displs[np - 1] + counts[np - 1] : 0);
  GSMAP_MPI_CALL(MPI_Gatherv(mine.data(), n, MPI_DOUBLE, all.data(), counts.data(), displs.data(),
                             MPI_DOUBLE, 0, comm));
  return all;
}
}  // namespace

void log_trait_summary(const std::string& trait, const LdscColumns& own, const SpotSelection& sel,
                       MPI_Comm comm) {
  const auto p = gather_to_root(own.p, comm);
  const auto q = gather_to_root(own.neg_log10_p, comm);
  if (dist::rank(comm) != 0) return;
  const auto summary = ldsc::summarize_trait(p, q);
  for (const auto& line : ldsc::summary_log_lines(summary, trait, sel.start, sel.end)) {
    GSMAP_LOG_INFO("{}", line);
  }
}

void write_ldsc_csv_collective(const std::string& path, const std::vector<std::string>& own_names,
                               const LdscColumns& own, MPI_Comm comm) {
  if (own_names.size() != own.size()) {
    throw ComputeError(fmt::format("{}: {} names for {} rows", path, own_names.size(), own.size()));
  }
  std::string text;
  if (dist::rank(comm) == 0) text = "spot,beta,se,z,p,neg_log10_p\n";
  text.reserve(text.size() + own.size() * 96);
  for (std::size_t i = 0; i < own.size(); ++i) {
    io::append_csv_field(text, own_names[i]);  // RFC 4180 quoting
    text += ',';
    text += io::format_csv_float(own.beta[i]);
    text += ',';
    text += io::format_csv_float(own.se[i]);
    text += ',';
    text += io::format_csv_float(own.z[i]);
    text += ',';
    text += io::format_csv_double(own.p[i]);
    text += ',';
    text += io::format_csv_double(own.neg_log10_p[i]);
    text += '\n';
  }
  dist::write_ordered_file(path, io::gzip_compress(text), comm);
}

LdscColumns read_ldsc_csv_rows(const std::string& path, std::int64_t row0, std::int64_t row1) {
  io::CsvReader reader(path);  // spot names may be quoted (RFC 4180)
  std::vector<std::string_view> f;
  static const std::vector<std::string_view> kHeader{"spot", "beta", "se", "z", "p", "neg_log10_p"};
  if (!reader.next(f) || f != kHeader) {
    throw InputError(path, "line 1", "expected the header spot,beta,se,z,p,neg_log10_p",
                     "delete the file to recompute the trait");
  }
  LdscColumns c;
  std::int64_t row = 0;
  while (row < row1 && reader.next(f)) {
    if (row++ < row0) continue;
    double v[5];
    bool ok = f.size() == 6;
    for (int k = 0; ok && k < 5; ++k) ok = io::parse_number(f[k + 1], v[k]);
    if (!ok) {
      throw InputError(path, fmt::format("line {}", reader.line_number()), "malformed row",
                       "delete the file to recompute the trait");
    }
    c.beta.push_back(static_cast<float>(v[0]));
    c.se.push_back(static_cast<float>(v[1]));
    c.z.push_back(static_cast<float>(v[2]));
    c.p.push_back(v[3]);
    c.neg_log10_p.push_back(v[4]);
  }
  if (static_cast<std::int64_t>(c.size()) != row1 - row0) {
    throw InputError(path, "", fmt::format("has {} data rows, expected at least {}", row, row1),
                     "delete the file to recompute the trait");
  }
  return c;
}

void write_results_h5ad(const std::string& path, const MarkerScoreSource& source,
                        const std::vector<io::Trait>& traits, const std::vector<std::string>& csv_paths,
                        std::int64_t own_start, std::int64_t own_end, MPI_Comm comm) {
  using io::ParallelH5adWriter;
  const std::int64_t n_own = own_end - own_start, n_traits = static_cast<std::int64_t>(traits.size());
  std::vector<double> x(n_own * n_traits), p(n_own * n_traits);
  std::vector<float> beta(n_own * n_traits), se(n_own * n_traits), z(n_own * n_traits);
  for (std::int64_t t = 0; t < n_traits; ++t) {
    const auto c = read_ldsc_csv_rows(csv_paths[t], own_start, own_end);
    for (std::int64_t i = 0; i < n_own; ++i) {
      x[i * n_traits + t] = c.neg_log10_p[i];
      p[i * n_traits + t] = c.p[i];
      beta[i * n_traits + t] = c.beta[i];
      se[i * n_traits + t] = c.se[i];
      z[i * n_traits + t] = c.z[i];
    }
  }
  const io::H5adReader obs_source(source.obs_h5ad());
  ParallelH5adWriter w(path, comm, source.n_spots());
  w.create_dense("X", ParallelH5adWriter::DType::kF64, n_traits);
  w.write_rows("X", own_start, n_own, x.data());
  w.create_dense("layers/p", ParallelH5adWriter::DType::kF64, n_traits);
  w.write_rows("layers/p", own_start, n_own, p.data());
  w.create_dense("layers/beta", ParallelH5adWriter::DType::kF32, n_traits);
  w.write_rows("layers/beta", own_start, n_own, beta.data());
  w.create_dense("layers/se", ParallelH5adWriter::DType::kF32, n_traits);
  w.write_rows("layers/se", own_start, n_own, se.data());
  w.create_dense("layers/z", ParallelH5adWriter::DType::kF32, n_traits);
  w.write_rows("layers/z", own_start, n_own, z.data());
  if (obs_source.has_obsm("spatial")) {
    std::int64_t dims = 0;
    const auto coords = obs_source.obsm("spatial", &dims);
    w.create_dense("obsm/spatial", ParallelH5adWriter::DType::kF64, dims);
    w.write_rows("obsm/spatial", own_start, n_own, coords.data() + own_start * dims);
  }
  io::DataFrame obs;
  obs.index = source.spot_names(own_start, own_end);  // own spots' names only
  for (const auto& name : obs_source.obs_column_names()) {
    if (name.rfind("gsMap_homo", 0) == 0) continue;  // neighbour QC stays with the marker scores
    obs.columns.emplace_back(name, io::slice_rows(obs_source.obs_column(name), own_start, own_end));
  }
  w.write_obs_local(obs);
  // var: the traits, with the sumstats each was computed from (absolute path): a later run keeps
  // a trait it does not list only while that file is unchanged (provenance_steps.cpp).
  io::DataFrame var;
  io::StringColumn sumstats;
  for (const auto& t : traits) {
    var.index.push_back(t.name);
    sumstats.values.push_back(t.sumstats_path.empty()
                                  ? std::string()
                                  : std::filesystem::absolute(t.sumstats_path).lexically_normal().string());
  }
  sumstats.missing.assign(sumstats.values.size(), false);
  var.columns.emplace_back("sumstats_file", std::move(sumstats));
  w.write_var(dist::rank(comm) == 0 ? var : io::DataFrame{});
  w.finish(true);
}

}  // namespace gsmap::pipeline
