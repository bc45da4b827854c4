// The report's raster renderer, statistics and page (report/raster.hpp, report/report.hpp).
#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gsmap/report/raster.hpp"
#include "gsmap/report/report.hpp"

namespace gsmap::report {
namespace {

// A PNG decoded back through cairo: pixel (x, y) as RGB.
class Decoded {
 public:
  explicit Decoded(const std::string& png) : data_(png) {
    surface_ = cairo_image_surface_create_from_png_stream(&Decoded::read, this);
  }
  ~Decoded() { cairo_surface_destroy(surface_); }
  bool ok() const { return cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS; }
  int width() const { return cairo_image_surface_get_width(surface_); }
  int height() const { return cairo_image_surface_get_height(surface_); }
  Rgb at(int x, int y) const {
    const auto* p = cairo_image_surface_get_data(surface_) +
                    static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(surface_);
    const std::uint32_t v = reinterpret_cast<const std::uint32_t*>(p)[x];
    return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
  }

 private:
  static cairo_status_t read(void* self, unsigned char* out, unsigned int n) {
    auto* d = static_cast<Decoded*>(self);
    if (d->pos_ + n > d->data_.size()) return CAIRO_STATUS_READ_ERROR;
    std::copy_n(d->data_.data() + d->pos_, n, out);
    d->pos_ += n;
    return CAIRO_STATUS_SUCCESS;
  }
  std::string data_;
  std::size_t pos_ = 0;
  cairo_surface_t* surface_ = nullptr;
};

const Rgb kWhite{255, 255, 255};
const Rgb kGrey{211, 211, 211};

TEST(Viridis, TableEndsAndLookup) {
  EXPECT_EQ(viridis()[0], (Rgb{68, 1, 84}));
  EXPECT_EQ(viridis()[255], (Rgb{253, 231, 37}));
  EXPECT_EQ(viridis_at(0.0), viridis()[0]);
  EXPECT_EQ(viridis_at(-3.0), viridis()[0]);
  EXPECT_EQ(viridis_at(std::nan("")), viridis()[0]);
  EXPECT_EQ(viridis_at(0.5), viridis()[128]);  // floor(127.5 + 0.5)
  EXPECT_EQ(viridis_at(1.0), viridis()[255]);
  EXPECT_EQ(viridis_at(7.0), viridis()[255]);
  // Perceptual order: luminance grows along the map.
  const auto lum = [](Rgb c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; };
  for (std::size_t i = 16; i < 256; i += 16) EXPECT_GT(lum(viridis()[i]), lum(viridis()[i - 16]));
}

// Four points at the corners of a unit square in a 15 x 15 image with a 2-pixel margin: scale 11,
// the corners at pixels (2, 2), (13, 2), (2, 13), (13, 13); radius 0.6 * sqrt(12 * 12 / 4) = 3.6.
TEST(RenderMap, PixelValuesOfATinyMap) {
  Raster image(15, 15, kWhite);
  const std::vector<double> x = {0, 1, 0, 1}, y = {0, 0, 1, 1};
  const std::vector<double> v = {0.0, 2.0, 1.0, std::nan("")};
  const MapGeometry g = render_map(image, x, y, v, 0.0, 2.0, 2);
  EXPECT_DOUBLE_EQ(g.scale, 11.0);
  EXPECT_DOUBLE_EQ(g.x0, 2.0);
  EXPECT_DOUBLE_EQ(g.y0, 2.0);
  EXPECT_DOUBLE_EQ(g.xmin, 0.0);
  EXPECT_DOUBLE_EQ(g.ymax, 1.0);
  EXPECT_NEAR(g.radius, 3.6, 1e-12);
  // Bottom left (0, 0): value 0; bottom right: value 2 = vmax; top left: half; top right: NaN.
  EXPECT_EQ(image.pixel(2, 12), viridis()[0]);
  EXPECT_EQ(image.pixel(13, 13), viridis()[255]);
  EXPECT_EQ(image.pixel(12, 12), viridis()[255]);
  EXPECT_EQ(image.pixel(1, 1), viridis()[128]);
  EXPECT_EQ(image.pixel(12, 1), kGrey);
  // Pixel centres beyond the radius keep the background: (7.5, 7.5) is 7.8 pixels from every
  // corner, (6.5, 2.5) 4.5 from (2, 2); (5.5, 2.5) is 3.54 from it, inside.
  EXPECT_EQ(image.pixel(7, 7), kWhite);
  EXPECT_EQ(image.pixel(6, 2), kWhite);
  EXPECT_EQ(image.pixel(5, 2), viridis()[128]);  // centre 3.5 away from (2, 2)

  // The PNG holds the same pixels.
  const std::string png = image.png();
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  Decoded d(png);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.width(), 15);
  ASSERT_EQ(d.height(), 15);
  for (int py = 0; py < 15; ++py) {
    for (int px = 0; px < 15; ++px) EXPECT_EQ(d.at(px, py), image.pixel(px, py)) << px << "," << py;
  }
}

TEST(RenderMap, StrongestPointOnTopWhateverTheInputOrder) {
  for (const bool hot_first : {true, false}) {
    Raster image(9, 9, kWhite);
    const std::vector<double> x = {0, 0, 1}, y = {0, 0, 1};
    const std::vector<double> v = hot_first ? std::vector<double>{5.0, 1.0, std::nan("")}
                                            : std::vector<double>{1.0, 5.0, std::nan("")};
    const MapGeometry g = render_map(image, x, y, v, 0.0, 5.0, 1);
    const int px = static_cast<int>(g.x0), py = static_cast<int>(g.y0 + g.scale);
    EXPECT_EQ(image.pixel(px, py), viridis()[255]) << hot_first;
  }
}

TEST(RenderMap, MillionPointsInAFewSeconds) {
  // Correctness of the scale, not a benchmark: a 1000 x 1000 grid fills a 500 x 500 map.
  const int n = 1000;
  std::vector<double> x, y, v;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      x.push_back(i);
      y.push_back(j);
      v.push_back(i < n / 2 ? 0.0 : 1.0);
    }
  }
  Raster image(500, 500, kWhite);
  const MapGeometry g = render_map(image, x, y, v, 0.0, 1.0, 0);
  EXPECT_NEAR(g.scale, 500.0 / 999.0, 1e-12);
  EXPECT_DOUBLE_EQ(g.radius, 0.7);  // dense: the smallest radius
  EXPECT_EQ(image.pixel(100, 250), viridis()[0]);
  EXPECT_EQ(image.pixel(400, 250), viridis()[255]);
}

