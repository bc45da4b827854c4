#include "gsmap/pipeline/provenance.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/version.hpp"

namespace gsmap::pipeline::provenance {
namespace fs = std::filesystem;

// ---- SHA-256 (FIPS 180-4 §6.2) ------------------------------------------------------------------
namespace {
constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
         0x5be0cd19},
      buf_{} {}

void Sha256::block(const unsigned char* p) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
           (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
  }
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
                h = h_[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + s1 + ch + kK[i] + w[i];
    const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  bytes_ += n;
  if (used_ > 0) {
    const std::size_t take = std::min(n, 64 - used_);
    std::memcpy(buf_ + used_, p, take);
    used_ += take;
    p += take;
    n -= take;
    if (used_ < 64) return;
    block(buf_);
    used_ = 0;
  }
  for (; n >= 64; n -= 64, p += 64) block(p);
  std::memcpy(buf_, p, n);
  used_ = n;
}

std::string Sha256::hex() {
  const std::uint64_t bits = bytes_ * 8;
  const unsigned char pad = 0x80;
  update(&pad, 1);
  const unsigned char zero = 0;
  while (used_ != 56) update(&zero, 1);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  update(len, 8);
  std::string out;
  for (auto v : h_) out += fmt::format("{:08x}", v);
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

// ---- inputs ---------------------------------------------------------------------------------------
namespace {
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

FilePtr open_input(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    throw InputError(path, "", fmt::format("cannot read ({})", std::strerror(errno)),
                     "check the path and its permissions");
  }
  return f;
}
}  // namespace

std::string file_content(const std::string& path) {
  auto f = open_input(path);
  Sha256 h;
  std::vector<char> buf(1 << 20);
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) h.update(buf.data(), n);
  if (std::ferror(f.get())) {
    throw InputError(path, "", fmt::format("read failed ({})", std::strerror(errno)));
  }
  return "sha256:" + h.hex();
}

std::string file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw InputError(path, "", fmt::format("cannot stat ({})", std::strerror(errno)),
                     "check the path");
  }
  const std::int64_t size = st.st_size;
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto f = open_input(path);
  constexpr std::int64_t kMiB = 1 << 20;
  Sha256 h;
  std::vector<char> buf(kMiB);
  auto take = [&](std::int64_t offset, std::int64_t n) {
    if (n <= 0) return;
    if (std::fseek(f.get(), static_cast<long>(offset), SEEK_SET) != 0) {
      throw InputError(path, "", fmt::format("seek failed ({})", std::strerror(errno)));
    }
    const std::size_t got = std::fread(buf.data(), 1, static_cast<std::size_t>(n), f.get());
    h.update(buf.data(), got);
  };
  take(0, std::min(size, kMiB));
  const std::int64_t tail = std::max(std::min(size, kMiB), size - kMiB);
  take(tail, size - tail);
  return fmt::format("size={} mtime_ns={} head_tail_sha256={}", size, mtime_ns, h.hex());
}

std::string directory_content(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) names.push_back(it->path().filename().string());
  }
  if (ec) throw InputError(dir, "", fmt::format("cannot list ({})", ec.message()));
  std::sort(names.begin(), names.end());
  Sha256 h;
  for (const auto& n : names) {
    h.update(n);
    h.update("\n");
    h.update(file_content(dir + "/" + n));
    h.update("\n");
  }
  return "sha256:" + h.hex();
}

// ---- records --------------------------------------------------------------------------------------
std::string Record::fingerprint() const {
  Sha256 h;
  for (const auto& [k, v] : items) {
    h.update(k);
    h.update("=");
    h.update(v);
    h.update("\n");
  }
  return h.hex();
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
std::string items_yaml(const std::vector<std::pair<std::string, std::string>>& items,
                       const std::string& prefix_filter) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  for (const auto& [k, v] : items) {
    if (prefix_filter.empty() || k.rfind(prefix_filter, 0) == 0) {
      e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    }
  }
  e << YAML::EndMap;
  return e.c_str();
}
}  // namespace

std::string to_yaml(const Record& r, const std::string& output, const std::string& output_sha256) {
  YAML::Emitter e;
  e << YAML::Comment("gsmap-mpi provenance (docs/formats.md \"Provenance\")");
  e << YAML::BeginMap;
  e << YAML::Key << "output" << YAML::Value << output;
  e << YAML::Key << "step" << YAML::Value << r.step;
  e << YAML::Key << "subject" << YAML::Value << r.subject;
  e << YAML::Key << "fingerprint" << YAML::Value << r.fingerprint();
  if (!output_sha256.empty()) e << YAML::Key << "output_sha256" << YAML::Value << output_sha256;
  e << YAML::Key << "version" << YAML::Value << kVersion;
  e << YAML::Key << "git" << YAML::Value << kGitHash;
  e << YAML::Key << "date" << YAML::Value << utc_now();
  e << YAML::Key << "ranks" << YAML::Value << r.ranks;
  e << YAML::Key << "backend" << YAML::Value << r.backend;
  e << YAML::Key << "command" << YAML::Value << YAML::DoubleQuoted << r.command;
  e << YAML::Key << "fingerprint_items" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : r.items) e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  e << YAML::EndMap;
  if (!r.summary.empty()) {
    e << YAML::Key << "summary" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : r.summary) e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

