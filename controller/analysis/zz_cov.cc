#include <cstdio>
#include <cmath>
#include "controller/analysis/mann_whitney.h"
#include "controller/analysis/deterministic_random.h"
using namespace faultline::analysis;
int main() {
  for (int mode = 0; mode < 2; ++mode)
  for (uint64_t seed : {1, 2, 3}) {
    DeterministicRandom r(seed);
    int n = 20; int rej = 0; const int T = 40000;
    for (int t = 0; t < T; ++t) {
      std::vector<double> a, c;
      for (int i = 0; i < n; ++i) a.push_back(mode ? r.Uniform01() : r.Normal());
      for (int i = 0; i < n; ++i) c.push_back(mode ? r.Uniform01() : r.Normal());
      rej += MannWhitneyU(a, c)->p_value <= 0.05;
    }
    printf("mode %d seed %d rejection %.4f\n", mode, (int)seed, rej / double(T));
  }
}
