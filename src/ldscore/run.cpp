// ldscore-weight-matrix over MPI ranks and threads (docs/ldscore.md §8): every rank reads the small
// inputs (.bim, .fam, regression-SNP lists, the mapping) and plans the whole run identically; the
// genotype QC pass is split over the ranks; the batches of regression SNPs are split into one
// contiguous range per rank, balanced by their cost; each rank decodes only the genotype window of
// the batches it is computing, and its threads compute batches independently. The matrix is
// written with parallel HDF5, each rank its own rows.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <sched.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/ldscore/blocks.hpp"
#include "gsmap/ldscore/ldscore.hpp"
#include "gsmap/ldscore/mapping.hpp"
#include "gsmap/ldscore/plink.hpp"

namespace gsmap::ldscore {
namespace {

namespace fs = std::filesystem;
using Index = std::int64_t;
__extension__ typedef __int128 Int128;

// Runs `fn` on every rank; when it throws an Error on any rank, every rank throws the error of the
// lowest failing rank, marked as met by that rank (only it prints the message).
template <typename F>
void agreed(MPI_Comm comm, F&& fn) {
  std::optional<Error> error;
  try {
    fn();
  } catch (const Error& e) {
    error = e;
  }
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const int failed = error ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm);
  if (!any) return;
  const int candidate = error ? rank : std::numeric_limits<int>::max();
  int reporter = 0;
  MPI_Allreduce(&candidate, &reporter, 1, MPI_INT, MPI_MIN, comm);
  std::string message = error ? std::string(error->what()) : std::string();
  int header[2] = {static_cast<int>(message.size()), error ? static_cast<int>(error->code()) : 0};
  MPI_Bcast(header, 2, MPI_INT, reporter, comm);
  message.resize(static_cast<std::size_t>(header[0]));
  MPI_Bcast(message.data(), header[0], MPI_CHAR, reporter, comm);
  Error e(static_cast<ExitCode>(header[1]), message);
  e.set_origin_rank(reporter);
  throw e;
}

// The regression-SNP list of one chromosome (docs/ldscore.md §2.2, D5): the first existing file
// with at least one id among the five names gsMap3D tries.
struct Hm3List {
  std::string path;
  std::unordered_set<std::string> ids;
};

Hm3List read_hm3(const std::string& dir, int c) {
  const std::vector<std::string> names = {
      fmt::format("hm.{}.snp", c), fmt::format("hm3_snps.chr{}.txt", c),
      fmt::format("hapmap3_snps.chr{}.txt", c), fmt::format("chr{}.snplist", c),
      fmt::format("w_hm3.snplist.chr{}", c)};
  std::vector<std::string> empty;
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    Hm3List list;
    list.path = path;
    io::LineReader reader(path);
    std::string_view line;
    std::vector<std::string_view> fields;
    while (reader.next_view(line)) {
      io::split_whitespace(line, fields);
      if (!fields.empty()) list.ids.emplace(fields[0]);
    }
    if (!list.ids.empty()) return list;
    empty.push_back(path);
  }
  if (!empty.empty()) {
    throw InputError(empty.front(), "",
                     fmt::format("the regression-SNP list of chromosome {} is empty", c),
                     "give one variant id per line (ids as in the .bim)");
  }
  throw InputError(dir, "",
                   fmt::format("no regression-SNP list for chromosome {} (looked for {})", c,
                               fmt::format("{}", fmt::join(names, ", "))),
                   "put a list of regression SNP ids (one per line, ids as in the .bim) there, "
                   "e.g. hm." + std::to_string(c) + ".snp");
}

struct Chrom {
  int number = 0;
  std::string prefix;
  std::int64_t n = 0;  // individuals
  Bim bim;
  std::unique_ptr<BedFile> bed;
  Hm3List hm3;
  std::vector<CallCounts> counts;  // per .bim row
  // QC (docs/ldscore.md §3).
  std::vector<Index> q_rows;     // .bim rows of Q
  std::vector<Index> r_q;        // position in Q of each regression SNP
  std::vector<double> sqrt_d;    // per Q: sqrt(n_obs * sum_sq - sum^2)
  bool missing = false;          // some Q SNP has a missing call
  std::int64_t maf_removed = 0, constant_removed = 0;
  Coordinates coord, coord_r;
  MappingRows m;
  std::vector<KeptPair> pairs;
  std::vector<std::string> annot_names;
  Index row0 = 0;  // first output row
};

struct Batch {
  int chrom = 0;           // index into the output-ordered chromosomes
  Index first = 0, count = 0;  // positions in R
  Window main, reduced;    // batch windows: main block in Q, w_ld block in R
  Window span;             // Q columns covering the rows and both blocks
  double cost = 0;
};

