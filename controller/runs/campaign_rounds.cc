#include "controller/runs/campaign_rounds.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace faultline::controller::runs {
namespace {

uint32_t RepetitionsPerRound(const v1::CampaignSpec& spec) {
  return std::max<uint32_t>(1, spec.repetitions_per_job());
}

}  // namespace

int CampaignRounds(const v1::CampaignSpec& spec) {
  const uint32_t per_round = RepetitionsPerRound(spec);
  uint32_t fewest = 0;
  for (const v1::BenchmarkInvocation& inv : spec.suite()) {
    const uint32_t reps = inv.repetitions() != 0 ? inv.repetitions() : spec.repetitions();
    const uint32_t rounds = (reps + per_round - 1) / per_round;
    fewest = fewest == 0 ? rounds : std::min(fewest, rounds);
  }
  return static_cast<int>(std::max<uint32_t>(1, fewest));
}

v1::CampaignSpec CampaignStep(const v1::CampaignSpec& first, const std::string& first_id, int step,
                              int rounds) {
  v1::CampaignSpec out = first;
  const uint32_t reps = static_cast<uint32_t>(rounds) * RepetitionsPerRound(first);
  out.set_repetitions(reps);
  for (v1::BenchmarkInvocation& inv : *out.mutable_suite()) inv.set_repetitions(reps);
  // Names are at most 128 characters; " step N" fits after 100 of the first's.
  out.set_name(absl::StrCat(first.name().substr(0, 100), " step ", step));
  (*out.mutable_labels())["rounds_of"] = first_id;
  return out;
}

}  // namespace faultline::controller::runs
