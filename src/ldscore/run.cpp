// ldscore-weight-matrix over MPI ranks and threads (docs/ldscore.md §8): every rank checks that
// the files exist and reads the feature mapping; each chromosome is planned (its .bim, regression-SNP
// list, genotype QC pass, coordinates, mapping and batches) by one rank only, one chromosome at a
// time, chromosomes split into contiguous ranges balanced by .bed size; the planner keeps the
// batches and the pair-table rows and frees the variant tables; the ranks exchange the small plan
// (per-chromosome counts and the batch windows); the batches are split into one contiguous range
// per rank, balanced by their cost; each rank then reads only the variants of its batches and
// their LD windows (its slices), decodes the genotype window of the batches it is computing, and
// its threads compute batches independently. The matrix is written with parallel HDF5, each rank
// its own rows; the pair table is streamed to rank 0 and each w_ld table to its writer, one
// chromosome at a time.
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <type_traits>
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

// What a rank holds of a chromosome it computes on (docs/ldscore.md §8): only the QC-passing SNPs
// Q[q0, q0 + size) covering the windows of its batches, read from the files by the rank itself.
// Positions stay global (Q and R of the whole chromosome); `q0` and `r0` translate.
struct Slice {
  Index q0 = 0, r0 = 0;          // global Q / R position of the first entry
  Index row_lo = 0, row_hi = 0;  // the .bim rows read
  std::unique_ptr<BedFile> bed;
  std::vector<Index> q_rows;        // per slice Q: its .bim row (global)
  std::vector<CallCounts> counts;   // per slice Q
  std::vector<double> sqrt_d;       // per slice Q
  std::vector<Index> r_q;           // per slice R: its global Q position
  Coordinates coord, coord_r;       // of the slice's Q and R
  MappingRows m;                    // per slice Q
  // Per slice R: the output fields (obs, w_ld file).
  std::vector<std::string> r_id, r_chrom;
  std::vector<std::int32_t> r_bp;
  std::vector<double> r_cm;
  std::vector<std::string> q_id;  // dict mode: Q's ids until the slice is mapped
  Index q(Index global_q) const { return global_q - q0; }
  Index r(Index global_r) const { return global_r - r0; }
};

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
  // Known on every rank after the plan exchange (docs/ldscore.md §8); the tables above only on
  // the planner while it plans (`held`).
  int planner = 0;
  bool held = false;
  std::uintmax_t bed_bytes = 0;
  Index bim_size = 0, q_count = 0, r_count = 0, hm3_size = 0, n_mapped = 0, n_genes = 0;
  std::string hm3_path;
  bool fallback = false, any_pairs = false;
  std::vector<std::string> r_chrom_names;  // distinct .bim chromosome texts of the regression SNPs
  std::vector<std::string> sparse_names;   // annotation mode: nearly empty annotations
  bool fallback_r = false;                  // the w_ld coordinates' cM fallback (R's own)
  std::string pair_text;  // the planner's: this chromosome's pair-table rows (BED mode)
  std::vector<std::uint64_t> q_id_hash;  // the planner's, dict mode: hashes of Q's ids
  Slice s;                // the rank's slice, where it computes on this chromosome
  bool sliced = false;
};

struct Batch {
  int chrom = 0;           // index into the output-ordered chromosomes
  Index first = 0, count = 0;  // positions in R
  Window main, reduced;    // batch windows: main block in Q, w_ld block in R
  Window span;             // Q columns covering the rows and both blocks
  Index row_lo = 0, row_hi = 0;  // the .bim rows of Q span.lo and span.hi - 1 (+1)
  Index span_r = 0;        // the first R position whose Q is at or after span.lo
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
  const Slice& sl = c.s;
  tbb::parallel_for(tbb::blocked_range<Index>(lo, hi, kPiece), [&](const auto& range) {
    std::vector<std::uint8_t> bytes;
    const Index first_row = sl.q_rows[static_cast<std::size_t>(sl.q(range.begin()))];
    const Index last_row = sl.q_rows[static_cast<std::size_t>(sl.q(range.end() - 1))];
    sl.bed->read(first_row, last_row - first_row + 1, bytes);
    const Index stride = sl.bed->bytes_per_variant();
    for (Index q = range.begin(); q < range.end(); ++q) {
      const Index row = sl.q_rows[static_cast<std::size_t>(sl.q(q))];
      decode_variant(bytes.data() + (row - first_row) * stride, c.n, n_pad, store.dosage(q),
                     store.has_observed() ? store.observed(q) : nullptr);
    }
  });
}

