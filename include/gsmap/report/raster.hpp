#pragma once
// Raster images of the results report (docs/formats.md "Report"): spatial maps of -log10 p drawn
// point by point straight into a cairo image surface (no cairo path per point: millions of spots
// render in well under a second), the colour bar and the Cauchy bar charts, encoded as PNG.
// Every text of the report is HTML, so the images need no fonts.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace gsmap::report {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// matplotlib's viridis (perceptually uniform, CC0), 256 entries from dark blue to yellow.
const std::array<Rgb, 256>& viridis();
// The entry of viridis() for t in [0, 1] (clamped; NaN -> entry 0): index floor(t * 255 + 0.5).
std::uint8_t viridis_index(double t);
Rgb viridis_at(double t);

// An opaque ARGB32 cairo image surface.
class Raster {
 public:
  Raster(int width, int height, Rgb background);
  ~Raster();
  Raster(const Raster&) = delete;
  Raster& operator=(const Raster&) = delete;
  int width() const { return width_; }
  int height() const { return height_; }

  // Pixels whose centre (x + 0.5, y + 0.5) lies within `radius` of (cx, cy), clipped to the image;
  // at least the pixel containing the centre. Written directly into the surface's buffer.
  void fill_disc(double cx, double cy, double radius, Rgb colour);
  void fill_rect(double x0, double y0, double x1, double y1, Rgb colour);  // through cairo
  // A line from (x0, y0) to (x1, y1), `width` pixels wide; dashed when dash > 0 (dash length).
  void line(double x0, double y0, double x1, double y1, double width, Rgb colour, double dash = 0);
  void frame(Rgb colour);  // a one-pixel border around the image

  Rgb pixel(int x, int y) const;
  std::string png() const;  // the image as PNG bytes

 private:
  void flush_direct() const;  // hands direct buffer writes back to cairo
  int width_, height_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where data coordinates land in a map image: px = x0 + scale * (x - xmin),
// py = y0 + scale * (ymax - y) (y grows upwards in the data, downwards in the image). The report
// writes these on each map's <img> (data-* attributes) so that tools can find spots in it.
struct MapGeometry {
  double xmin = 0, ymax = 0, scale = 1, x0 = 0, y0 = 0;
  double radius = 1;  // point radius in pixels
};

// A spatial map: every point with a finite value in the colour of (value - vmin) / (vmax - vmin)
// on viridis, drawn in increasing value order (the strongest on top); points whose value is NaN
// in light grey, below all others. Keeps the aspect ratio of the coordinates and a `margin` of
// pixels on every side; the point radius follows the density (about 0.6 of the spacing of the
// points, 0.7-4 pixels). x, y and value have the same length.
MapGeometry render_map(Raster& image, std::span<const double> x, std::span<const double> y,
                       std::span<const double> value, double vmin, double vmax, int margin);

// The colour bar: viridis from left (vmin) to right (vmax).
std::string colour_bar_png(int width, int height);

// A horizontal bar chart: bar i in row i (`row_height` pixels, top to bottom) of length
// value[i] / vmax of the plot width, dark when value[i] >= threshold, light otherwise; a dashed
// red vertical line at `threshold`. Labels and numbers are HTML beside it.
std::string bar_chart_png(std::span<const double> value, double threshold, double vmax, int width,
                          int row_height);

// RFC 4648 base64 (for data: URIs).
std::string base64(std::string_view bytes);

}  // namespace gsmap::report