struct BatchResult {
  std::vector<std::int64_t> ptr;
  std::vector<std::int32_t> col;
  std::vector<float> value;
  std::vector<float> l2;
};

int usable_cpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) return std::max(1, CPU_COUNT(&allowed));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Columns of the genotype window [lo, hi) of Q: dosages (missing = 0), then observed-call
// indicators when the chromosome has missing calls; n_pad floats each, 32-byte aligned.
class WindowStore {
 public:
  WindowStore(Index lo, Index hi, Index n_pad, bool observed)
      : lo_(lo), width_(hi - lo), n_pad_(n_pad), observed_(observed) {
    const std::size_t floats =
        static_cast<std::size_t>(width_ * (observed ? 2 : 1) * n_pad_);
    const std::size_t bytes = std::max<std::size_t>(32, (floats * sizeof(float) + 31) / 32 * 32);
    data_.reset(static_cast<float*>(std::aligned_alloc(32, bytes)));
    if (!data_) throw std::bad_alloc();
  }
  float* dosage(Index q) const { return data_.get() + (q - lo_) * n_pad_; }
  float* observed(Index q) const { return data_.get() + (width_ + q - lo_) * n_pad_; }
  bool has_observed() const { return observed_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  Index lo_, width_, n_pad_;
  bool observed_;
  std::unique_ptr<float, Free> data_;
};

void decode_window(const Chrom& c, const WindowStore& store, Index lo, Index hi, Index n_pad) {
  constexpr Index kPiece = 256;
  tbb::parallel_for(tbb::blocked_range<Index>(lo, hi, kPiece), [&](const auto& range) {
    std::vector<std::uint8_t> bytes;
    const Index first_row = c.q_rows[static_cast<std::size_t>(range.begin())];
    const Index last_row = c.q_rows[static_cast<std::size_t>(range.end() - 1)];
    c.bed->read(first_row, last_row - first_row + 1, bytes);
    const Index stride = c.bed->bytes_per_variant();
    for (Index q = range.begin(); q < range.end(); ++q) {
      const Index row = c.q_rows[static_cast<std::size_t>(q)];
      decode_variant(bytes.data() + (row - first_row) * stride, c.n, n_pad, store.dosage(q),
                     store.has_observed() ? store.observed(q) : nullptr);
    }
  });
}

// The LD computation of one batch (docs/ldscore.md §5.3-§5.5): r from exact integer products,
// the unbiased r^2, and the weights summed in double in .bim order.
BatchResult compute_batch(const Chrom& c, const Batch& b, const WindowStore& store, Index n_pad,
                          Index n_features, WindowMode mode, bool want_l2, Kernel kernel) {
  const Index na = b.count;
  const Index ulo = b.span.lo;
  const Index nb = b.span.hi - b.span.lo;
  std::vector<const float*> a_x(static_cast<std::size_t>(na)), b_x(static_cast<std::size_t>(nb));
  for (Index t = 0; t < na; ++t) a_x[static_cast<std::size_t>(t)] = store.dosage(c.r_q[static_cast<std::size_t>(b.first + t)]);
  for (Index k = 0; k < nb; ++k) b_x[static_cast<std::size_t>(k)] = store.dosage(ulo + k);
  std::vector<float> sxx(static_cast<std::size_t>(na * nb));
  cross_products(a_x.data(), na, b_x.data(), nb, n_pad, sxx.data(), kernel);
  std::vector<float> sxo, sox, soo;
  if (store.has_observed()) {
    std::vector<const float*> a_o(static_cast<std::size_t>(na)), b_o(static_cast<std::size_t>(nb));
    for (Index t = 0; t < na; ++t) a_o[static_cast<std::size_t>(t)] = store.observed(c.r_q[static_cast<std::size_t>(b.first + t)]);
    for (Index k = 0; k < nb; ++k) b_o[static_cast<std::size_t>(k)] = store.observed(ulo + k);
    sxo.resize(sxx.size());
    sox.resize(sxx.size());
    soo.resize(sxx.size());
    cross_products(a_x.data(), na, b_o.data(), nb, n_pad, sxo.data(), kernel);
    cross_products(a_o.data(), na, b_x.data(), nb, n_pad, sox.data(), kernel);
    cross_products(a_o.data(), na, b_o.data(), nb, n_pad, soo.data(), kernel);
  }

  BatchResult out;
  out.ptr.push_back(0);
  std::vector<double> ell(static_cast<std::size_t>(nb));
  std::vector<double> acc(static_cast<std::size_t>(n_features), 0.0);
  std::vector<char> seen(static_cast<std::size_t>(n_features), 0);
  std::vector<std::int32_t> touched;
  const double n = static_cast<double>(c.n);
  const double bias = 1.0 / (n - 2.0);
  for (Index t = 0; t < na; ++t) {
    const Index s = c.r_q[static_cast<std::size_t>(b.first + t)];
    const CallCounts& cs = c.counts[static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(s)])];
    const double ds = c.sqrt_d[static_cast<std::size_t>(s)];
    for (Index k = 0; k < nb; ++k) {
      const Index j = ulo + k;
      const CallCounts& cj = c.counts[static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(j)])];
      const std::size_t at = static_cast<std::size_t>(t * nb + k);
      double r = 0;
      if (store.has_observed()) {
        // sum over individuals observed in both of (x_s - mu_s)(x_j - mu_j), times n_s n_j.
        const Int128 num = Int128(cs.n_obs) * cj.n_obs * static_cast<std::int64_t>(sxx[at]) -
                           Int128(cj.sum) * cs.n_obs * static_cast<std::int64_t>(sxo[at]) -
                           Int128(cs.sum) * cj.n_obs * static_cast<std::int64_t>(sox[at]) +
                           Int128(cs.sum) * cj.sum * static_cast<std::int64_t>(soo[at]);
        r = static_cast<double>(num) / (n * ds * c.sqrt_d[static_cast<std::size_t>(j)]);
      } else {
        const std::int64_t num = c.n * static_cast<std::int64_t>(sxx[at]) -
                                 static_cast<std::int64_t>(cs.sum) * cj.sum;
        r = static_cast<double>(num) / (ds * c.sqrt_d[static_cast<std::size_t>(j)]);
      }
      const double r2 = r * r;
      ell[static_cast<std::size_t>(k)] = r2 - (1.0 - r2) * bias;
    }
    // Weights: W[s, g] = sum over the block, in .bim order, of l(s, j) M[j, g].
    const Window w = mode == WindowMode::kBatch ? b.main : own_window(c.coord, s);
    touched.clear();
    for (Index j = w.lo; j < w.hi; ++j) {
      const double l = ell[static_cast<std::size_t>(j - ulo)];
      for (Index e = c.m.ptr[static_cast<std::size_t>(j)]; e < c.m.ptr[static_cast<std::size_t>(j + 1)]; ++e) {
        const std::int32_t g = c.m.col[static_cast<std::size_t>(e)];
        if (!seen[static_cast<std::size_t>(g)]) {
          seen[static_cast<std::size_t>(g)] = 1;
          acc[static_cast<std::size_t>(g)] = 0.0;
          touched.push_back(g);
        }
        acc[static_cast<std::size_t>(g)] += l * c.m.value[static_cast<std::size_t>(e)];
      }
    }
    std::sort(touched.begin(), touched.end());
    for (const std::int32_t g : touched) {
      seen[static_cast<std::size_t>(g)] = 0;
      const auto v = static_cast<float>(acc[static_cast<std::size_t>(g)]);
      if (v != 0.0f) {
        out.col.push_back(g);
        out.value.push_back(v);
      }
    }
    out.ptr.push_back(static_cast<std::int64_t>(out.col.size()));
    if (want_l2) {
      const Index r_index = b.first + t;
      const Window wr = mode == WindowMode::kBatch ? b.reduced : own_window(c.coord_r, r_index);
      double l2 = 0;
      for (Index k = wr.lo; k < wr.hi; ++k) {
        l2 += ell[static_cast<std::size_t>(c.r_q[static_cast<std::size_t>(k)] - ulo)];
      }
      out.l2.push_back(static_cast<float>(l2));
    }
  }
  return out;
}

