// The rounds of an interleaved campaign, for campaigns that run until they can decide: how many
// rounds (runs per side) a spec holds, and the spec of a further step of k rounds. Used by the
// gate (gate_runner.cc) and faultlinectl submit --until_decided, which run a campaign per step.
#ifndef FAULTLINE_CONTROLLER_RUNS_CAMPAIGN_ROUNDS_H_
#define FAULTLINE_CONTROLLER_RUNS_CAMPAIGN_ROUNDS_H_

#include <string>

#include "proto/faultline/v1/campaign.pb.h"

namespace faultline::controller::runs {

// Rounds of an interleaved `spec`: its fewest repetitions over one job's (repetitions_per_job,
// at least 1), at least 1. Invocations without repetitions take the campaign's.
int CampaignRounds(const v1::CampaignSpec& spec);

// `first` with every invocation at `rounds` rounds of its repetitions per job, named "NAME step
// STEP" and labelled rounds_of=FIRST_ID.
v1::CampaignSpec CampaignStep(const v1::CampaignSpec& first, const std::string& first_id, int step,
                              int rounds);

}  // namespace faultline::controller::runs

#endif  // FAULTLINE_CONTROLLER_RUNS_CAMPAIGN_ROUNDS_H_
