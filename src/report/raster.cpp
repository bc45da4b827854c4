// Raster rendering of the report's images (report/raster.hpp).
#include "gsmap/report/raster.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <cairo.h>  // types and signatures only: the library is opened at run time (below)
#include <dlfcn.h>
#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::report {
namespace {

// cairo is opened the first time an image is made, not linked: the ranks of every other step never
// load it and the fifteen libraries it needs (X11, xcb, fontconfig, freetype, pixman, png), about
// 2 MiB of every rank's resident set and as many files for each rank to open at start-up
// (docs/scalability.md "Memory per rank"). The functions the report calls:
#define GSMAP_CAIRO_FUNCTIONS(X)    \
  X(cairo_create)                   \
  X(cairo_destroy)                  \
  X(cairo_fill)                     \
  X(cairo_image_surface_create)     \
  X(cairo_image_surface_get_data)   \
  X(cairo_image_surface_get_stride) \
  X(cairo_line_to)                  \
  X(cairo_move_to)                  \
  X(cairo_paint)                    \
  X(cairo_rectangle)                \
  X(cairo_restore)                  \
  X(cairo_save)                     \
  X(cairo_set_dash)                 \
  X(cairo_set_line_width)           \
  X(cairo_set_source_rgb)           \
  X(cairo_status_to_string)         \
  X(cairo_stroke)                   \
  X(cairo_surface_destroy)          \
  X(cairo_surface_flush)            \
  X(cairo_surface_mark_dirty)       \
  X(cairo_surface_status)           \
  X(cairo_surface_write_to_png_stream)

struct CairoApi {
#define GSMAP_CAIRO_POINTER(name) decltype(&::name) name = nullptr;
  GSMAP_CAIRO_FUNCTIONS(GSMAP_CAIRO_POINTER)
#undef GSMAP_CAIRO_POINTER
};

CairoApi open_cairo() {
  constexpr const char* kLibrary = "libcairo.so.2";
  // RTLD_LOCAL: cairo's symbols stay private to this handle; never closed (one per process).
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(
        ExitCode::kIo,
        fmt::format("report: cannot open {} ({}): the report's images are drawn with cairo; "
                    "install it (Debian: apt-get install libcairo2)",
                    kLibrary, why != nullptr ? why : "unknown dlopen error"));
  }
  CairoApi api;
#define GSMAP_CAIRO_BIND(name)                                                             \
  api.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));                    \
  if (api.name == nullptr) {                                                               \
    throw Error(ExitCode::kIo, fmt::format("report: {} has no function {}: cairo 1.10 or " \
                                           "later is needed",                              \
                                           kLibrary, #name));                              \
  }
  GSMAP_CAIRO_FUNCTIONS(GSMAP_CAIRO_BIND)
#undef GSMAP_CAIRO_BIND
  return api;
}

// Opened once per process; a failed open throws here and is tried again by the next image.
const CairoApi& cairo() {
  static const CairoApi api = open_cairo();
  return api;
}

// clang-format off
constexpr std::array<Rgb, 256> kViridis = {{
    {68, 1, 84}, {68, 2, 86}, {69, 4, 87}, {69, 5, 89},
    {70, 7, 90}, {70, 8, 92}, {70, 10, 93}, {70, 11, 94},
    {71, 13, 96}, {71, 14, 97}, {71, 16, 99}, {71, 17, 100},
    {71, 19, 101}, {72, 20, 103}, {72, 22, 104}, {72, 23, 105},
    {72, 24, 106}, {72, 26, 108}, {72, 27, 109}, {72, 28, 110},
    {72, 29, 111}, {72, 31, 112}, {72, 32, 113}, {72, 33, 115},
    {72, 35, 116}, {72, 36, 117}, {72, 37, 118}, {72, 38, 119},
    {72, 40, 120}, {72, 41, 121}, {71, 42, 122}, {71, 44, 122},
    {71, 45, 123}, {71, 46, 124}, {71, 47, 125}, {70, 48, 126},
    {70, 50, 126}, {70, 51, 127}, {70, 52, 128}, {69, 53, 129},
    {69, 55, 129}, {69, 56, 130}, {68, 57, 131}, {68, 58, 131},
    {68, 59, 132}, {67, 61, 132}, {67, 62, 133}, {66, 63, 133},
    {66, 64, 134}, {66, 65, 134}, {65, 66, 135}, {65, 68, 135},
    {64, 69, 136}, {64, 70, 136}, {63, 71, 136}, {63, 72, 137},
    {62, 73, 137}, {62, 74, 137}, {62, 76, 138}, {61, 77, 138},
    {61, 78, 138}, {60, 79, 138}, {60, 80, 139}, {59, 81, 139},
    {59, 82, 139}, {58, 83, 139}, {58, 84, 140}, {57, 85, 140},
    {57, 86, 140}, {56, 88, 140}, {56, 89, 140}, {55, 90, 140},
    {55, 91, 141}, {54, 92, 141}, {54, 93, 141}, {53, 94, 141},
    {53, 95, 141}, {52, 96, 141}, {52, 97, 141}, {51, 98, 141},
    {51, 99, 141}, {50, 100, 142}, {50, 101, 142}, {49, 102, 142},
    {49, 103, 142}, {49, 104, 142}, {48, 105, 142}, {48, 106, 142},
    {47, 107, 142}, {47, 108, 142}, {46, 109, 142}, {46, 110, 142},
    {46, 111, 142}, {45, 112, 142}, {45, 113, 142}, {44, 113, 142},
    {44, 114, 142}, {44, 115, 142}, {43, 116, 142}, {43, 117, 142},
    {42, 118, 142}, {42, 119, 142}, {42, 120, 142}, {41, 121, 142},
    {41, 122, 142}, {41, 123, 142}, {40, 124, 142}, {40, 125, 142},
    {39, 126, 142}, {39, 127, 142}, {39, 128, 142}, {38, 129, 142},
    {38, 130, 142}, {38, 130, 142}, {37, 131, 142}, {37, 132, 142},
    {37, 133, 142}, {36, 134, 142}, {36, 135, 142}, {35, 136, 142},
    {35, 137, 142}, {35, 138, 141}, {34, 139, 141}, {34, 140, 141},
    {34, 141, 141}, {33, 142, 141}, {33, 143, 141}, {33, 144, 141},
    {33, 145, 140}, {32, 146, 140}, {32, 146, 140}, {32, 147, 140},
    {31, 148, 140}, {31, 149, 139}, {31, 150, 139}, {31, 151, 139},
    {31, 152, 139}, {31, 153, 138}, {31, 154, 138}, {30, 155, 138},
    {30, 156, 137}, {30, 157, 137}, {31, 158, 137}, {31, 159, 136},
    {31, 160, 136}, {31, 161, 136}, {31, 161, 135}, {31, 162, 135},
    {32, 163, 134}, {32, 164, 134}, {33, 165, 133}, {33, 166, 133},
    {34, 167, 133}, {34, 168, 132}, {35, 169, 131}, {36, 170, 131},
    {37, 171, 130}, {37, 172, 130}, {38, 173, 129}, {39, 173, 129},
    {40, 174, 128}, {41, 175, 127}, {42, 176, 127}, {44, 177, 126},
    {45, 178, 125}, {46, 179, 124}, {47, 180, 124}, {49, 181, 123},
    {50, 182, 122}, {52, 182, 121}, {53, 183, 121}, {55, 184, 120},
    {56, 185, 119}, {58, 186, 118}, {59, 187, 117}, {61, 188, 116},
    {63, 188, 115}, {64, 189, 114}, {66, 190, 113}, {68, 191, 112},
    {70, 192, 111}, {72, 193, 110}, {74, 193, 109}, {76, 194, 108},
    {78, 195, 107}, {80, 196, 106}, {82, 197, 105}, {84, 197, 104},
    {86, 198, 103}, {88, 199, 101}, {90, 200, 100}, {92, 200, 99},
    {94, 201, 98}, {96, 202, 96}, {99, 203, 95}, {101, 203, 94},
    {103, 204, 92}, {105, 205, 91}, {108, 205, 90}, {110, 206, 88},
    {112, 207, 87}, {115, 208, 86}, {117, 208, 84}, {119, 209, 83},
    {122, 209, 81}, {124, 210, 80}, {127, 211, 78}, {129, 211, 77},
    {132, 212, 75}, {134, 213, 73}, {137, 213, 72}, {139, 214, 70},
    {142, 214, 69}, {144, 215, 67}, {147, 215, 65}, {149, 216, 64},
    {152, 216, 62}, {155, 217, 60}, {157, 217, 59}, {160, 218, 57},
    {162, 218, 55}, {165, 219, 54}, {168, 219, 52}, {170, 220, 50},
    {173, 220, 48}, {176, 221, 47}, {178, 221, 45}, {181, 222, 43},
    {184, 222, 41}, {186, 222, 40}, {189, 223, 38}, {192, 223, 37},
    {194, 223, 35}, {197, 224, 33}, {200, 224, 32}, {202, 225, 31},
    {205, 225, 29}, {208, 225, 28}, {210, 226, 27}, {213, 226, 26},
    {216, 226, 25}, {218, 227, 25}, {221, 227, 24}, {223, 227, 24},
    {226, 228, 24}, {229, 228, 25}, {231, 228, 25}, {234, 229, 26},
    {236, 229, 27}, {239, 229, 28}, {241, 229, 29}, {244, 230, 30},
    {246, 230, 32}, {248, 230, 33}, {251, 231, 35}, {253, 231, 37},
}};
// clang-format on

std::uint32_t argb(Rgb c) {
  return 0xFF000000u | (std::uint32_t{c.r} << 16) | (std::uint32_t{c.g} << 8) | std::uint32_t{c.b};
}

void set_source(cairo_t* cr, Rgb c) {
  cairo().cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

const Rgb kMissing{211, 211, 211};

}  // namespace

const std::array<Rgb, 256>& viridis() { return kViridis; }

std::uint8_t viridis_index(double t) {
  if (!(t > 0)) return 0;  // also NaN
  if (t >= 1) return 255;
  return static_cast<std::uint8_t>(std::floor(t * 255.0 + 0.5));
}

Rgb viridis_at(double t) { return kViridis[viridis_index(t)]; }

struct Raster::Impl {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
};

Raster::Raster(int width, int height, Rgb background)
    : width_(width), height_(height), impl_(std::make_unique<Impl>()) {
  if (width <= 0 || height <= 0) {
    throw Error(ExitCode::kCompute, fmt::format("report: bad image size {} x {}", width, height));
  }
  impl_->surface = cairo().cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (cairo().cairo_surface_status(impl_->surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why =
        cairo().cairo_status_to_string(cairo().cairo_surface_status(impl_->surface));
    cairo().cairo_surface_destroy(impl_->surface);
    throw Error(ExitCode::kCompute,
                fmt::format("report: cannot create a {} x {} image: {}", width, height, why));
  }
  impl_->cr = cairo().cairo_create(impl_->surface);
  set_source(impl_->cr, background);
  cairo().cairo_paint(impl_->cr);
  cairo().cairo_surface_flush(impl_->surface);
}

Raster::~Raster() {
  cairo().cairo_destroy(impl_->cr);
  cairo().cairo_surface_destroy(impl_->surface);
}

void Raster::flush_direct() const { cairo().cairo_surface_mark_dirty(impl_->surface); }

void Raster::fill_disc(double cx, double cy, double radius, Rgb colour) {
  unsigned char* data = cairo().cairo_image_surface_get_data(impl_->surface);
  const int stride = cairo().cairo_image_surface_get_stride(impl_->surface);
  const std::uint32_t value = argb(colour);
  const double r2 = radius * radius;
  const int ylo = std::max(0, static_cast<int>(std::floor(cy - radius)));
  const int yhi = std::min(height_ - 1, static_cast<int>(std::floor(cy + radius)));
  const int xlo = std::max(0, static_cast<int>(std::floor(cx - radius)));
  const int xhi = std::min(width_ - 1, static_cast<int>(std::floor(cx + radius)));
  bool any = false;
  for (int py = ylo; py <= yhi; ++py) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(py) * stride);
    const double dy = py + 0.5 - cy;
    for (int px = xlo; px <= xhi; ++px) {
      const double dx = px + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) {
        row[px] = value;
        any = true;
      }
    }
  }
  if (!any) {  // a disc smaller than a pixel: the pixel holding its centre
    const int px = static_cast<int>(std::floor(cx)), py = static_cast<int>(std::floor(cy));
    if (px >= 0 && px < width_ && py >= 0 && py < height_) {
      reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(py) * stride)[px] = value;
    }
  }
}