std::string group_digits(std::int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

RunSummary run(const Options& o, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const bool root = rank == 0;
  const bool annotation = !o.annot_file.empty();
  const int workers = o.compute_workers > 0 ? o.compute_workers : usable_cpus();
  tbb::task_arena arena(workers);
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  const auto t_start = Clock::now();

  // ---- 1. Inputs: every file exists and parses, before any genotype is read (D16, D7). ----
  std::vector<Chrom> chroms(o.chromosome_list.size());
  BedMapping bed;
  DictMapping dict;
  agreed(comm, [&] {
    std::vector<std::string> missing_bed;
    for (std::size_t i = 0; i < chroms.size(); ++i) {
      chroms[i].number = o.chromosome_list[i];
      chroms[i].prefix = bfile_prefix(o.bfile_root, chroms[i].number);
      std::error_code ec;
      if (!fs::is_regular_file(chroms[i].prefix + ".bed", ec)) {
        missing_bed.push_back(chroms[i].prefix + ".bed");
      }
    }
    if (!missing_bed.empty()) {
      throw InputError(missing_bed.front(), "",
                       fmt::format("no PLINK fileset for {} requested chromosome(s): {}",
                                   missing_bed.size(), fmt::join(missing_bed, ", ")),
                       "check --bfile-root (every {chr} is replaced by the chromosome number) and "
                       "--chromosomes");
    }
    for (auto& c : chroms) {
      for (const char* ext : {".bim", ".fam"}) {
        std::error_code ec;
        if (!fs::is_regular_file(c.prefix + ext, ec)) {
          throw InputError(c.prefix + ext, "",
                           fmt::format("missing: chromosome {} has a .bed but no {}", c.number, ext),
                           "a PLINK fileset is .bed, .bim and .fam with one prefix");
        }
      }
      if (annotation) {
        const std::string path = annot_path(o.annot_file, c.number);
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
          throw InputError(path, "", fmt::format("no annotation file for chromosome {}", c.number),
                           "check --annot-file ({chr} is replaced by the chromosome number)");
        }
      }
    }
    for (auto& c : chroms) {
      c.n = count_fam(c.prefix + ".fam");
      if (c.n < 3) {
        throw InputError(c.prefix + ".fam", "",
                         fmt::format("{} individuals; the unbiased r^2 needs at least 3", c.n),
                         "use a reference panel of more individuals");
      }
      if (c.n >= (std::int64_t{1} << 22)) {
        throw InputError(c.prefix + ".fam", "",
                         fmt::format("{} individuals; at most 4,194,303 are supported", c.n),
                         "use a smaller reference panel");
      }
      c.bim = read_bim(c.prefix + ".bim");
      c.bed = std::make_unique<BedFile>(c.prefix + ".bed", c.n, c.bim.size());
      c.hm3 = read_hm3(o.hm3_snp_dir, c.number);
    }
    if (!annotation) {
      if (o.mapping == MappingType::kBed) {
        bed = read_bed_mapping(o.mapping_file, o.strategy_kind);
      } else {
        dict = read_dict_mapping(o.mapping_file);
      }
    }
  });

  const double t_inputs = seconds_since(t_start);
  // ---- 2. Genotype QC counts, the variants split evenly over the ranks. ----
  const auto t_qc_start = Clock::now();
  Index total_variants = 0;
  for (const auto& c : chroms) total_variants += c.bim.size();
  const Index my_first = total_variants * rank / size;
  const Index my_last = total_variants * (rank + 1) / size;
  std::vector<CallCounts> mine;
  agreed(comm, [&] {
    Index offset = 0;
    std::vector<std::uint8_t> bytes;
    for (const auto& c : chroms) {
      const Index lo = std::max(my_first, offset), hi = std::min(my_last, offset + c.bim.size());
      constexpr Index kPiece = 4096;
      for (Index v = lo; v < hi; v += kPiece) {
        const Index count = std::min(kPiece, hi - v);
        c.bed->read(v - offset, count, bytes);
        for (Index k = 0; k < count; ++k) {
          mine.push_back(count_calls(bytes.data() + k * c.bed->bytes_per_variant(), c.n));
        }
      }
      offset += c.bim.size();
    }
  });
  {
    std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
    for (int r = 0; r < size; ++r) {
      const Index a = total_variants * r / size, b = total_variants * (r + 1) / size;
      counts[static_cast<std::size_t>(r)] = static_cast<int>((b - a) * 3);
      displs[static_cast<std::size_t>(r)] = static_cast<int>(a * 3);
    }
    if (total_variants * 3 > std::numeric_limits<int>::max()) {
      throw InputError(o.bfile_root, "", "more than 715 million variants in one run",
                       "run the chromosomes in separate runs");
    }
    std::vector<CallCounts> all(static_cast<std::size_t>(total_variants));
    static_assert(sizeof(CallCounts) == 3 * sizeof(std::int32_t));
    MPI_Allgatherv(mine.data(), static_cast<int>(mine.size() * 3), MPI_INT32_T, all.data(),
                   counts.data(), displs.data(), MPI_INT32_T, comm);
    Index offset = 0;
    for (auto& c : chroms) {
      c.counts.assign(all.begin() + offset, all.begin() + offset + c.bim.size());
      offset += c.bim.size();
    }
  }

  const double t_qc = seconds_since(t_qc_start);
  // ---- 3. QC, regression SNPs, coordinates, mapping, batches (identical on every rank). ----
  const auto t_plan_start = Clock::now();
  std::vector<std::string> features;
  std::vector<std::string> log_lines;
  agreed(comm, [&] {
    for (auto& c : chroms) {
      for (Index row = 0; row < c.bim.size(); ++row) {
        const CallCounts& k = c.counts[static_cast<std::size_t>(row)];
        const std::int64_t d = std::int64_t{k.n_obs} * k.sum_sq - std::int64_t{k.sum} * k.sum;
        if (k.n_obs == 0) {
          ++c.constant_removed;
          continue;
        }
        if (o.maf_min > 0) {
          // D3: MAF in double from the allele count.
          const double maf = static_cast<double>(std::min<std::int64_t>(k.sum, 2 * std::int64_t{k.n_obs} - k.sum)) /
                             (2.0 * k.n_obs);
          if (!(maf >= o.maf_min)) {
            ++c.maf_removed;
            continue;
          }
        }
        if (d == 0) {
          ++c.constant_removed;
          continue;
        }
        c.q_rows.push_back(row);
        c.sqrt_d.push_back(std::sqrt(static_cast<double>(d)));
        c.missing |= k.n_obs < c.n;
      }
      for (Index q = 0; q < static_cast<Index>(c.q_rows.size()); ++q) {
        if (c.hm3.ids.count(c.bim.id[static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(q)])])) {
          c.r_q.push_back(q);
        }
      }
      std::vector<Index> r_rows;
      for (const Index q : c.r_q) r_rows.push_back(c.q_rows[static_cast<std::size_t>(q)]);
      c.coord = make_coordinates(o.unit, o.ld_wind, c.bim, c.q_rows);
      if (o.calculate_w_ld) c.coord_r = make_coordinates(o.unit, o.ld_wind, c.bim, r_rows);
      if (annotation) {
        AnnotationRows a = read_annotation(annot_path(o.annot_file, c.number), c.bim, c.q_rows);
        c.m = std::move(a.rows);
        c.annot_names = std::move(a.names);
        if (root && !a.sparse_names.empty()) {
          GSMAP_LOG_WARN("chromosome {}: annotation(s) with < 0.01 % non-zero values: {}",
                         c.number, fmt::join(a.sparse_names, ", "));
        }
        if (features.empty()) {
          features = c.annot_names;
        } else if (c.annot_names != features) {
          throw InputError(annot_path(o.annot_file, c.number), "line 1",
                           fmt::format("annotation names differ from those of chromosome {}",
                                       chroms.front().number),
                           "every chromosome's annotation file needs the same columns in the same "
                           "order");
        }
      } else if (o.mapping == MappingType::kBed) {
        c.m = map_bed(bed, o.strategy_kind, o.feature_window_size, c.bim, c.q_rows, &c.pairs);
        features = bed.features;
      } else {
        c.m = map_dict(dict, c.bim, c.q_rows);
        features = dict.features;
      }
    }
  });
  if (!annotation) features.push_back("Unmapped");
  const Index n_features = static_cast<Index>(features.size());

  // Output order: chromosomes ascending (docs/ldscore.md §7.1); rows and duplicates (D4, D15).
  std::vector<std::size_t> order(chroms.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return chroms[x].number < chroms[y].number; });
  Index total_rows = 0;
  std::vector<Batch> batches;
  agreed(comm, [&] {
    std::unordered_map<std::string, std::pair<int, Index>> seen;
    for (const std::size_t ci : order) {
      Chrom& c = chroms[ci];
      c.row0 = total_rows;
      total_rows += static_cast<Index>(c.r_q.size());
      for (const Index q : c.r_q) {
        const Index row = c.q_rows[static_cast<std::size_t>(q)];
        const auto [it, inserted] = seen.try_emplace(c.bim.id[static_cast<std::size_t>(row)], c.number, row);
        if (!inserted) {
          throw InputError(c.bim.path, fmt::format("line {}", row + 1),
                           fmt::format("regression SNP id '{}' occurs twice (also chromosome {}, "
                                       ".bim line {})",
                                       c.bim.id[static_cast<std::size_t>(row)], it->second.first,
                                       it->second.second + 1),
                           "give every variant a unique id (plink --set-all-var-ids) or remove the "
                           "duplicate");
        }
      }
      const Index nr = static_cast<Index>(c.r_q.size());
      for (Index first = 0; first < nr; first += o.batch_size_hm3) {
        Batch b;
        b.chrom = static_cast<int>(ci);
        b.first = first;
        b.count = std::min<Index>(o.batch_size_hm3, nr - first);
        const Index q1 = c.r_q[static_cast<std::size_t>(first)];
        const Index q2 = c.r_q[static_cast<std::size_t>(first + b.count - 1)];
        b.main = o.window == WindowMode::kBatch ? batch_block(c.coord, q1, q2)
                                                : Window{own_window(c.coord, q1).lo,
                                                         own_window(c.coord, q2).hi};
        b.span = {std::min(b.main.lo, q1), std::max(b.main.hi, q2 + 1)};
        if (o.calculate_w_ld) {
          const Index i2 = first + b.count - 1;
          b.reduced = o.window == WindowMode::kBatch
                          ? batch_block(c.coord_r, first, i2)
                          : Window{own_window(c.coord_r, first).lo, own_window(c.coord_r, i2).hi};
          if (b.reduced.hi > b.reduced.lo) {
            b.span.lo = std::min(b.span.lo, c.r_q[static_cast<std::size_t>(b.reduced.lo)]);
            b.span.hi = std::max(b.span.hi, c.r_q[static_cast<std::size_t>(b.reduced.hi - 1)] + 1);
          }
        }
        b.cost = static_cast<double>(b.count) * static_cast<double>(b.span.hi - b.span.lo + 8);
        batches.push_back(b);
      }
    }
    if (total_rows == 0) {
      throw InputError(o.hm3_snp_dir, "",
                       "no regression SNP: no listed id is a QC-passing variant of the .bim of "
                       "the requested chromosomes",
                       "use regression-SNP lists with the .bim's variant ids, or a lower --maf-min");
    }
  });

  if (root) {
    for (const auto& c : chroms) {
      std::set<std::int32_t> genes;
      for (std::size_t e = 0; e < c.m.col.size(); ++e) {
        if (annotation || c.m.col[e] != n_features - 1) genes.insert(c.m.col[e]);
      }
      Index n_batches = 0, block_sum = 0;
      for (const auto& b : batches) {
        if (chroms[static_cast<std::size_t>(b.chrom)].number != c.number) continue;
        ++n_batches;
        block_sum += b.main.hi - b.main.lo;
      }
      GSMAP_LOG_INFO(
          "chromosome {}: {} variants x {} individuals; {} pass QC ({} below --maf-min {}, {} "
          "without calls or constant){}",
          c.number, group_digits(c.bim.size()), group_digits(c.n),
          group_digits(static_cast<Index>(c.q_rows.size())), group_digits(c.maf_removed), o.maf_min,
          group_digits(c.constant_removed), c.missing ? "; missing calls are mean-imputed" : "");
      GSMAP_LOG_INFO(
          "chromosome {}: {} of {} listed regression SNPs kept ({}); {} QC-passing SNPs mapped to "
          "{} features, {} unmapped; {} batches, mean LD block {:.1f} SNPs",
          c.number, group_digits(static_cast<Index>(c.r_q.size())),
          group_digits(static_cast<Index>(c.hm3.ids.size())), c.hm3.path,
          group_digits(annotation ? static_cast<Index>(c.q_rows.size()) : c.m.n_mapped),
          group_digits(static_cast<Index>(genes.size())),
          group_digits(annotation ? 0 : static_cast<Index>(c.q_rows.size()) - c.m.n_mapped),
          group_digits(n_batches),
          n_batches ? static_cast<double>(block_sum) / static_cast<double>(n_batches) : 0.0);
      if (c.coord.fallback) {
        GSMAP_LOG_WARN("chromosome {}: every QC-passing SNP has cM 0; the LD window is +-1 Mb of "
                       "bp instead of --ld-wind {} cM",
                       c.number, o.ld_wind);
      }
    }
  }

  // ---- 4. Work split: one contiguous range of batches per rank, balanced by cost. ----
  double total_cost = 0;
  for (const auto& b : batches) total_cost += b.cost;
  std::size_t my_lo = batches.size(), my_hi = 0;
  {
    double before = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const double mid = before + batches[i].cost / 2;
      before += batches[i].cost;
      const int owner = std::min(size - 1, static_cast<int>(mid / total_cost * size));
      if (owner == rank) {
        my_lo = std::min(my_lo, i);
        my_hi = std::max(my_hi, i + 1);
      }
    }
    if (my_lo > my_hi) my_lo = my_hi = 0;
  }

  const double t_plan = seconds_since(t_plan_start);
  // ---- 5. Compute: chunks of consecutive batches sharing one decoded genotype window. ----
  const auto t_compute_start = Clock::now();
  std::vector<BatchResult> results(my_hi - my_lo);
  agreed(comm, [&] {
    std::size_t i = my_lo;
    while (i < my_hi) {
      const Chrom& c = chroms[static_cast<std::size_t>(batches[i].chrom)];
      const Index n_pad = padded(c.n);
      const Index limit = std::max<Index>(
          1024, (Index{64} << 20) / (n_pad * static_cast<Index>(sizeof(float)) * (c.missing ? 2 : 1)));
      std::size_t j = i;
      Index lo = batches[i].span.lo, hi = batches[i].span.hi;
      while (j + 1 < my_hi && batches[j + 1].chrom == batches[i].chrom &&
             std::max(hi, batches[j + 1].span.hi) - lo <= limit) {
        ++j;
        hi = std::max(hi, batches[j].span.hi);
      }
      WindowStore store(lo, hi, n_pad, c.missing);
      arena.execute([&] {
        decode_window(c, store, lo, hi, n_pad);
        tbb::parallel_for(tbb::blocked_range<std::size_t>(i, j + 1, 1), [&](const auto& range) {
          for (std::size_t k = range.begin(); k < range.end(); ++k) {
            results[k - my_lo] = compute_batch(c, batches[k], store, n_pad, n_features, o.window,
                                               o.calculate_w_ld, o.kernel_kind);
          }
        });
      });
      i = j + 1;
    }
  });

  const double t_compute = seconds_since(t_compute_start);
  // The slowest rank's compute time (the others wait for it in the writes).
  double t_compute_max = 0;
  MPI_Reduce(&t_compute, &t_compute_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
  const auto t_write_start = Clock::now();
  // This rank's rows as one CSR block (or dense rows), its obs and its L2 values.
  Index my_row0 = total_rows, my_rows = 0;
  if (my_lo < my_hi) {
    const Batch& b = batches[my_lo];
    my_row0 = chroms[static_cast<std::size_t>(b.chrom)].row0 + b.first;
  }
  io::CsrRows local;
  local.n_cols = n_features;
  local.indptr.push_back(0);
  std::vector<float> l2;
  io::DataFrame obs;
  obs.index_name = "SNP";
  // CHR: categorical of the .bim text, categories sorted (pandas' order), same on every rank.
  std::vector<std::string> categories;
  for (const auto& c : chroms) {
    if (!c.r_q.empty()) {
      for (const Index q : c.r_q) categories.push_back(c.bim.chrom[static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(q)])]);
    }
  }
  std::sort(categories.begin(), categories.end());
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  io::Categorical chr_column;
  chr_column.categories = categories;
  io::NumericColumn bp_column;
  bp_column.is_integer = true;
  for (std::size_t k = my_lo; k < my_hi; ++k) {
    const Batch& b = batches[k];
    const Chrom& c = chroms[static_cast<std::size_t>(b.chrom)];
    BatchResult& r = results[k - my_lo];
    const std::int64_t base = static_cast<std::int64_t>(local.indices.size());
    local.indices.insert(local.indices.end(), r.col.begin(), r.col.end());
    local.data.insert(local.data.end(), r.value.begin(), r.value.end());
    for (std::size_t t = 1; t < r.ptr.size(); ++t) local.indptr.push_back(base + r.ptr[t]);
    l2.insert(l2.end(), r.l2.begin(), r.l2.end());
    for (Index t = 0; t < b.count; ++t) {
      const auto row = static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(c.r_q[static_cast<std::size_t>(b.first + t)])]);
      obs.index.push_back(c.bim.id[row]);
      chr_column.codes.push_back(static_cast<std::int32_t>(
          std::lower_bound(categories.begin(), categories.end(), c.bim.chrom[row]) - categories.begin()));
      bp_column.values.push_back(c.bim.bp[row]);
    }
    my_rows += b.count;
    r = BatchResult();
  }
  obs.columns.emplace_back("CHR", std::move(chr_column));
  obs.columns.emplace_back("BP", std::move(bp_column));
  const Index my_nnz = static_cast<Index>(local.data.size());
  Index nnz0 = 0, total_nnz = 0;
  MPI_Exscan(&my_nnz, &nnz0, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank == 0) nnz0 = 0;
  MPI_Allreduce(&my_nnz, &total_nnz, 1, MPI_INT64_T, MPI_SUM, comm);
  std::int64_t negative = 0, all_negative = 0;
  for (const float v : local.data) negative += v < 0;
  MPI_Allreduce(&negative, &all_negative, 1, MPI_INT64_T, MPI_SUM, comm);

  // ---- 6. Outputs. Rank 0 writes the pair table and the w_ld files, then all ranks the matrix.
  std::vector<float> all_l2;
  if (o.calculate_w_ld) {
    std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
    const int mine_count = static_cast<int>(l2.size());
    MPI_Gather(&mine_count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
    if (root) {
      for (int r = 1; r < size; ++r) displs[static_cast<std::size_t>(r)] = displs[static_cast<std::size_t>(r - 1)] + counts[static_cast<std::size_t>(r - 1)];
      all_l2.resize(static_cast<std::size_t>(total_rows));
    }
    MPI_Gatherv(l2.data(), mine_count, MPI_FLOAT, all_l2.data(), counts.data(), displs.data(),
                MPI_FLOAT, 0, comm);
  }
  agreed(comm, [&] {
    if (!root) return;
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) {
      throw IoError(fmt::format("{}: cannot create the output directory: {}", o.output_dir,
                                ec.message()));
    }
    if (!annotation && o.mapping == MappingType::kBed) {
      std::string csv = pair_csv_header(bed.has_score, o.strategy_kind);
      bool any = false;
      for (const auto& c : chroms) {  // processing order (D22)
        any |= !c.pairs.empty();
        append_pair_csv(csv, c.pairs, bed, o.strategy_kind, c.bim, c.q_rows);
      }
      if (any) io::write_file_atomic(o.output_dir + "/" + o.output_filename + ".csv", csv);
    }
    if (o.calculate_w_ld) {
      fs::create_directories(o.w_ld_dir, ec);
      if (ec) {
        throw IoError(fmt::format("{}: cannot create the w_ld directory: {}", o.w_ld_dir,
                                  ec.message()));
      }
      for (const auto& c : chroms) {
        if (c.r_q.empty()) continue;
        std::string text = "CHR\tSNP\tBP\tCM\tL2\n";
        for (std::size_t t = 0; t < c.r_q.size(); ++t) {
          const auto row = static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(c.r_q[t])]);
          text += c.bim.chrom[row];
          text += '\t';
          text += c.bim.id[row];
          fmt::format_to(std::back_inserter(text), "\t{}\t", c.bim.bp[row]);
          io::append_double(text, c.bim.cm[row]);
          text += '\t';
          io::append_float(text, all_l2[static_cast<std::size_t>(c.row0) + t]);
          text += '\n';
        }
        io::write_file_atomic(fmt::format("{}/weights.{}.l2.ldscore.gz", o.w_ld_dir, c.number),
                              io::gzip_compress(text));
      }
    }
  });

  const std::string h5ad = o.output_dir + "/" + o.output_filename + ".h5ad";
  {
    io::AtomicOutput out(h5ad, comm);
    io::ParallelH5adWriter writer(out.temp_path(), comm, total_rows);
    if (annotation) {
      std::vector<float> dense(static_cast<std::size_t>(my_rows * n_features), 0.0f);
      for (Index r = 0; r < my_rows; ++r) {
        for (auto e = local.indptr[static_cast<std::size_t>(r)]; e < local.indptr[static_cast<std::size_t>(r + 1)]; ++e) {
          dense[static_cast<std::size_t>(r * n_features + local.indices[static_cast<std::size_t>(e)])] =
              local.data[static_cast<std::size_t>(e)];
        }
      }
      writer.create_dense("X", io::ParallelH5adWriter::DType::kF32, n_features);
      writer.write_rows("X", my_row0, my_rows, dense.data());
    } else {
      writer.create_csr("X", n_features, total_nnz);
      writer.write_csr_rows("X", my_row0, nnz0, local);
    }
    writer.write_obs_local(obs);
    io::DataFrame var;
    if (root) {
      var.index_name = "Feature";
      var.index = features;
    }
    writer.write_var(var);
    writer.finish();
    out.commit();
  }
  // Peak resident memory of every rank (bounded by its genotype window, docs/ldscore.md §8).
  const double my_peak = static_cast<double>(core::peak_rss_bytes()) / (1 << 20);
  std::vector<double> peaks(static_cast<std::size_t>(size));
  MPI_Gather(&my_peak, 1, MPI_DOUBLE, peaks.data(), 1, MPI_DOUBLE, 0, comm);
  if (root) {
    std::string peak_text;
    for (int r = 0; r < size; ++r) {
      peak_text += fmt::format("{}{:.0f}", r ? ", " : "", peaks[static_cast<std::size_t>(r)]);
    }
    GSMAP_LOG_INFO("peak memory per rank (MiB): {}", peak_text);
    GSMAP_LOG_INFO("{}: {} SNPs x {} features ({}), {} stored entries ({} negative); {} batches "
                   "on {} rank(s) x {} thread(s), {} kernel",
                   h5ad, group_digits(total_rows), group_digits(n_features),
                   annotation ? "annotations, dense" : "features + Unmapped",
                   group_digits(total_nnz), group_digits(all_negative),
                   group_digits(static_cast<Index>(batches.size())), size, workers,
                   kernel_name(o.kernel_kind));
    GSMAP_LOG_INFO("time: inputs {:.2f} s, genotype QC {:.2f} s, plan {:.2f} s, LD {:.2f} s "
                   "(slowest rank), gather and write {:.2f} s; total {:.2f} s",
                   t_inputs, t_qc, t_plan, t_compute_max, seconds_since(t_write_start),
                   seconds_since(t_start));
    if (annotation) {
      GSMAP_LOG_WARN("annotation mode: the matrix has no Unmapped column; spatial LDSC treats its "
                     "last annotation ({}) as unmapped",
                     features.back());
    }
  }
  RunSummary summary;
  summary.rows = total_rows;
  summary.columns = n_features;
  summary.stored = total_nnz;
  summary.batches = static_cast<Index>(batches.size());
  return summary;
}

}  // namespace gsmap::ldscore
