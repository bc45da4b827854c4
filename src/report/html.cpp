// The report page (report/report.hpp): statistics and the self-contained HTML.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "gsmap/report/raster.hpp"
#include "gsmap/report/report.hpp"

namespace gsmap::report {
namespace {

constexpr int kBarRow = 22;  // pixels per Cauchy bar (and per table row beside it)
constexpr int kBarWidth = 360;
constexpr int kMapMargin = 6;

std::vector<double> finite(std::span<const double> p) {
  std::vector<double> out;
  out.reserve(p.size());
  for (double v : p) {
    if (std::isfinite(v)) out.push_back(v);
  }
  return out;
}

std::string png_uri(const std::string& png) { return "data:image/png;base64," + base64(png); }

std::string num(double v, const char* spec) {
  if (std::isnan(v)) return "NaN";
  return fmt::format(fmt::runtime(spec), v);
}

double neg_log10(double p) { return -std::log10(std::max(p, 1e-300)); }

const char* kStyle = R"(
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px}
table.qc th,table.qc td{border:1px solid #ccc}
.maps{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}figcaption{font-size:.85em;color:#555}
img.map{display:block;image-rendering:pixelated}
.scale{display:flex;align-items:center;gap:6px;font-size:.85em;margin:6px 0}
table.cauchy{border-spacing:0}
table.cauchy td{height:22px;padding:0 8px;line-height:22px;white-space:nowrap;font-size:.9em}
table.cauchy td.bar{padding:0;vertical-align:top}
table.cauchy td.bar img{display:block}
.note{font-size:.85em;color:#555}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:.8em}
)";

void write_qc(std::string& h, const TraitQc& q) {
  const auto opt_int = [](const std::optional<std::int64_t>& v) {
    return v ? fmt::format("{}", *v) : std::string("not recorded");
  };
  const auto opt_num = [](const std::optional<double>& v) {
    return v ? num(*v, "{:.4f}") : std::string("not recorded");
  };
  h += "<table class=\"qc\"><tr><th>SNPs used</th><th>&lambda;<sub>GC</sub></th>"
       "<th>mean &chi;<sup>2</sup></th><th>spots</th>"
       "<th>significant spots, Bonferroni (p &lt; 0.05 / spots)</th>"
       "<th>significant spots, FDR 5 % (Benjamini-Hochberg)</th></tr>";
  h += fmt::format(
      "<tr><td class=\"snps\">{}</td><td class=\"lambda\">{}</td><td class=\"chisq\">{}</td>"
      "<td class=\"spots\">{}</td><td class=\"bonferroni\">{}</td><td "
      "class=\"fdr\">{}</td></tr></table>\n",
      opt_int(q.n_snps_used), opt_num(q.lambda_gc), opt_num(q.mean_chisq), q.n_spots,
      q.n_bonferroni, q.n_fdr);
}

void write_maps(std::string& h, const TraitSection& t) {
  double vmax = 0;
  std::size_t n_points = 0;
  for (const auto& p : t.panels) {
    n_points += p.x.size();
    for (double v : p.value) {
      if (std::isfinite(v)) vmax = std::max(vmax, v);
    }
  }
  if (vmax <= 0) vmax = 1;
  const int side = t.panels.size() == 1 ? 640 : 420;
  h += "<h3>Spatial map of &minus;log<sub>10</sub> p</h3>\n<div class=\"maps\">\n";
  for (const auto& p : t.panels) {
    Raster image(side, side, Rgb{255, 255, 255});
    const MapGeometry g = render_map(image, p.x, p.y, p.value, 0.0, vmax, kMapMargin);
    image.frame(Rgb{200, 200, 200});
    std::size_t n_missing = 0;
    for (double v : p.value) n_missing += std::isnan(v) ? 1 : 0;
    h += fmt::format(
        "<figure class=\"panel\"><img class=\"map\" width=\"{0}\" height=\"{0}\" "
        "data-trait=\"{1}\" "
        "data-sample=\"{2}\" data-xmin=\"{3:.17g}\" data-ymax=\"{4:.17g}\" data-scale=\"{5:.17g}\" "
        "data-x0=\"{6:.17g}\" data-y0=\"{7:.17g}\" data-radius=\"{8:.6g}\" data-vmax=\"{9:.17g}\" "
        "alt=\"-log10 p of trait {1} in sample {2}\" src=\"{10}\">"
        "<figcaption>{2}: {11} spots{12}</figcaption></figure>\n",
        side, html_escape(t.name), html_escape(p.sample), g.xmin, g.ymax, g.scale, g.x0, g.y0,
        g.radius, vmax, png_uri(image.png()), p.x.size(),
        n_missing ? fmt::format(" ({} without a result, grey)", n_missing) : std::string());
  }
  h += "</div>\n";
  h += fmt::format(
      "<div class=\"scale\"><span>0</span><img alt=\"colour scale\" width=\"240\" "
      "height=\"12\" src=\"{}\"><span>{}</span><span class=\"note\">&minus;log<sub>10</sub> p "
      "(viridis; the strongest spots are drawn on top; {} spots in {} panel{})</span></div>\n",
      png_uri(colour_bar_png(240, 12)), num(vmax, "{:.3g}"), n_points, t.panels.size(),
      t.panels.size() == 1 ? "" : "s");
}

void write_cauchy(std::string& h, const TraitSection& t, const CauchyTable& c) {
  std::vector<std::size_t> order(c.labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return c.p_cauchy[a] < c.p_cauchy[b]; });
  const double n = static_cast<double>(std::max<std::size_t>(c.labels.size(), 1));
  const double threshold = neg_log10(0.05 / n);
  std::vector<double> bars;
  double vmax = threshold;
  for (std::size_t i : order) {
    bars.push_back(neg_log10(c.p_cauchy[i]));
    if (std::isfinite(bars.back())) vmax = std::max(vmax, bars.back());
  }
  vmax *= 1.05;
  h += fmt::format("<h3>Cauchy combination by {}</h3>\n", html_escape(c.annotation));
  h += fmt::format(
      "<table class=\"cauchy\" data-trait=\"{}\" "
      "data-annotation=\"{}\"><tr><th>{}</th><th>p_cauchy</th>"
      "<th>p_median</th><th>significant / spots</th><th>&minus;log<sub>10</sub> p_cauchy (0 to "
      "{})</th></tr>\n",
      html_escape(t.name), html_escape(c.annotation), html_escape(c.annotation),
      num(vmax, "{:.3g}"));
  const std::string chart = png_uri(bar_chart_png(bars, threshold, vmax, kBarWidth, kBarRow));
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    h += fmt::format(
        "<tr class=\"group\"><td class=\"label\">{}</td><td>{}</td><td>{}</td><td>{} / {}</td>",
        html_escape(c.labels[i]), num(c.p_cauchy[i], "{:.3g}"), num(c.p_median[i], "{:.3g}"),
        c.sig_spots[i], c.total_spots[i]);
    if (k == 0) {
      h += fmt::format(
          "<td class=\"bar\" rowspan=\"{0}\"><img alt=\"bar chart of -log10 p_cauchy\" "
          "width=\"{1}\" height=\"{2}\" src=\"{3}\"></td>",
          order.size(), kBarWidth, kBarRow * static_cast<int>(order.size()), chart);
    }
    h += "</tr>\n";
  }
  h += "</table>\n";
  h += fmt::format(
      "<p class=\"note\">Groups by p_cauchy (the file {} is ordered by p_median). "
      "Dashed line: p = 0.05 / {} groups (Bonferroni); dark bars are beyond it.</p>\n",
      html_escape(c.source), order.size());
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::int64_t count_bonferroni(std::span<const double> p, double alpha) {
  const auto f = finite(p);
  if (f.empty()) return 0;
  const double cut = alpha / static_cast<double>(f.size());
  return std::count_if(f.begin(), f.end(), [&](double v) { return v < cut; });
}

std::int64_t count_fdr(std::span<const double> p, double q) {
  auto f = finite(p);
  std::sort(f.begin(), f.end());
  const double n = static_cast<double>(f.size());
  std::int64_t k = 0;  // the largest rank i (1-based) with p_(i) <= i q / n
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] <= static_cast<double>(i + 1) * q / n) k = static_cast<std::int64_t>(i + 1);
  }
  return k;
}