void Raster::fill_rect(double x0, double y0, double x1, double y1, Rgb colour) {
  flush_direct();
  set_source(impl_->cr, colour);
  cairo().cairo_rectangle(impl_->cr, x0, y0, x1 - x0, y1 - y0);
  cairo().cairo_fill(impl_->cr);
  cairo().cairo_surface_flush(impl_->surface);
}

void Raster::line(double x0, double y0, double x1, double y1, double width, Rgb colour,
                  double dash) {
  flush_direct();
  cairo_t* cr = impl_->cr;
  cairo().cairo_save(cr);
  set_source(cr, colour);
  cairo().cairo_set_line_width(cr, width);
  if (dash > 0) cairo().cairo_set_dash(cr, &dash, 1, 0);
  cairo().cairo_move_to(cr, x0, y0);
  cairo().cairo_line_to(cr, x1, y1);
  cairo().cairo_stroke(cr);
  cairo().cairo_restore(cr);
  cairo().cairo_surface_flush(impl_->surface);
}

void Raster::frame(Rgb colour) {
  flush_direct();
  cairo_t* cr = impl_->cr;
  cairo().cairo_save(cr);
  set_source(cr, colour);
  cairo().cairo_set_line_width(cr, 1.0);
  cairo().cairo_rectangle(cr, 0.5, 0.5, width_ - 1.0, height_ - 1.0);
  cairo().cairo_stroke(cr);
  cairo().cairo_restore(cr);
  cairo().cairo_surface_flush(impl_->surface);
}