bool parse_yaml(const std::string& text, Recorded& out, std::string* output_sha256) {
  try {
    const YAML::Node n = YAML::Load(text);
    if (!n.IsMap() || !n["fingerprint"] || !n["fingerprint_items"]) return false;
    out.fingerprint = n["fingerprint"].as<std::string>();
    out.items.clear();
    for (const auto& kv : n["fingerprint_items"]) {
      out.items.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
    }
    out.summary.clear();
    if (n["summary"] && n["summary"].IsMap()) {
      for (const auto& kv : n["summary"]) {
        out.summary.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
    }
    if (output_sha256 && n["output_sha256"]) *output_sha256 = n["output_sha256"].as<std::string>();
    out.has_record = true;
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

// ---- h5ad -----------------------------------------------------------------------------------------
namespace {
void put_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  io::Hid type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  io::Hid space(H5Screate(H5S_SCALAR));
  io::Hid attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  const char* p = value.c_str();
  if (!attr.valid() || H5Awrite(attr, type, &p) < 0) {
    throw IoError(fmt::format("cannot write the attribute {} (disk full or file not writable?)", name));
  }
}
}  // namespace

void write_h5ad_attributes(const std::string& path, const Record& r) {
  io::Hid file = io::open_file(path, io::Access::kReadWrite);
  io::H5Lock lock;
  put_string_attr(file, "gsmap_fingerprint", r.fingerprint());
  put_string_attr(file, "gsmap_provenance", to_yaml(r, fs::path(path).filename().string(), ""));
  put_string_attr(file, "gsmap_step", r.step);
  put_string_attr(file, "gsmap_version", kVersion);
  put_string_attr(file, "gsmap_git", kGitHash);
  put_string_attr(file, "gsmap_date", utc_now());
  {
    if (H5Aexists(file, "gsmap_ranks") > 0) H5Adelete(file, "gsmap_ranks");
    io::Hid space(H5Screate(H5S_SCALAR));
    io::Hid attr(H5Acreate2(file, "gsmap_ranks", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT));
    const std::int64_t ranks = r.ranks;
    if (!attr.valid() || H5Awrite(attr, H5T_NATIVE_INT64, &ranks) < 0) {
      throw IoError(fmt::format("{}: cannot write the attribute gsmap_ranks", path));
    }
  }
  put_string_attr(file, "gsmap_backend", r.backend);
  put_string_attr(file, "gsmap_command", r.command);
  put_string_attr(file, "gsmap_options", items_yaml(r.items, "option."));
  put_string_attr(file, "gsmap_inputs", items_yaml(r.items, "input."));
  put_string_attr(file, "gsmap_upstream", items_yaml(r.items, "upstream."));
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
    throw IoError(fmt::format("{}: flush failed after writing provenance", path));
  }
}

Recorded read_h5ad(const std::string& path) {
  Recorded r;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    r.problem = "no output yet";
    return r;
  }
  if (!io::is_complete(path)) {
    r.problem = "output incomplete";
    return r;
  }
  r.present = true;
  try {
    io::Hid file = io::open_file(path, io::Access::kRead);
    const auto text = io::read_attr_string(file, "gsmap_provenance");
    if (!text || !parse_yaml(*text, r)) {
      r.problem = "no provenance recorded";
      return r;
    }
    const auto fp = io::read_attr_string(file, "gsmap_fingerprint");
    if (!fp || *fp != r.fingerprint) {
      r.has_record = false;
      r.problem = "provenance attributes inconsistent";
    }
  } catch (const std::exception&) {
    r.has_record = false;
    r.problem = "provenance unreadable";
  }
  return r;
}

// ---- sidecars -------------------------------------------------------------------------------------
std::string sidecar_path(const std::string& output) { return output + ".provenance.yaml"; }

void write_sidecar(const std::string& path, const Record& r, const std::string& sidecar_for) {
  const std::string target = sidecar_for.empty() ? path : sidecar_for;
  io::write_file_atomic(sidecar_path(target),
                        to_yaml(r, fs::path(target).filename().string(), file_content(path)));
}

Recorded read_sidecar(const std::string& path) {
  Recorded r;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    r.problem = "no output yet";
    return r;
  }
  r.present = true;
  const auto side = sidecar_path(path);
  std::ifstream in(side, std::ios::binary);
  if (!in) {
    r.problem = "no provenance recorded";
    return r;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string recorded_sha;
  if (!parse_yaml(text, r, &recorded_sha)) {
    r.problem = "provenance unreadable";
    return r;
  }
  std::string actual;
  try {
    actual = file_content(path);
  } catch (const Error&) {
    actual.clear();
  }
  if (recorded_sha.empty() || actual != recorded_sha) {
    r.has_record = false;
    r.problem = "its content changed after it was written";
  }
  return r;
}

