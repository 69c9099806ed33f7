// A seeded random source whose sequence is the same on every platform and standard library:
// std::mt19937_64's output is fixed by the C++ standard, but std::uniform_int_distribution and
// std::normal_distribution are not, so the draws below are done by hand. Bootstrap intervals and
// synthetic benchmark data therefore reproduce exactly from their seed.
#ifndef FAULTLINE_CONTROLLER_ANALYSIS_DETERMINISTIC_RANDOM_H_
#define FAULTLINE_CONTROLLER_ANALYSIS_DETERMINISTIC_RANDOM_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>

namespace faultline::controller::analysis {

class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : engine_(seed) {}

  uint64_t NextBits() { return engine_(); }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) for n > 0, without modulo bias (rejection of the short last bucket).
  size_t UniformIndex(size_t n) {
    const uint64_t bound = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return static_cast<size_t>(x % bound);
  }

  // Standard normal draw (Box-Muller; the second variate is cached).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do {
      u1 = Uniform01();
    } while (u1 <= 0);
    const double u2 = Uniform01();
    const double radius = std::sqrt(-2 * std::log(u1));
    spare_ = radius * std::sin(2 * M_PI * u2);
    has_spare_ = true;
    return radius * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace faultline::controller::analysis

#endif  // FAULTLINE_CONTROLLER_ANALYSIS_DETERMINISTIC_RANDOM_H_