// The LD computation of one batch (docs/ldscore.md §5.3-§5.5): r from exact integer products,
// the unbiased r^2, and the weights summed in double in .bim order.
BatchResult compute_batch(const Chrom& c, const Batch& b, const WindowStore& store, Index n_pad,
                          Index n_features, WindowMode mode, bool want_l2, Kernel kernel) {
  const Slice& sl = c.s;
  const Index na = b.count;
  const Index ulo = b.span.lo;
  const Index nb = b.span.hi - b.span.lo;
  std::vector<const float*> a_x(static_cast<std::size_t>(na)), b_x(static_cast<std::size_t>(nb));
  const auto r_col = [&](Index t) { return sl.r_q[static_cast<std::size_t>(sl.r(b.first + t))]; };
  for (Index t = 0; t < na; ++t) a_x[static_cast<std::size_t>(t)] = store.dosage(r_col(t));
  for (Index k = 0; k < nb; ++k) b_x[static_cast<std::size_t>(k)] = store.dosage(ulo + k);
  std::vector<float> sxx(static_cast<std::size_t>(na * nb));
  cross_products(a_x.data(), na, b_x.data(), nb, n_pad, sxx.data(), kernel);
  std::vector<float> sxo, sox, soo;
  if (store.has_observed()) {
    std::vector<const float*> a_o(static_cast<std::size_t>(na)), b_o(static_cast<std::size_t>(nb));
    for (Index t = 0; t < na; ++t) a_o[static_cast<std::size_t>(t)] = store.observed(r_col(t));
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
    const Index s = r_col(t);
    const CallCounts& cs = sl.counts[static_cast<std::size_t>(sl.q(s))];
    const double ds = sl.sqrt_d[static_cast<std::size_t>(sl.q(s))];
    for (Index k = 0; k < nb; ++k) {
      const Index j = ulo + k;
      const CallCounts& cj = sl.counts[static_cast<std::size_t>(sl.q(j))];
      const double dj = sl.sqrt_d[static_cast<std::size_t>(sl.q(j))];
      const std::size_t at = static_cast<std::size_t>(t * nb + k);
      double r = 0;
      if (store.has_observed()) {
        // sum over individuals observed in both of (x_s - mu_s)(x_j - mu_j), times n_s n_j.
        const Int128 num = Int128(cs.n_obs) * cj.n_obs * static_cast<std::int64_t>(sxx[at]) -
                           Int128(cj.sum) * cs.n_obs * static_cast<std::int64_t>(sxo[at]) -
                           Int128(cs.sum) * cj.n_obs * static_cast<std::int64_t>(sox[at]) +
                           Int128(cs.sum) * cj.sum * static_cast<std::int64_t>(soo[at]);
        r = static_cast<double>(num) / (n * ds * dj);
      } else {
        const std::int64_t num = c.n * static_cast<std::int64_t>(sxx[at]) -
                                 static_cast<std::int64_t>(cs.sum) * cj.sum;
        r = static_cast<double>(num) / (ds * dj);
      }
      const double r2 = r * r;
      ell[static_cast<std::size_t>(k)] = r2 - (1.0 - r2) * bias;
    }
    // Weights: W[s, g] = sum over the block, in .bim order, of l(s, j) M[j, g].
    // The slice's coordinates hold every SNP of the window (it covers the batch's span), so the
    // window found in them, shifted by q0, is the chromosome's.
    Window w = b.main;
    if (mode != WindowMode::kBatch) {
      w = own_window(sl.coord, sl.q(s));
      w = {w.lo + sl.q0, w.hi + sl.q0};
    }
    touched.clear();
    for (Index j = w.lo; j < w.hi; ++j) {
      const double l = ell[static_cast<std::size_t>(j - ulo)];
      const auto jl = static_cast<std::size_t>(sl.q(j));
      for (Index e = sl.m.ptr[jl]; e < sl.m.ptr[jl + 1]; ++e) {
        const std::int32_t g = sl.m.col[static_cast<std::size_t>(e)];
        if (!seen[static_cast<std::size_t>(g)]) {
          seen[static_cast<std::size_t>(g)] = 1;
          acc[static_cast<std::size_t>(g)] = 0.0;
          touched.push_back(g);
        }
        acc[static_cast<std::size_t>(g)] += l * sl.m.value[static_cast<std::size_t>(e)];
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
      Window wr = b.reduced;
      if (mode != WindowMode::kBatch) {
        wr = own_window(sl.coord_r, sl.r(r_index));
        wr = {wr.lo + sl.r0, wr.hi + sl.r0};
      }
      double l2 = 0;
      for (Index k = wr.lo; k < wr.hi; ++k) {
        l2 += ell[static_cast<std::size_t>(sl.r_q[static_cast<std::size_t>(sl.r(k))] - ulo)];
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

// Plan messages between ranks: trivially copyable values and strings appended to a byte string.
struct Packer {
  std::string buf;
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void put(const std::string& s) {
    put<std::uint64_t>(s.size());
    buf += s;
  }
  void put(const std::vector<std::string>& v) {
    put<std::uint64_t>(v.size());
    for (const auto& s : v) put(s);
  }
};

struct Unpacker {
  const char* p;
  template <typename T>
  T get() {
    T v;
    std::memcpy(&v, p, sizeof v);
    p += sizeof v;
    return v;
  }
  std::string str() {
    const auto n = get<std::uint64_t>();
    std::string s(p, n);
    p += n;
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(get<std::uint64_t>());
    for (auto& s : v) s = str();
    return v;
  }
};

// Every rank's byte string, concatenated in rank order (`displs` gives where each begins).
std::string allgather_bytes(MPI_Comm comm, const std::string& mine, std::vector<int>& displs) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  const int mine_count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size));
  MPI_Allgather(&mine_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  displs.assign(static_cast<std::size_t>(size) + 1, 0);
  for (int r = 0; r < size; ++r) {
    displs[static_cast<std::size_t>(r) + 1] =
        displs[static_cast<std::size_t>(r)] + counts[static_cast<std::size_t>(r)];
  }
  std::string all(static_cast<std::size_t>(displs.back()), '\0');
  MPI_Allgatherv(mine.data(), mine_count, MPI_CHAR, all.data(), counts.data(), displs.data(),
                 MPI_CHAR, comm);
  return all;
}

// Reads one chromosome's .bim, checks its .bed against it and reads its regression-SNP list.
void load_inputs(Chrom& c, const Options& o) {
  c.bim = read_bim(c.prefix + ".bim");
  c.bed = std::make_unique<BedFile>(c.prefix + ".bed", c.n, c.bim.size());
  c.hm3 = read_hm3(o.hm3_snp_dir, c.number);
  c.bim_size = c.bim.size();
  c.hm3_size = static_cast<Index>(c.hm3.ids.size());
  c.hm3_path = c.hm3.path;
  c.held = true;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char ch : s) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  return h;
}

// Genotype QC of one variant (docs/ldscore.md §3).
enum class Qc { kPass, kMaf, kConstant };
Qc qc_of(const CallCounts& k, double maf_min) {
  if (k.n_obs == 0) return Qc::kConstant;
  if (maf_min > 0) {
    // D3: MAF in double from the allele count.
    const double maf =
        static_cast<double>(std::min<std::int64_t>(k.sum, 2 * std::int64_t{k.n_obs} - k.sum)) /
        (2.0 * k.n_obs);
    if (!(maf >= maf_min)) return Qc::kMaf;
  }
  const std::int64_t d = std::int64_t{k.n_obs} * k.sum_sq - std::int64_t{k.sum} * k.sum;
  return d == 0 ? Qc::kConstant : Qc::kPass;
}

// One chromosome's genotype QC pass (threads over pieces of variants), QC (docs/ldscore.md §3),
// regression SNPs, coordinates and mapping (§4, §5.2). `unmapped` is the Unmapped column (-1 in
// annotation mode).
void plan_chrom(Chrom& c, const Options& o, const BedMapping& bed, tbb::task_arena& arena,
                Index unmapped) {
  const bool annotation = !o.annot_file.empty();
  c.counts.assign(static_cast<std::size_t>(c.bim.size()), CallCounts{});
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<Index>(0, c.bim.size(), 4096), [&](const auto& range) {
      std::vector<std::uint8_t> bytes;
      c.bed->read(range.begin(), range.end() - range.begin(), bytes);
      const Index stride = c.bed->bytes_per_variant();
      for (Index v = range.begin(); v < range.end(); ++v) {
        c.counts[static_cast<std::size_t>(v)] =
            count_calls(bytes.data() + (v - range.begin()) * stride, c.n);
      }
    });
  });
  c.q_rows.clear();
  c.sqrt_d.clear();
  c.r_q.clear();
  c.missing = false;
  c.maf_removed = c.constant_removed = 0;
  for (Index row = 0; row < c.bim.size(); ++row) {
    const CallCounts& k = c.counts[static_cast<std::size_t>(row)];
    const Qc qc = qc_of(k, o.maf_min);
    if (qc == Qc::kMaf) ++c.maf_removed;
    if (qc == Qc::kConstant) ++c.constant_removed;
    if (qc != Qc::kPass) continue;
    c.q_rows.push_back(row);
    c.sqrt_d.push_back(std::sqrt(static_cast<double>(std::int64_t{k.n_obs} * k.sum_sq -
                                                     std::int64_t{k.sum} * k.sum)));
    c.missing |= k.n_obs < c.n;
  }
  for (Index q = 0; q < static_cast<Index>(c.q_rows.size()); ++q) {
    if (c.hm3.ids.count(c.bim.id[static_cast<std::size_t>(c.q_rows[static_cast<std::size_t>(q)])])) {
      c.r_q.push_back(q);
    }
  }
  c.hm3 = Hm3List();  // the list is not needed again (its size and path are kept)
  std::vector<Index> r_rows;
  std::set<std::string> r_names;
  for (const Index q : c.r_q) {
    r_rows.push_back(c.q_rows[static_cast<std::size_t>(q)]);
    r_names.insert(c.bim.chrom[static_cast<std::size_t>(r_rows.back())]);
  }
  c.r_chrom_names.assign(r_names.begin(), r_names.end());
  c.coord = make_coordinates(o.unit, o.ld_wind, c.bim, c.q_rows);
  if (o.calculate_w_ld) {
    c.coord_r = make_coordinates(o.unit, o.ld_wind, c.bim, r_rows);
    c.fallback_r = c.coord_r.fallback;
  }
  c.pairs.clear();
  if (annotation) {
    AnnotationRows a = read_annotation(annot_path(o.annot_file, c.number), c.bim, c.q_rows);
    c.m = std::move(a.rows);
    c.annot_names = std::move(a.names);
    c.sparse_names = std::move(a.sparse_names);
  } else if (o.mapping == MappingType::kBed) {
    c.m = map_bed(bed, o.strategy_kind, o.feature_window_size, c.bim, c.q_rows, &c.pairs);
  } else {
    // Dict mode: the table is read after the plan, each rank keeping only the rows of its own
    // variants (docs/ldscore.md §8); the planner keeps the hashes of Q's ids for the counts.
    c.q_id_hash.clear();
    for (const Index row : c.q_rows) {
      c.q_id_hash.push_back(fnv1a(c.bim.id[static_cast<std::size_t>(row)]));
    }
  }
  std::set<std::int32_t> genes;
  for (const std::int32_t g : c.m.col) {
    if (g != unmapped) genes.insert(g);
  }
  c.q_count = static_cast<Index>(c.q_rows.size());
  c.r_count = static_cast<Index>(c.r_q.size());
  c.n_mapped = c.m.n_mapped;
  c.n_genes = static_cast<Index>(genes.size());
  c.fallback = c.coord.fallback;
  c.any_pairs = !c.pairs.empty();
}