std::string render_html(const ReportContent& c) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += fmt::format("<title>gsmap-mpi report: {}</title>\n<style>{}</style></head><body>\n",
                   html_escape(c.project), kStyle);
  // The "generated" line and the provenance section are the page's only run-specific parts
  // (tests/integration/outputs_same.py leaves them out when comparing runs).
  h += fmt::format("<h1>gsmap-mpi report: {}</h1>\n<p class=\"generated\">{}</p>\n<p>{}</p>\n",
                   html_escape(c.project), html_escape(c.generated), html_escape(c.dataset));
  h += "<p>Traits:";
  for (std::size_t i = 0; i < c.traits.size(); ++i) {
    h += fmt::format("{} <a href=\"#trait-{}\">{}</a>", i ? "," : "", html_escape(c.traits[i].name),
                     html_escape(c.traits[i].name));
  }
  h += " &middot; <a href=\"#provenance\">provenance</a></p>\n";
  for (const auto& t : c.traits) {
    h += fmt::format("<section class=\"trait\" id=\"trait-{0}\">\n<h2>Trait {0}</h2>\n",
                     html_escape(t.name));
    write_qc(h, t.qc);
    write_maps(h, t);
    for (const auto& table : t.cauchy) write_cauchy(h, t, table);
    h += "</section>\n";
  }
  h += "<section id=\"provenance\">\n<h2>Provenance</h2>\n<p class=\"note\">What produced these "
       "results: the metadata.yaml of each step (fingerprints, options, inputs, commands).</p>\n";
  for (const auto& p : c.provenance) {
    h += fmt::format("<h3>{}</h3>\n<pre>{}</pre>\n", html_escape(p.title), html_escape(p.text));
  }
  h += "</section>\n</body></html>\n";
  return h;
}

}  // namespace gsmap::report