TEST(BarChart, BarsAndTheSignificanceLine) {
  // Rows of 10 pixels, 102 wide: plot scale (102 - 2) / 4 = 25 pixels per unit.
  const std::vector<double> bars = {4.0, 1.0};
  Decoded d(bar_chart_png(bars, 2.0, 4.0, 102, 10));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.height(), 20);
  const Rgb strong{49, 104, 142}, weak{170, 190, 205}, line{200, 30, 30};
  EXPECT_EQ(d.at(90, 5), strong);   // row 0: 4 >= 2, bar to x = 101
  EXPECT_EQ(d.at(10, 15), weak);    // row 1: 1 < 2, bar to x = 26
  EXPECT_EQ(d.at(40, 15), kWhite);  // beyond the short bar, off the line
  // The dashed line at x = 1 + 2 * 25 = 51: pixel columns 50 and 51, dashes of 4 pixels.
  EXPECT_EQ(d.at(50, 1), line);
  EXPECT_EQ(d.at(51, 2), line);
  EXPECT_EQ(d.at(51, 9), line);     // dashes at y in [0, 4), [8, 12), [16, 20)
  EXPECT_EQ(d.at(51, 13), kWhite);  // a gap, in row 1 beyond its short bar
  EXPECT_EQ(d.at(52, 9), kWhite);   // right of the line, between the bars
  EXPECT_EQ(d.at(5, 0), kWhite);    // above bar 0 (bars span the middle 70 % of a row)
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(Significance, BonferroniAndBenjaminiHochberg) {
  // Benjamini & Hochberg's textbook example shape: 8 finite p values, cut-offs i * 0.05 / 8.
  const std::vector<double> p = {0.205, 0.001, 0.039, 0.008,       0.041,
                                 0.042, 0.06,  0.074, std::nan("")};
  EXPECT_EQ(count_bonferroni(p), 1);  // < 0.00625
  EXPECT_EQ(count_fdr(p), 2);         // 0.001 <= 0.00625, 0.008 <= 0.0125, 0.039 > 0.01875
  // The step-up rule: a later rank that passes carries the earlier ones.
  EXPECT_EQ(count_fdr(std::vector<double>{0.02, 0.02, 0.02}), 3);
  EXPECT_EQ(count_bonferroni(std::vector<double>{0.02, 0.02, 0.02}), 0);
  EXPECT_EQ(count_fdr(std::vector<double>{}), 0);
}