// ---- reasons --------------------------------------------------------------------------------------
namespace {
std::string describe_key(const std::string& key) {
  const auto dot = key.find('.');
  const std::string kind = key.substr(0, dot);
  std::string name = dot == std::string::npos ? key : key.substr(dot + 1);
  if (kind == "option") {
    std::replace(name.begin(), name.end(), '_', '-');
    return "--" + name + " changed";
  }
  if (kind == "selection") return "spot selection (" + name + ") changed";
  if (kind == "upstream" && name.rfind("trait_", 0) == 0) {
    return "results of trait " + name.substr(6) + " changed";
  }
  if (kind == "upstream") std::replace(name.begin(), name.end(), '_', ' ');  // "marker scores"
  return name + " changed";
}
}  // namespace

std::string stale_reason(const Recorded& now, const Record& expected) {
  if (!now.present) return now.problem.empty() ? "no output yet" : now.problem;
  if (!now.has_record) return now.problem.empty() ? "no provenance recorded" : now.problem;
  if (now.fingerprint == expected.fingerprint()) return "";
  std::map<std::string, std::string> had(now.items.begin(), now.items.end());
  std::vector<std::string> changes;
  for (const auto& [k, v] : expected.items) {
    auto it = had.find(k);
    if (it == had.end() || it->second != v) changes.push_back(describe_key(k));
    if (it != had.end()) had.erase(it);
  }
  for (const auto& [k, v] : had) changes.push_back(describe_key(k));
  if (changes.empty()) return "fingerprint differs";
  std::string out;
  for (std::size_t i = 0; i < changes.size() && i < 4; ++i) out += (i ? ", " : "") + changes[i];
  if (changes.size() > 4) out += fmt::format(" and {} more", changes.size() - 4);
  return out;
}

std::string upstream_h5ad(const std::string& path) {
  const Recorded r = read_h5ad(path);
  if (r.present && r.has_record) return "fingerprint:" + r.fingerprint;
  return file_identity(path);
}

std::string upstream_csv(const std::string& path) { return file_content(path); }

// ---- metadata.yaml --------------------------------------------------------------------------------
void update_step_metadata(const std::string& step_dir, const std::string& step,
                          const std::vector<std::pair<std::string, Record>>& outputs) {
  const std::string path = step_dir + "/metadata.yaml";
  // Earlier entries of outputs that still exist and are not rewritten now.
  std::map<std::string, YAML::Node> kept;
  try {
    if (fs::exists(path)) {
      const YAML::Node old = YAML::LoadFile(path);
      if (old["outputs"] && old["outputs"].IsMap()) {
        for (const auto& kv : old["outputs"]) {
          const auto name = kv.first.as<std::string>();
          if (fs::exists(step_dir + "/" + name)) kept[name] = kv.second;
        }
      }
    }
  } catch (const YAML::Exception&) {
    kept.clear();  // unreadable: rewritten from scratch
  }
  YAML::Emitter e;
  e << YAML::Comment("gsmap-mpi step metadata (docs/formats.md \"Provenance\")");
  e << YAML::BeginMap;
  e << YAML::Key << "step" << YAML::Value << step;
  e << YAML::Key << "version" << YAML::Value << kVersion;
  e << YAML::Key << "git" << YAML::Value << kGitHash;
  e << YAML::Key << "updated" << YAML::Value << utc_now();
  if (!outputs.empty()) {
    const Record& r = outputs.front().second;
    e << YAML::Key << "last_run" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "command" << YAML::Value << YAML::DoubleQuoted << r.command;
    e << YAML::Key << "ranks" << YAML::Value << r.ranks;
    e << YAML::Key << "backend" << YAML::Value << r.backend;
    e << YAML::EndMap;
  }
  std::map<std::string, const Record*> fresh;
  for (const auto& [name, r] : outputs) fresh[name] = &r;
  e << YAML::Key << "outputs" << YAML::Value << YAML::BeginMap;
  std::map<std::string, int> all;
  for (const auto& [k, v] : kept) all[k] = 0;
  for (const auto& [k, v] : fresh) all[k] = 1;
  for (const auto& [name, is_new] : all) {
    e << YAML::Key << name << YAML::Value;
    if (is_new) {
      const Record& r = *fresh[name];
      e << YAML::BeginMap;
      e << YAML::Key << "subject" << YAML::Value << r.subject;
      e << YAML::Key << "fingerprint" << YAML::Value << r.fingerprint();
      e << YAML::Key << "date" << YAML::Value << utc_now();
      e << YAML::Key << "fingerprint_items" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : r.items) e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
      e << YAML::EndMap << YAML::EndMap;
    } else {
      e << kept[name];
    }
  }
  e << YAML::EndMap << YAML::EndMap;
  io::write_file_atomic(path, std::string(e.c_str()) + "\n");
}

}  // namespace gsmap::pipeline::provenance