Rgb Raster::pixel(int x, int y) const {
  if (x < 0 || x >= width_ || y < 0 || y >= height_) {
    throw Error(ExitCode::kCompute, fmt::format("report: pixel ({}, {}) outside the image", x, y));
  }
  cairo().cairo_surface_flush(impl_->surface);
  const unsigned char* data = cairo().cairo_image_surface_get_data(impl_->surface);
  const int stride = cairo().cairo_image_surface_get_stride(impl_->surface);
  const std::uint32_t v =
      reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride)[x];
  return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

std::string Raster::png() const {
  flush_direct();
  std::string out;
  const cairo_status_t st =
      cairo().cairo_surface_write_to_png_stream(impl_->surface, append_png, &out);
  if (st != CAIRO_STATUS_SUCCESS) {
    throw Error(ExitCode::kCompute,
                fmt::format("report: PNG encoding failed: {}", cairo().cairo_status_to_string(st)));
  }
  return out;
}

MapGeometry render_map(Raster& image, std::span<const double> x, std::span<const double> y,
                       std::span<const double> value, double vmin, double vmax, int margin) {
  const std::size_t n = x.size();
  if (y.size() != n || value.size() != n) {
    throw Error(ExitCode::kCompute, "report: map coordinates and values differ in length");
  }
  MapGeometry g;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    xmin = std::min(xmin, x[i]);
    xmax = std::max(xmax, x[i]);
    ymin = std::min(ymin, y[i]);
    ymax = std::max(ymax, y[i]);
  }
  if (!(xmin <= xmax)) return g;  // nothing to draw
  const double w = std::max(1.0, image.width() - 2.0 * margin);
  const double h = std::max(1.0, image.height() - 2.0 * margin);
  const double dx = xmax - xmin, dy = ymax - ymin;
  g.scale =
      (dx > 0 || dy > 0) ? std::min(dx > 0 ? w / dx : INFINITY, dy > 0 ? h / dy : INFINITY) : 1.0;
  g.xmin = xmin;
  g.ymax = ymax;
  // Centred in the drawing area.
  g.x0 = margin + (w - g.scale * dx) / 2;
  g.y0 = margin + (h - g.scale * dy) / 2;
  // Spacing of n points spread over the occupied area, in pixels.
  const double area = std::max(1.0, (g.scale * dx + 1) * (g.scale * dy + 1));
  const double spacing = std::sqrt(area / static_cast<double>(std::max<std::size_t>(n, 1)));
  g.radius = std::clamp(0.6 * spacing, 0.7, 4.0);

  // Missing values first (grey), then by colour, the strongest last: a counting sort over the 256
  // colours, in input order within one colour (which gives the same pixels as a full sort by value,
  // as equal colours hide each other alike). Linear and reading memory in order: millions of spots
  // in about a second.
  const double span = vmax > vmin ? vmax - vmin : 1.0;
  struct Point {
    float px, py;
  };
  std::vector<std::uint8_t> colour(n);
  std::array<std::size_t, 257> start{};
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    const double px = g.x0 + g.scale * (x[i] - xmin), py = g.y0 + g.scale * (ymax - y[i]);
    if (std::isnan(value[i])) {
      image.fill_disc(px, py, g.radius, kMissing);
    } else {
      colour[i] = viridis_index((value[i] - vmin) / span);
      ++start[colour[i] + 1u];
    }
  }
  for (std::size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
  std::vector<Point> points(start.back());
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || std::isnan(value[i])) continue;
    points[start[colour[i]]++] = {static_cast<float>(g.x0 + g.scale * (x[i] - xmin)),
                                  static_cast<float>(g.y0 + g.scale * (ymax - y[i]))};
  }
  // start[c] is now the end of colour c's points.
  std::size_t k = 0;
  for (std::size_t c = 0; c < 256; ++c) {
    for (; k < start[c]; ++k) image.fill_disc(points[k].px, points[k].py, g.radius, kViridis[c]);
  }
  return g;
}

