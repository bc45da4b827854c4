#pragma once
// What made an output (docs/usage.md "Fingerprints, skipping and --force", docs/formats.md
// "Provenance"). Every output records a fingerprint: SHA-256 over the options that can change its
// values, the content of small inputs (yaml, sumstats, w_ld files), the identity of large inputs
// (size, mtime, SHA-256 of the first and last MiB) and the fingerprints of the upstream outputs it
// was computed from. A step skips an output only when the recorded fingerprint equals the one the
// current command would produce.
//
// Where it is stored: h5ad outputs in root attributes (gsmap_fingerprint, gsmap_provenance, ...),
// written serially by rank 0 after the collective data writes; csv / csv.gz outputs in a sidecar
// `<file>.provenance.yaml`; each step directory in `metadata.yaml`.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gsmap::pipeline::provenance {

// SHA-256 (FIPS 180-4), implemented in provenance.cpp (no extra dependency).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes; the object must not be updated afterwards

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t used_ = 0;
  std::uint64_t bytes_ = 0;
};
std::string sha256_hex(std::string_view data);

// Content hash of a file ("sha256:<hex>"); InputError when unreadable.
std::string file_content(const std::string& path);
// Identity of a large file: "size=<bytes> mtime=<ns> head_tail_sha256=<hex of first+last MiB>".
std::string file_identity(const std::string& path);
// Content of every regular file in a directory, by name ("sha256:<hex>" over names + contents).
std::string directory_content(const std::string& dir);

// Items of a fingerprint, in a fixed order. Keys are "<kind>.<name>": option.*, input.*,
// upstream.*, selection.*; the human reason for a change is derived from the key.
struct Record {
  std::string step;     // latent_to_gene | spatial_ldsc | cauchy_combination | merge
  std::string subject;  // "latent_to_gene", "spatial_ldsc for trait T1", ...
  std::vector<std::pair<std::string, std::string>> items;
  // Recorded, but not part of the fingerprint.
  std::string backend = "cpu";
  int ranks = 1;
  std::string command;
  // What the computation found, e.g. a trait's SNP counts and lambda GC (the report shows it).
  std::vector<std::pair<std::string, std::string>> summary;

  void add(const std::string& key, const std::string& value) { items.emplace_back(key, value); }
  std::string fingerprint() const;  // SHA-256 hex over "key=value\n" lines
};

// What an output carries now (read back), or why it carries nothing usable.
struct Recorded {
  bool present = false;  // file exists and is complete
  bool has_record = false;
  std::string fingerprint;
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::pair<std::string, std::string>> summary;  // Record::summary
  std::string problem;   // "missing", "incomplete", "no provenance recorded", "content changed"
};

// The YAML text written to sidecars / the gsmap_provenance attribute.
std::string to_yaml(const Record& r, const std::string& output, const std::string& output_sha256);
// Reads a provenance YAML text; false when it is not one.
bool parse_yaml(const std::string& text, Recorded& out, std::string* output_sha256 = nullptr);

// h5ad: root attributes. Writes serially (rank 0 only, after the collective writes and close).
void write_h5ad_attributes(const std::string& path, const Record& r);
Recorded read_h5ad(const std::string& path);  // present = gsmap_complete == 1

// csv / csv.gz: sidecar <path>.provenance.yaml with the output's content hash. `path` is the file
// whose content is hashed; the sidecar is written next to `sidecar_for` (defaults to `path`).
std::string sidecar_path(const std::string& output);
void write_sidecar(const std::string& path, const Record& r, const std::string& sidecar_for = {});
Recorded read_sidecar(const std::string& path);  // checks the output's content hash too

// "" when up to date, else why not ("marker scores changed", "--n-blocks changed", ...).
std::string stale_reason(const Recorded& now, const Record& expected);

// The reference an output gives its downstream: its recorded fingerprint when it has one,
// else (outputs of other tools, user files) its identity.
std::string upstream_h5ad(const std::string& path);
std::string upstream_csv(const std::string& path);  // content hash (cheap for csv outputs)

// metadata.yaml of a step directory: the last run's description and, per output written into the
// directory, its fingerprint (earlier entries kept while their file exists). Rank 0 only; callers
// hold the step's metadata lock (lock.hpp).
void update_step_metadata(const std::string& step_dir, const std::string& step,
                          const std::vector<std::pair<std::string, Record>>& outputs);

std::string utc_now();

}  // namespace gsmap::pipeline::provenance
