// fma_peak: the machine's peak floating-point rate, measured by a loop of independent fused
// multiply-adds that never touches memory. Prints, one per line (bench/compare.sh parses them):
//
//   isa avx2-fma | sse2
//   f64_per_core_gflops X    one thread, f64 (an FMA counts as 2 flops)
//   f32_per_core_gflops X    one thread, f32
//   f64_all_cores_gflops X   one thread per core at once, summed
//   cores N
//
// Rates are per second of the thread's CPU time, so a busy machine (other processes taking turns
// on the cores) does not lower them; two threads on one physical core (SMT) do.
//
// The benchmark reports achieved LDSC flop/s as a fraction of these figures. Usage:
//   fma_peak [seconds per measurement, default 0.5]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FMA_PEAK_X86 1
#endif

namespace {

constexpr int kChains = 16;  // independent chains (> FMA latency x ports); 16 measured best

// Runs `iterations` x kChains FMAs on vectors of `lanes` elements; returns a value that depends
// on every accumulator, so the compiler cannot drop the loop.
#if FMA_PEAK_X86
__attribute__((target("avx2,fma"))) double loop_avx2_f64(std::int64_t iterations) {
  __m256d acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_pd(1.0 + 1e-3 * c);
  const __m256d a = _mm256_set1_pd(0.999999999);
  const __m256d b = _mm256_set1_pd(1e-9);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_pd(acc[c], a, b);
  }
  __m256d s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_pd(s, acc[c]);
  alignas(32) double out[4];
  _mm256_store_pd(out, s);
  return out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx2,fma"))) double loop_avx2_f32(std::int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + 1e-3f * static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.9999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  double r = 0;
  for (float v : out) r += static_cast<double>(v);
  return r;
}

bool have_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool have_avx2_fma() { return false; }
#endif

// Portable fallback: scalar-written chains the compiler vectorises for the baseline ISA (a
// multiply and an add, 2 flops, per element and iteration).
template <class T, int kLanes>
double loop_generic(std::int64_t iterations) {
  T acc[kChains][kLanes];
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) acc[c][l] = static_cast<T>(1.0 + 1e-3 * (c + l));
  const T a = static_cast<T>(0.9999999), b = static_cast<T>(1e-7);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kChains; ++c)
      for (int l = 0; l < kLanes; ++l) acc[c][l] = acc[c][l] * a + b;
  }
  double s = 0;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) s += static_cast<double>(acc[c][l]);
  return s;
}

struct Kernel {
  double (*run)(std::int64_t);
  double flops_per_iteration;
};

Kernel kernel_f64(bool avx2) {
#if FMA_PEAK_X86
  if (avx2) return {loop_avx2_f64, 2.0 * 4 * kChains};
#endif
  (void)avx2;
  return {loop_generic<double, 2>, 2.0 * 2 * kChains};
}

Kernel kernel_f32(bool avx2) {
#if FMA_PEAK_X86
  if (avx2) return {loop_avx2_f32, 2.0 * 8 * kChains};
#endif
  (void)avx2;
  return {loop_generic<float, 4>, 2.0 * 4 * kChains};
}

volatile double g_sink = 0;

// CPU time of the calling thread: on a shared machine the loop is timed while it runs, not while
// other processes hold its core.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Best of 5 timed runs of about `seconds` / 5 CPU seconds each (the best run is the least
// disturbed).
double gflops(const Kernel& k, double seconds) {
  std::int64_t iterations = 1 << 16;
  for (;;) {  // calibrate
    const double t0 = thread_seconds();
    g_sink = g_sink + k.run(iterations);
    const double dt = thread_seconds() - t0;
    if (dt > 0.02) {
      iterations = std::max<std::int64_t>(
          1, static_cast<std::int64_t>(static_cast<double>(iterations) * seconds / 5 / dt));
      break;
    }
    iterations *= 4;
  }
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = thread_seconds();
    g_sink = g_sink + k.run(iterations);
    const double dt = thread_seconds() - t0;
    best = std::max(best, k.flops_per_iteration * static_cast<double>(iterations) / dt / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  if (!(seconds > 0)) {
    std::fprintf(stderr, "fma_peak: '%s' is not a positive number of seconds\n", argv[1]);
    return 2;
  }
  const bool avx2 = have_avx2_fma();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const Kernel k64 = kernel_f64(avx2), k32 = kernel_f32(avx2);
  std::printf("isa %s\n", avx2 ? "avx2-fma" : "generic");
  std::printf("f64_per_core_gflops %.2f\n", gflops(k64, seconds));
  std::printf("f32_per_core_gflops %.2f\n", gflops(k32, seconds));
  std::vector<double> per(cores, 0.0);
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < cores; ++c)
    threads.emplace_back([&, c] { per[c] = gflops(k64, seconds); });
  for (auto& t : threads) t.join();
  double all = 0;
  for (double v : per) all += v;
  std::printf("f64_all_cores_gflops %.2f\n", all);
  std::printf("cores %u\n", cores);
  return 0;
}