std::string colour_bar_png(int width, int height) {
  Raster bar(width, height, Rgb{255, 255, 255});
  for (int px = 0; px < width; ++px) {
    const Rgb c = viridis_at(width > 1 ? px / (width - 1.0) : 0.0);
    bar.fill_rect(px, 0, px + 1, height, c);
  }
  return bar.png();
}

std::string bar_chart_png(std::span<const double> value, double threshold, double vmax, int width,
                          int row_height) {
  const int rows = static_cast<int>(std::max<std::size_t>(value.size(), 1));
  Raster chart(width, rows * row_height, Rgb{255, 255, 255});
  const double scale = vmax > 0 ? (width - 2.0) / vmax : 0.0;
  const Rgb strong{49, 104, 142}, weak{170, 190, 205}, axis{80, 80, 80}, line{200, 30, 30};
  for (std::size_t i = 0; i < value.size(); ++i) {
    const double v = std::isfinite(value[i]) ? std::max(0.0, value[i]) : vmax;
    const double top = static_cast<double>(i) * row_height + 0.15 * row_height;
    const double bottom = static_cast<double>(i + 1) * row_height - 0.15 * row_height;
    chart.fill_rect(1, top, 1 + std::min(v, vmax) * scale, bottom, v >= threshold ? strong : weak);
  }
  chart.line(0.5, 0, 0.5, chart.height(), 1.0, axis);
  if (threshold <= vmax) {
    // Two whole pixel columns (no anti-aliased edge): [tx - 1, tx + 1).
    const double tx = std::round(1 + threshold * scale);
    chart.line(tx, 0, tx, chart.height(), 2.0, line, 4.0);
  }
  return chart.png();
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace gsmap::report
