#pragma once
// The results report <project>/report/index.html (docs/formats.md "Report", docs/usage.md
// "report"): one self-contained HTML file, every image a PNG in a data: URI, so that it opens from
// the file system in any browser without a server. This header holds the page's content as plain
// structs (filled by pipeline/report_step.cpp) and the MPI-free parts: statistics and the HTML
// writer.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gsmap::report {

// One map panel: the spots of one sample (a slice of a 3D stack is a sample).
struct MapPanel {
  std::string sample;
  std::vector<double> x, y;
  std::vector<double> value;  // -log10 p; NaN: no result for the spot
};

struct TraitQc {
  // From spatial LDSC's record of the trait (absent for results of other tools or older runs).
  std::optional<std::int64_t> n_snps_used;
  std::optional<double> lambda_gc, mean_chisq;
  std::int64_t n_spots = 0;       // spots with a p value
  std::int64_t n_bonferroni = 0;  // p < 0.05 / n_spots
  std::int64_t n_fdr = 0;         // Benjamini-Hochberg q < 0.05
};

// One <project>_<trait>.<annotation>.cauchy.csv, rows as in the file (sorted by p_median).
struct CauchyTable {
  std::string annotation;
  std::string source;
  std::vector<std::string> labels;
  std::vector<double> p_cauchy, p_median;
  std::vector<std::int64_t> sig_spots, total_spots;
};

struct TraitSection {
  std::string name;
  TraitQc qc;
  std::vector<MapPanel> panels;
  std::vector<CauchyTable> cauchy;
};

struct ProvenanceEntry {
  std::string title;  // "spatial_ldsc/metadata.yaml"
  std::string text;   // shown verbatim
};

struct ReportContent {
  std::string project;
  std::string generated;  // date and program version
  std::string dataset;    // one line: spots, samples, dataset type
  std::vector<TraitSection> traits;
  std::vector<ProvenanceEntry> provenance;
};

// Spots with p < alpha / n (n = number of finite p values).
std::int64_t count_bonferroni(std::span<const double> p, double alpha = 0.05);
// Spots with Benjamini-Hochberg adjusted p < q (over the finite p values).
std::int64_t count_fdr(std::span<const double> p, double q = 0.05);

// The page. Map panels of one trait share one colour scale, 0 to the trait's largest -log10 p.
std::string render_html(const ReportContent& content);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace gsmap::report