TEST(Html, PageTextEscapingAndEmbeddedImages) {
  ReportContent c;
  c.project = "demo";
  c.generated = "Generated now.";
  c.dataset = "4 spots";
  TraitSection t;
  t.name = "T<1>";
  t.qc.n_snps_used = 12345;
  t.qc.lambda_gc = 1.04321;
  t.qc.n_spots = 4;
  t.qc.n_bonferroni = 1;
  t.qc.n_fdr = 2;
  t.panels.push_back({"s1", {0, 1}, {0, 1}, {0.5, 3.0}});
  t.panels.push_back({"s2", {0, 1}, {0, 1}, {std::nan(""), 1.0}});
  CauchyTable ct;
  ct.annotation = "annotation";
  ct.source = "demo_T.annotation.cauchy.csv";
  ct.labels = {"B", "A&B"};
  ct.p_cauchy = {0.5, 1e-8};
  ct.p_median = {0.4, 1e-3};
  ct.sig_spots = {0, 2};
  ct.total_spots = {2, 2};
  t.cauchy.push_back(ct);
  c.traits.push_back(t);
  c.provenance.push_back({"spatial_ldsc/metadata.yaml", "step: spatial_ldsc\n"});
  const std::string h = render_html(c);
  const auto has = [&](const std::string& s) { return h.find(s) != std::string::npos; };
  EXPECT_TRUE(has("<title>gsmap-mpi report: demo</title>"));
  EXPECT_TRUE(has("<h2>Trait T&lt;1&gt;</h2>"));
  EXPECT_FALSE(has("T<1>"));
  EXPECT_TRUE(has("<td class=\"snps\">12345</td>"));
  EXPECT_TRUE(has("<td class=\"lambda\">1.0432</td>"));
  EXPECT_TRUE(has("<td class=\"chisq\">not recorded</td>"));
  EXPECT_TRUE(has("<td class=\"bonferroni\">1</td><td class=\"fdr\">2</td>"));
  EXPECT_TRUE(has("data-sample=\"s1\""));
  EXPECT_TRUE(has("s2: 2 spots (1 without a result, grey)"));
  EXPECT_TRUE(has("data-vmax=\"3\""));  // one colour scale per trait: its largest -log10 p
  // Groups by p_cauchy: A&B (1e-08) first.
  const auto a = h.find("<td class=\"label\">A&amp;B</td>"),
             b = h.find("<td class=\"label\">B</td>");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_TRUE(has("p = 0.05 / 2 groups (Bonferroni)"));
  EXPECT_TRUE(has("<h3>spatial_ldsc/metadata.yaml</h3>\n<pre>step: spatial_ldsc\n</pre>"));
  // Self-contained: every image is a data: URI, nothing is fetched.
  std::size_t images = 0;
  for (std::size_t pos = h.find("<img"); pos != std::string::npos; pos = h.find("<img", pos + 1)) {
    ++images;
    const auto src = h.find("src=\"", pos);
    EXPECT_EQ(h.compare(src + 5, 22, "data:image/png;base64,"), 0);
  }
  EXPECT_EQ(images, 4u);  // two map panels, the colour bar, one bar chart
  EXPECT_FALSE(has("http://"));
  EXPECT_FALSE(has("https://"));
}

}  // namespace
}  // namespace gsmap::report