// The batches of one chromosome (index `ci` in processing order), rows in R order (§5.2).
std::vector<Batch> make_batches(const Chrom& c, int ci, const Options& o) {
  std::vector<Batch> out;
  const Index nr = static_cast<Index>(c.r_q.size());
  for (Index first = 0; first < nr; first += o.batch_size_hm3) {
    Batch b;
    b.chrom = ci;
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
    b.row_lo = c.q_rows[static_cast<std::size_t>(b.span.lo)];
    b.row_hi = c.q_rows[static_cast<std::size_t>(b.span.hi - 1)] + 1;
    b.span_r = std::lower_bound(c.r_q.begin(), c.r_q.end(), b.span.lo) - c.r_q.begin();
    b.cost = static_cast<double>(b.count) * static_cast<double>(b.span.hi - b.span.lo + 8);
    out.push_back(b);
  }
  return out;
}

// Frees a chromosome's variant tables (the summary fields stay).
void release(Chrom& c) {
  c.bim = Bim();
  c.bed.reset();
  c.hm3 = Hm3List();
  c.counts = std::vector<CallCounts>();
  c.q_rows = std::vector<Index>();
  c.r_q = std::vector<Index>();
  c.sqrt_d = std::vector<double>();
  c.coord = Coordinates();
  c.coord_r = Coordinates();
  c.m = MappingRows();
  c.pairs = std::vector<KeptPair>();
  c.held = false;
}

// The rank's slice of a chromosome it computes on (docs/ldscore.md §8): QC-passing SNPs
// Q[q_lo, q_hi) at .bim rows [row_lo, row_hi), the first of its regression SNPs being R[r_lo]. The
// rank reads only those .bim rows and .bed variants and keeps only them; the QC, the regression-SNP
// test, the coordinates (with the chromosome's cM fallback decided by its planner) and the mapping
// are per SNP, so they equal the planner's. In annotation mode the chromosome's .bim and annotation
// file are read whole to find the rows (then freed).
void build_slice(Chrom& c, const Options& o, Index q_lo, Index q_hi, Index row_lo, Index row_hi,
                 Index r_lo, const BedMapping& bed, tbb::task_arena& arena) {
  const auto changed = [&](const std::string& what) {
    return IoError(fmt::format("{}: {} differs from what its planner read; were the files "
                               "changed during the run?",
                               c.prefix, what));
  };
  c.s = Slice();
  Slice& sl = c.s;
  sl.q0 = q_lo;
  sl.r0 = r_lo;
  sl.row_lo = row_lo;
  sl.row_hi = row_hi;
  const Bim bim = read_bim_rows(c.prefix + ".bim", row_lo, row_hi);
  if (bim.size() != row_hi - row_lo) throw changed(".bim");
  sl.bed = std::make_unique<BedFile>(c.prefix + ".bed", c.n, c.bim_size);
  std::vector<CallCounts> counts(static_cast<std::size_t>(bim.size()));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<Index>(0, bim.size(), 4096), [&](const auto& range) {
      std::vector<std::uint8_t> bytes;
      sl.bed->read(row_lo + range.begin(), range.end() - range.begin(), bytes);
      const Index stride = sl.bed->bytes_per_variant();
      for (Index v = range.begin(); v < range.end(); ++v) {
        counts[static_cast<std::size_t>(v)] =
            count_calls(bytes.data() + (v - range.begin()) * stride, c.n);
      }
    });
  });
  std::vector<Index> q_local;  // .bim rows of the slice's Q, relative to row_lo
  for (Index row = 0; row < bim.size(); ++row) {
    const CallCounts& k = counts[static_cast<std::size_t>(row)];
    if (qc_of(k, o.maf_min) != Qc::kPass) continue;
    q_local.push_back(row);
    sl.q_rows.push_back(row_lo + row);
    sl.counts.push_back(k);
    sl.sqrt_d.push_back(std::sqrt(static_cast<double>(std::int64_t{k.n_obs} * k.sum_sq -
                                                      std::int64_t{k.sum} * k.sum)));
  }
  counts = std::vector<CallCounts>();
  if (static_cast<Index>(q_local.size()) != q_hi - q_lo || q_local.front() != 0 ||
      q_local.back() != bim.size() - 1) {
    throw changed(".bed");
  }
  // Regression SNPs: the slice's ids found in the planner's list file (looked up by 64-bit hash
  // in a sorted array, each match confirmed on the id itself).
  std::vector<std::pair<std::uint64_t, Index>> by_hash;  // (hash of the id, slice Q position)
  by_hash.reserve(q_local.size());
  for (Index q = 0; q < static_cast<Index>(q_local.size()); ++q) {
    const auto row = static_cast<std::size_t>(q_local[static_cast<std::size_t>(q)]);
    by_hash.emplace_back(fnv1a(bim.id[row]), q);
  }
  std::sort(by_hash.begin(), by_hash.end());
  std::vector<char> listed(q_local.size(), 0);
  {
    io::LineReader reader(c.hm3_path);
    std::string_view line;
    std::vector<std::string_view> fields;
    while (reader.next_view(line)) {
      io::split_whitespace(line, fields);
      if (fields.empty()) continue;
      const std::uint64_t h = fnv1a(fields[0]);
      auto it = std::lower_bound(by_hash.begin(), by_hash.end(), std::pair<std::uint64_t, Index>(h, 0));
      for (; it != by_hash.end() && it->first == h; ++it) {
        const auto q = static_cast<std::size_t>(it->second);
        if (bim.id[static_cast<std::size_t>(q_local[q])] == fields[0]) listed[q] = 1;
      }
    }
  }
  by_hash = {};
  std::vector<Index> r_local;
  for (Index q = 0; q < static_cast<Index>(q_local.size()); ++q) {
    if (!listed[static_cast<std::size_t>(q)]) continue;
    const auto row = static_cast<std::size_t>(q_local[static_cast<std::size_t>(q)]);
    sl.r_q.push_back(q_lo + q);
    r_local.push_back(q_local[static_cast<std::size_t>(q)]);
    sl.r_id.push_back(bim.id[row]);
    sl.r_chrom.push_back(bim.chrom[row]);
    sl.r_bp.push_back(bim.bp[row]);
    sl.r_cm.push_back(bim.cm[row]);
  }
  sl.coord = make_coordinates(o.unit, o.ld_wind, bim, q_local, c.fallback);
  if (o.calculate_w_ld) sl.coord_r = make_coordinates(o.unit, o.ld_wind, bim, r_local, c.fallback_r);
  if (!o.annot_file.empty()) {
    const Bim whole = read_bim(c.prefix + ".bim");
    sl.m = read_annotation(annot_path(o.annot_file, c.number), whole, sl.q_rows).rows;
  } else if (o.mapping == MappingType::kBed) {
    sl.m = map_bed(bed, o.strategy_kind, o.feature_window_size, bim, q_local, nullptr);
  } else {
    for (const Index row : q_local) sl.q_id.push_back(bim.id[static_cast<std::size_t>(row)]);
  }
  sl.q_rows.shrink_to_fit();
  sl.counts.shrink_to_fit();
  sl.sqrt_d.shrink_to_fit();
  c.sliced = true;
}

// Owner of each of `costs` (contiguous ranges, balanced by cost): item i goes to the rank whose
// share of the total holds the middle of its cost.
std::vector<int> split_by_cost(const std::vector<double>& costs, int size) {
  double total = 0;
  for (const double c : costs) total += c;
  std::vector<int> owner(costs.size(), 0);
  double before = 0;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    const double mid = before + costs[i] / 2;
    before += costs[i];
    owner[i] = total > 0 ? std::min(size - 1, static_cast<int>(mid / total * size)) : 0;
  }
  return owner;
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

  // ---- 1. Every rank: the files exist, the .fam files and the mapping parse (D16, D7). ----
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
      } else {
        chroms[i].bed_bytes = fs::file_size(chroms[i].prefix + ".bed", ec);
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
    }
    if (!annotation) {
      if (o.mapping == MappingType::kBed) {
        bed = read_bed_mapping(o.mapping_file, o.strategy_kind);
      }
    }
  });
  // The Unmapped column (BED mode; dict mode counts its genes after reading the table).
  const Index unmapped = annotation ? -1 : static_cast<Index>(bed.features.size());

  // Output order: chromosomes ascending (docs/ldscore.md §7.1). Planners: contiguous ranges of that
  // order, balanced by .bed size (the QC pass reads the whole .bed).
  std::vector<std::size_t> order(chroms.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return chroms[x].number < chroms[y].number; });
  {
    std::vector<double> bytes;
    for (const std::size_t ci : order) bytes.push_back(static_cast<double>(chroms[ci].bed_bytes) + 1);
    const std::vector<int> planner = split_by_cost(bytes, size);
    for (std::size_t k = 0; k < order.size(); ++k) chroms[order[k]].planner = planner[k];
  }
  const double t_inputs = seconds_since(t_start);

  // ---- 2. This rank's chromosomes, one at a time: .bim, .bed check, list, QC pass and plan; its
  // batches, the hashes of its regression-SNP ids and its pair-table rows are kept, its variant
  // tables freed (docs/ldscore.md §8). ----
  const auto t_setup_start = Clock::now();
  std::vector<std::size_t> output_index(chroms.size());
  for (std::size_t k = 0; k < order.size(); ++k) output_index[order[k]] = k;
  struct IdRecord {
    std::uint64_t hash;
    std::int32_t oi, row;
  };
  std::vector<IdRecord> mine;
  std::vector<std::vector<Batch>> planned(chroms.size());
  Index planned_max = 0;  // variants of the largest chromosome this rank planned
  agreed(comm, [&] {
    for (std::size_t ci = 0; ci < chroms.size(); ++ci) {
      Chrom& c = chroms[ci];
      if (c.planner != rank) continue;
      load_inputs(c, o);
      plan_chrom(c, o, bed, arena, unmapped);
      planned[ci] = make_batches(c, static_cast<int>(ci), o);
      for (const Index q : c.r_q) {
        const Index row = c.q_rows[static_cast<std::size_t>(q)];
        mine.push_back({fnv1a(c.bim.id[static_cast<std::size_t>(row)]),
                        static_cast<std::int32_t>(output_index[ci]), static_cast<std::int32_t>(row)});
      }
      if (!c.pairs.empty()) {
        append_pair_csv(c.pair_text, c.pairs, bed, o.strategy_kind, c.bim, c.q_rows);
      }
      planned_max = std::max(planned_max, c.bim_size);
      release(c);
    }
  });
  double t_setup = seconds_since(t_setup_start);

  // ---- 3. Exchange the plan; duplicate regression-SNP ids across all chromosomes (D4, D15). ----
  const auto t_plan_start = Clock::now();
  agreed(comm, [&] {
    Index total_ids = 0;
    const Index my_ids = static_cast<Index>(mine.size());
    MPI_Allreduce(&my_ids, &total_ids, 1, MPI_INT64_T, MPI_SUM, comm);
    if (total_ids * static_cast<Index>(sizeof(IdRecord)) > std::numeric_limits<int>::max()) {
      throw InputError(o.hm3_snp_dir, "", "more than 134 million regression SNPs in one run",
                       "run the chromosomes in separate runs");
    }
    const int mine_bytes = static_cast<int>(mine.size() * sizeof(IdRecord));
    std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
    MPI_Gather(&mine_bytes, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
    std::vector<IdRecord> all;
    if (root) {
      for (int r = 1; r < size; ++r) displs[static_cast<std::size_t>(r)] = displs[static_cast<std::size_t>(r - 1)] + counts[static_cast<std::size_t>(r - 1)];
      all.resize(static_cast<std::size_t>(total_ids));
    }
    MPI_Gatherv(mine.data(), mine_bytes, MPI_BYTE, all.data(), counts.data(), displs.data(),
                MPI_BYTE, 0, comm);
    mine = std::vector<IdRecord>();
    // Candidates: (first occurrence, later occurrence) of one hash, the earliest later ones first;
    // each is confirmed on the ids themselves.
    std::vector<std::int32_t> cand;
    if (root) {
      const auto key = [](const IdRecord& r) { return std::tuple(r.hash, r.oi, r.row); };
      std::sort(all.begin(), all.end(), [&](const IdRecord& a, const IdRecord& b) { return key(a) < key(b); });
      std::vector<std::array<std::int32_t, 4>> found;
      for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i + 1;
        while (j < all.size() && all[j].hash == all[i].hash) {
          found.push_back({all[j].oi, all[j].row, all[i].oi, all[i].row});
          ++j;
        }
        i = j;
      }
      std::sort(found.begin(), found.end());
      if (found.size() > 64) found.resize(64);
      for (const auto& f : found) cand.insert(cand.end(), f.begin(), f.end());
    }
    all = std::vector<IdRecord>();
    int n_cand = static_cast<int>(cand.size());
    MPI_Bcast(&n_cand, 1, MPI_INT, 0, comm);
    cand.resize(static_cast<std::size_t>(n_cand));
    MPI_Bcast(cand.data(), n_cand, MPI_INT32_T, 0, comm);
    const auto id_of = [&](std::int32_t oi, std::int32_t row) {
      const Chrom& c = chroms[order[static_cast<std::size_t>(oi)]];
      // The planner has freed its tables: it reads the one .bim row again.
      std::string id = c.planner == rank ? read_bim_rows(c.prefix + ".bim", row, row + 1).id.at(0)
                                         : std::string();
      int len = static_cast<int>(id.size());
      MPI_Bcast(&len, 1, MPI_INT, c.planner, comm);
      id.resize(static_cast<std::size_t>(len));
      MPI_Bcast(id.data(), len, MPI_CHAR, c.planner, comm);
      return id;
    };
    for (int k = 0; k < n_cand; k += 4) {
      const std::int32_t* f = cand.data() + k;
      const std::string later = id_of(f[0], f[1]), first = id_of(f[2], f[3]);
      if (later != first) continue;  // a hash collision, not a duplicate
      const Chrom& c = chroms[order[static_cast<std::size_t>(f[0])]];
      const Chrom& c0 = chroms[order[static_cast<std::size_t>(f[2])]];
      throw InputError(c.prefix + ".bim", fmt::format("line {}", f[1] + 1),
                       fmt::format("regression SNP id '{}' occurs twice (also chromosome {}, "
                                   ".bim line {})",
                                   later, c0.number, f[3] + 1),
                       "give every variant a unique id (plink --set-all-var-ids) or remove the "
                       "duplicate");
    }
  });

  // The plan of every chromosome: counts for the log and the output, and its batches.
  std::vector<Batch> batches;
  std::vector<std::size_t> first_batch(chroms.size(), 0);
  {
    Packer pack;
    for (std::size_t ci = 0; ci < chroms.size(); ++ci) {
      const Chrom& c = chroms[ci];
      if (c.planner != rank) continue;
      pack.put<std::uint64_t>(ci);
      pack.put(c.bim_size);
      pack.put(c.q_count);
      pack.put(c.r_count);
      pack.put(c.hm3_size);
      pack.put(c.n_mapped);
      pack.put(c.n_genes);
      pack.put(c.maf_removed);
      pack.put(c.constant_removed);
      pack.put<std::uint8_t>(c.missing);
      pack.put<std::uint8_t>(c.fallback);
      pack.put<std::uint8_t>(c.any_pairs);
      pack.put<std::uint8_t>(c.fallback_r);
      pack.put(c.hm3_path);
      pack.put(c.r_chrom_names);
      pack.put(c.annot_names);
      pack.put(c.sparse_names);
      pack.put<std::uint64_t>(planned[ci].size());
      for (const Batch& b : planned[ci]) pack.put(b);
    }
    std::vector<int> displs;
    const std::string all = allgather_bytes(comm, pack.buf, displs);
    std::vector<std::vector<Batch>> of(chroms.size());
    Unpacker u{all.data()};
    const char* end = all.data() + all.size();
    while (u.p < end) {
      const auto ci = static_cast<std::size_t>(u.get<std::uint64_t>());
      Chrom& c = chroms[ci];
      c.bim_size = u.get<Index>();
      c.q_count = u.get<Index>();
      c.r_count = u.get<Index>();
      c.hm3_size = u.get<Index>();
      c.n_mapped = u.get<Index>();
      c.n_genes = u.get<Index>();
      c.maf_removed = u.get<std::int64_t>();
      c.constant_removed = u.get<std::int64_t>();
      c.missing = u.get<std::uint8_t>() != 0;
      c.fallback = u.get<std::uint8_t>() != 0;
      c.any_pairs = u.get<std::uint8_t>() != 0;
      c.fallback_r = u.get<std::uint8_t>() != 0;
      c.hm3_path = u.str();
      c.r_chrom_names = u.strs();
      c.annot_names = u.strs();
      c.sparse_names = u.strs();
      of[ci].resize(static_cast<std::size_t>(u.get<std::uint64_t>()));
      for (auto& b : of[ci]) b = u.get<Batch>();
    }
    for (const std::size_t ci : order) {
      first_batch[ci] = batches.size();
      batches.insert(batches.end(), of[ci].begin(), of[ci].end());
    }
  }
  planned.clear();

  Index total_rows = 0;
  for (const std::size_t ci : order) {
    chroms[ci].row0 = total_rows;
    total_rows += chroms[ci].r_count;
  }
  if (total_rows == 0) {
    agreed(comm, [&] {
      throw InputError(o.hm3_snp_dir, "",
                       "no regression SNP: no listed id is a QC-passing variant of the .bim of "
                       "the requested chromosomes",
                       "use regression-SNP lists with the .bim's variant ids, or a lower --maf-min");
    });
  }

  // ---- 4. Work split: one contiguous range of batches per rank, balanced by cost. ----
  std::vector<int> batch_owner;
  {
    std::vector<double> costs;
    for (const auto& b : batches) costs.push_back(b.cost);
    batch_owner = split_by_cost(costs, size);
  }
  std::size_t my_lo = batches.size(), my_hi = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (batch_owner[i] == rank) {
      my_lo = std::min(my_lo, i);
      my_hi = std::max(my_hi, i + 1);
    }
  }
  if (my_lo > my_hi) my_lo = my_hi = 0;
  // Writer of a chromosome's w_ld file: the rank computing its first batch.
  std::vector<int> holder(chroms.size(), 0);
  for (std::size_t ci = 0; ci < chroms.size(); ++ci) {
    if (chroms[ci].r_count > 0) holder[ci] = batch_owner[first_batch[ci]];
  }
  // This rank's slices (docs/ldscore.md §8): per chromosome it computes on, the Q columns covering
  // the spans of its batches there (its rows and their LD windows), read by itself. A slice is
  // built when the rank reaches the chromosome's batches and freed after them, so a rank holds one
  // at a time; in dict mode all are built first, for the one read of the table.
  struct SliceSpec {
    std::size_t k_begin = 0, k_end = 0;  // the rank's batches on the chromosome
    Index q_lo = 0, q_hi = 0, row_lo = 0, row_hi = 0, r_lo = 0;
  };
  std::vector<SliceSpec> specs;
  for (std::size_t k = my_lo; k < my_hi;) {
    const int ci = batches[k].chrom;
    const Batch* lo_b = &batches[k];
    SliceSpec sp;
    sp.k_begin = k;
    sp.q_hi = batches[k].span.hi;
    sp.row_hi = batches[k].row_hi;
    for (k = sp.k_begin; k < my_hi && batches[k].chrom == ci; ++k) {
      if (batches[k].span.lo < lo_b->span.lo) lo_b = &batches[k];
      if (batches[k].span.hi > sp.q_hi) {
        sp.q_hi = batches[k].span.hi;
        sp.row_hi = batches[k].row_hi;
      }
    }
    sp.k_end = k;
    sp.q_lo = lo_b->span.lo;
    sp.row_lo = lo_b->row_lo;
    sp.r_lo = lo_b->span_r;
    specs.push_back(sp);
  }
  // .bim rows and QC-passing SNPs of the slices (totals), and the most .bim rows held at once.
  Index held_rows = 0, held_q = 0, held_now = 0, held_peak = 0;
  const auto make_slice = [&](const SliceSpec& sp) {
    Chrom& c = chroms[static_cast<std::size_t>(batches[sp.k_begin].chrom)];
    build_slice(c, o, sp.q_lo, sp.q_hi, sp.row_lo, sp.row_hi, sp.r_lo, bed, arena);
    for (std::size_t j = sp.k_begin; j < sp.k_end; ++j) {
      const Batch& b = batches[j];
      const Index r_end = c.s.r0 + static_cast<Index>(c.s.r_q.size());
      const bool reduced_out = o.calculate_w_ld && b.reduced.hi > b.reduced.lo &&
                               (b.reduced.lo < c.s.r0 || b.reduced.hi > r_end);
      if (b.first < c.s.r0 || b.first + b.count > r_end || reduced_out) {
        throw IoError(fmt::format("{}: the regression SNPs differ from what the planner read; "
                                  "were the files changed during the run?",
                                  c.prefix));
      }
    }
    held_rows += c.s.row_hi - c.s.row_lo;
    held_q += static_cast<Index>(c.s.q_rows.size());
    held_now += c.s.row_hi - c.s.row_lo;
    held_peak = std::max(held_peak, held_now);
  };
  const auto drop_slice = [&](Chrom& c) {
    held_now -= c.s.row_hi - c.s.row_lo;
    c.s = Slice();
    c.sliced = false;
  };
  const auto t_slices_start = Clock::now();
  const bool dict_mode = !annotation && o.mapping == MappingType::kDict;
  if (dict_mode) {
    agreed(comm, [&] {
      for (const SliceSpec& sp : specs) make_slice(sp);
    });
  }
  // Dict mode: every rank reads the SNP -> feature table once, keeping only the rows of its
  // slices' ids and, by hash, of the chromosomes it planned (for the logged counts); docs/ldscore.md
  // §8. The slices' rows are then exact; a 64-bit hash collision could only move a logged count.
  if (!annotation && o.mapping == MappingType::kDict) {
    std::vector<std::uint64_t> planned_hashes;
    std::unordered_set<std::string_view> slice_ids;
    for (const auto& c : chroms) {
      planned_hashes.insert(planned_hashes.end(), c.q_id_hash.begin(), c.q_id_hash.end());
      for (const auto& id : c.s.q_id) slice_ids.insert(id);
    }
    std::sort(planned_hashes.begin(), planned_hashes.end());
    planned_hashes.erase(std::unique(planned_hashes.begin(), planned_hashes.end()),
                         planned_hashes.end());
    agreed(comm, [&] {
      dict = read_dict_mapping(o.mapping_file, [&](std::string_view id) {
        return slice_ids.count(id) > 0 ||
               std::binary_search(planned_hashes.begin(), planned_hashes.end(), fnv1a(id));
      });
    });
    slice_ids = {};
    planned_hashes = std::vector<std::uint64_t>();
    const auto dict_unmapped = static_cast<std::int32_t>(dict.features.size());
    for (auto& c : chroms) {
      if (!c.sliced) continue;
      MappingRows m;
      for (const auto& id : c.s.q_id) {
        const auto it = dict.feature_of.find(id);
        m.col.push_back(it == dict.feature_of.end() ? dict_unmapped : it->second);
        m.value.push_back(1.0);
        m.ptr.push_back(static_cast<std::int64_t>(m.col.size()));
      }
      c.s.m = std::move(m);
      c.s.q_id = std::vector<std::string>();
    }
    std::unordered_map<std::uint64_t, std::int32_t> feature_of_hash;
    for (const auto& [id, f] : dict.feature_of) feature_of_hash[fnv1a(id)] = f;
    std::vector<Index> mapped(2 * chroms.size(), 0);
    for (std::size_t ci = 0; ci < chroms.size(); ++ci) {
      Chrom& c = chroms[ci];
      if (c.planner != rank) continue;
      std::set<std::int32_t> genes;
      for (const std::uint64_t h : c.q_id_hash) {
        const auto it = feature_of_hash.find(h);
        if (it == feature_of_hash.end()) continue;
        ++mapped[2 * ci];
        genes.insert(it->second);
      }
      mapped[2 * ci + 1] = static_cast<Index>(genes.size());
      c.q_id_hash = std::vector<std::uint64_t>();
    }
    MPI_Allreduce(MPI_IN_PLACE, mapped.data(), static_cast<int>(mapped.size()), MPI_INT64_T,
                  MPI_SUM, comm);
    for (std::size_t ci = 0; ci < chroms.size(); ++ci) {
      chroms[ci].n_mapped = mapped[2 * ci];
      chroms[ci].n_genes = mapped[2 * ci + 1];
    }
  }
  std::vector<std::string> features;
  if (annotation) {
    agreed(comm, [&] {
      features = chroms.front().annot_names;
      for (const auto& c : chroms) {
        if (c.annot_names != features) {
          throw InputError(annot_path(o.annot_file, c.number), "line 1",
                           fmt::format("annotation names differ from those of chromosome {}",
                                       chroms.front().number),
                           "every chromosome's annotation file needs the same columns in the "
                           "same order");
        }
      }
    });
  } else {
    features = o.mapping == MappingType::kBed ? bed.features : dict.features;
    features.push_back("Unmapped");
    dict = DictMapping();
  }
  const Index n_features = static_cast<Index>(features.size());
  if (root) {
    for (const auto& c : chroms) {
      Index n_batches = 0, block_sum = 0;
      for (const auto& b : batches) {
        if (chroms[static_cast<std::size_t>(b.chrom)].number != c.number) continue;
        ++n_batches;
        block_sum += b.main.hi - b.main.lo;
      }
      if (!c.sparse_names.empty()) {
        GSMAP_LOG_WARN("chromosome {}: annotation(s) with < 0.01 % non-zero values: {}",
                       c.number, fmt::join(c.sparse_names, ", "));
      }
      GSMAP_LOG_INFO(
          "chromosome {}: {} variants x {} individuals; {} pass QC ({} below --maf-min {}, {} "
          "without calls or constant){}",
          c.number, group_digits(c.bim_size), group_digits(c.n), group_digits(c.q_count),
          group_digits(c.maf_removed), o.maf_min, group_digits(c.constant_removed),
          c.missing ? "; missing calls are mean-imputed" : "");
      GSMAP_LOG_INFO(
          "chromosome {}: {} of {} listed regression SNPs kept ({}); {} QC-passing SNPs mapped to "
          "{} features, {} unmapped; {} batches, mean LD block {:.1f} SNPs",
          c.number, group_digits(c.r_count), group_digits(c.hm3_size), c.hm3_path,
          group_digits(annotation ? c.q_count : c.n_mapped), group_digits(c.n_genes),
          group_digits(annotation ? 0 : c.q_count - c.n_mapped), group_digits(n_batches),
          n_batches ? static_cast<double>(block_sum) / static_cast<double>(n_batches) : 0.0);
      if (c.fallback) {
        GSMAP_LOG_WARN("chromosome {}: every QC-passing SNP has cM 0; the LD window is +-1 Mb of "
                       "bp instead of --ld-wind {} cM",
                       c.number, o.ld_wind);
      }
    }
  }

  const double t_slices = seconds_since(t_slices_start);
  t_setup += t_slices;
  const double t_plan = seconds_since(t_plan_start) - t_slices;
  // ---- 5. Compute: chunks of consecutive batches sharing one decoded genotype window. ----
  const auto t_compute_start = Clock::now();
  std::vector<BatchResult> results(my_hi - my_lo);
  std::vector<std::string> w_ld_text(chroms.size());  // this rank's rows of each w_ld file
  io::DataFrame obs;
  obs.index_name = "SNP";
  // CHR: categorical of the .bim text, categories sorted (pandas' order), same on every rank.
  std::vector<std::string> categories;
  for (const auto& c : chroms) {
    categories.insert(categories.end(), c.r_chrom_names.begin(), c.r_chrom_names.end());
  }
  std::sort(categories.begin(), categories.end());
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  io::Categorical chr_column;
  chr_column.categories = categories;
  io::NumericColumn bp_column;
  bp_column.is_integer = true;
  {
    Index rows = 0;
    for (std::size_t k = my_lo; k < my_hi; ++k) rows += batches[k].count;
    obs.index.reserve(static_cast<std::size_t>(rows));
    chr_column.codes.reserve(static_cast<std::size_t>(rows));
    bp_column.values.reserve(static_cast<std::size_t>(rows));
  }
  double t_lazy = 0;  // building slices inside the compute phase (counted as set-up)
  agreed(comm, [&] {
    for (const SliceSpec& sp : specs) {
      Chrom& c = chroms[static_cast<std::size_t>(batches[sp.k_begin].chrom)];
      if (!c.sliced) {
        const auto t0 = Clock::now();
        make_slice(sp);
        t_lazy += seconds_since(t0);
      }
      std::size_t i = sp.k_begin;
      while (i < sp.k_end) {
        const Index n_pad = padded(c.n);
        const Index limit = std::max<Index>(
            1024,
            (Index{64} << 20) / (n_pad * static_cast<Index>(sizeof(float)) * (c.missing ? 2 : 1)));
        std::size_t j = i;
        Index lo = batches[i].span.lo, hi = batches[i].span.hi;
        while (j + 1 < sp.k_end && std::max(hi, batches[j + 1].span.hi) - lo <= limit) {
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
      // The chromosome's obs and w_ld rows, then its slice is freed.
      for (std::size_t k = sp.k_begin; k < sp.k_end; ++k) {
        const Batch& b = batches[k];
        const BatchResult& r = results[k - my_lo];
        for (Index t = 0; t < b.count; ++t) {
          const auto at = static_cast<std::size_t>(c.s.r(b.first + t));
          obs.index.push_back(c.s.r_id[at]);
          chr_column.codes.push_back(static_cast<std::int32_t>(
              std::lower_bound(categories.begin(), categories.end(), c.s.r_chrom[at]) -
              categories.begin()));
          bp_column.values.push_back(c.s.r_bp[at]);
          if (o.calculate_w_ld) {
            std::string& text = w_ld_text[static_cast<std::size_t>(b.chrom)];
            text += c.s.r_chrom[at];
            text += '\t';
            text += c.s.r_id[at];
            fmt::format_to(std::back_inserter(text), "\t{}\t", c.s.r_bp[at]);
            io::append_double(text, c.s.r_cm[at]);
            text += '\t';
            io::append_float(text, r.l2[static_cast<std::size_t>(t)]);
            text += '\n';
          }
        }
      }
      drop_slice(c);
    }
  });
  t_setup += t_lazy;
  std::vector<double> setups(static_cast<std::size_t>(size));
  MPI_Gather(&t_setup, 1, MPI_DOUBLE, setups.data(), 1, MPI_DOUBLE, 0, comm);
  double t_setup_max = 0;
  for (const double t : setups) t_setup_max = std::max(t_setup_max, t);

  const double t_compute = seconds_since(t_compute_start) - t_lazy;
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
  {
    // Exact sizes up front: growing by doubling would hold up to twice the rank's entries.
    std::size_t entries = 0, rows = 0;
    for (const auto& r : results) {
      entries += r.col.size();
      rows += r.ptr.empty() ? 0 : r.ptr.size() - 1;
    }
    local.indices.reserve(entries);
    local.data.reserve(entries);
    local.indptr.reserve(rows + 1);
  }
  for (std::size_t k = my_lo; k < my_hi; ++k) {
    const Batch& b = batches[k];
    BatchResult& r = results[k - my_lo];
    const std::int64_t base = static_cast<std::int64_t>(local.indices.size());
    local.indices.insert(local.indices.end(), r.col.begin(), r.col.end());
    local.data.insert(local.data.end(), r.value.begin(), r.value.end());
    for (std::size_t t = 1; t < r.ptr.size(); ++t) local.indptr.push_back(base + r.ptr[t]);
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

  // ---- 6. Outputs: the pair table (rank 0, streamed per chromosome from the holders), the w_ld
  // files (each by its chromosome's holder), then all ranks the matrix.
  bool want_csv = false;
  if (!annotation && o.mapping == MappingType::kBed) {
    for (const auto& c : chroms) want_csv |= c.any_pairs;
  }
  const std::string csv_path = o.output_dir + "/" + o.output_filename + ".csv";
  std::unique_ptr<io::AtomicOutput> csv_out;
  std::FILE* csv_file = nullptr;
  agreed(comm, [&] {
    if (!root) return;
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) {
      throw IoError(fmt::format("{}: cannot create the output directory: {}", o.output_dir,
                                ec.message()));
    }
    if (o.calculate_w_ld) {
      fs::create_directories(o.w_ld_dir, ec);
      if (ec) {
        throw IoError(fmt::format("{}: cannot create the w_ld directory: {}", o.w_ld_dir,
                                  ec.message()));
      }
    }
    if (want_csv) {
      csv_out = std::make_unique<io::AtomicOutput>(csv_path, MPI_COMM_SELF);
      csv_file = std::fopen(csv_out->temp_path().c_str(), "wb");
      if (!csv_file) {
        throw IoError(fmt::format("{}: cannot write: {}", csv_path, io::os_io_reason(errno)));
      }
    }
  });
  if (want_csv) {
    bool written = true;
    const auto put = [&](const std::string& text) {
      written = written && std::fwrite(text.data(), 1, text.size(), csv_file) == text.size();
    };
    if (root) put(pair_csv_header(bed.has_score, o.strategy_kind));
    for (std::size_t ci = 0; ci < chroms.size(); ++ci) {  // processing order (D22)
      const Chrom& c = chroms[ci];
      if (!c.any_pairs) continue;
      // The planner formatted the rows when it planned the chromosome.
      std::string text;
      if (c.planner == rank) text = std::move(chroms[ci].pair_text);
      if (c.planner != 0 && rank == c.planner) {
        MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, 7, comm);
      } else if (c.planner != 0 && root) {
        MPI_Status status;
        MPI_Probe(c.planner, 7, comm, &status);
        int len = 0;
        MPI_Get_count(&status, MPI_CHAR, &len);
        text.resize(static_cast<std::size_t>(len));
        MPI_Recv(text.data(), len, MPI_CHAR, c.planner, 7, comm, MPI_STATUS_IGNORE);
      }
      if (root) put(text);
    }
    agreed(comm, [&] {
      if (!root) return;
      written = std::fclose(csv_file) == 0 && written;
      csv_file = nullptr;
      if (!written) {
        throw IoError(fmt::format("{}: cannot write the pair table{}", csv_path,
                                  io::storage_problem(o.output_dir).empty()
                                      ? std::string()
                                      : ": " + io::storage_problem(o.output_dir)));
      }
      csv_out->commit();
    });
  }
  // The w_ld files: each chromosome's rows gathered, in rank order (= .bim order), to the rank
  // computing its first batch, which writes the file. Every rank takes part in every gather; a
  // write error is agreed after the last.
  std::optional<Error> w_ld_error;
  for (std::size_t ci = 0; o.calculate_w_ld && ci < chroms.size(); ++ci) {
    const Chrom& c = chroms[ci];
    if (c.r_count == 0) continue;
    std::string& piece = w_ld_text[ci];
    const int piece_len = static_cast<int>(piece.size());
    std::vector<int> lens(static_cast<std::size_t>(size));
    MPI_Gather(&piece_len, 1, MPI_INT, lens.data(), 1, MPI_INT, holder[ci], comm);
    std::string text;
    if (rank == holder[ci]) {
      text = "CHR\tSNP\tBP\tCM\tL2\n";
      for (int r = 0; r < size; ++r) {
        const int len = lens[static_cast<std::size_t>(r)];
        if (r == rank) {
          text += piece;
        } else if (len > 0) {
          const std::size_t at = text.size();
          text.resize(at + static_cast<std::size_t>(len));
          MPI_Recv(text.data() + at, len, MPI_CHAR, r, 8, comm, MPI_STATUS_IGNORE);
        }
      }
    } else if (piece_len > 0) {
      MPI_Send(piece.data(), piece_len, MPI_CHAR, holder[ci], 8, comm);
    }
    piece = std::string();
    if (rank != holder[ci] || w_ld_error) continue;
    try {
      io::write_file_atomic(fmt::format("{}/weights.{}.l2.ldscore.gz", o.w_ld_dir, c.number),
                            io::gzip_compress(text));
    } catch (const Error& e) {
      w_ld_error = e;
    }
  }
  agreed(comm, [&] {
    if (w_ld_error) throw *w_ld_error;
  });

  results = std::vector<BatchResult>();
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
  // Peak resident memory of every rank (its genotype window, slices and output share, docs/ldscore.md §8).
  const double my_peak = static_cast<double>(core::peak_rss_bytes()) / (1 << 20);
  std::vector<double> peaks(static_cast<std::size_t>(size));
  MPI_Gather(&my_peak, 1, MPI_DOUBLE, peaks.data(), 1, MPI_DOUBLE, 0, comm);
  // The variants each rank held for its LD computation (docs/ldscore.md §8): .bim rows of its
  // slices, QC-passing SNPs among them, its output rows, and the largest chromosome it planned.
  const std::array<Index, 5> mine_held = {held_peak, held_rows, held_q, my_rows, planned_max};
  std::vector<Index> held(static_cast<std::size_t>(5 * size));
  MPI_Gather(mine_held.data(), 5, MPI_INT64_T, held.data(), 5, MPI_INT64_T, 0, comm);
  if (root) {
    std::string peak_text;
    for (int r = 0; r < size; ++r) {
      peak_text += fmt::format("{}{:.0f}", r ? ", " : "", peaks[static_cast<std::size_t>(r)]);
    }
    GSMAP_LOG_INFO("peak memory per rank (MiB): {}", peak_text);
    const auto held_list = [&](int field) {
      std::string text;
      for (int r = 0; r < size; ++r) {
        text += fmt::format("{}{}", r ? ", " : "", held[static_cast<std::size_t>(5 * r + field)]);
      }
      return text;
    };
    Index all_variants = 0;
    for (const auto& c : chroms) all_variants += c.bim_size;
    GSMAP_LOG_INFO("variants held per rank for the LD computation (.bim rows of its batches and "
                   "their LD windows, at once, of {} in the run): {}; in all: {}; of which "
                   "QC-passing: {}; output rows: {}; largest chromosome planned (variants, one at "
                   "a time): {}",
                   all_variants, held_list(0), held_list(1), held_list(2), held_list(3),
                   held_list(4));
    GSMAP_LOG_INFO("{}: {} SNPs x {} features ({}), {} stored entries ({} negative); {} batches "
                   "on {} rank(s) x {} thread(s), {} kernel",
                   h5ad, group_digits(total_rows), group_digits(n_features),
                   annotation ? "annotations, dense" : "features + Unmapped",
                   group_digits(total_nnz), group_digits(all_negative),
                   group_digits(static_cast<Index>(batches.size())), size, workers,
                   kernel_name(o.kernel_kind));
    std::string setup_text;
    for (int r = 0; r < size; ++r) {
      setup_text += fmt::format("{}{:.2f}", r ? ", " : "", setups[static_cast<std::size_t>(r)]);
    }
    GSMAP_LOG_INFO("set-up per rank (s; .bim, lists, genotype QC pass and plan of its "
                   "chromosomes, then its slices): {}",
                   setup_text);
    GSMAP_LOG_INFO("time: inputs {:.2f} s, set-up {:.2f} s (slowest rank), plan exchange {:.2f} s, "
                   "LD {:.2f} s (slowest rank), gather and write {:.2f} s; total {:.2f} s",
                   t_inputs, t_setup_max, t_plan, t_compute_max, seconds_since(t_write_start),
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
