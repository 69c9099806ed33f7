#include "controller/service/sequential_proto.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace faultline::controller::service {

analysis::SequentialLook SequentialLookFromProto(const v1::SequentialLookAt& look) {
  return {static_cast<int>(look.previous_rounds()), static_cast<int>(look.rounds()),
          static_cast<int>(look.max_rounds())};
}

void SequentialLookToProto(const analysis::SequentialLook& look, v1::SequentialLookAt* out) {
  out->set_previous_rounds(static_cast<uint32_t>(look.previous_blocks));
  out->set_rounds(static_cast<uint32_t>(look.blocks));
  out->set_max_rounds(static_cast<uint32_t>(look.max_blocks));
}

void LookRecordToProto(const runs::LookRecord& record, v1::SequentialLook* out) {
  out->set_previous_rounds(static_cast<uint32_t>(record.look.previous_blocks));
  out->set_rounds(static_cast<uint32_t>(record.look.blocks));
  out->set_max_rounds(static_cast<uint32_t>(record.look.max_blocks));
  out->set_level(record.level);
  out->set_decision(analysis::LookDecisionName(record.outcome.decision));
  out->set_undecided(static_cast<uint32_t>(record.outcome.undecided));
  out->set_additional_rounds(static_cast<uint32_t>(record.outcome.additional_blocks));
  out->set_reason(record.outcome.reason);
  out->set_elapsed_seconds(absl::ToDoubleSeconds(record.elapsed));
}

v1::SequentialOutcome RoundsReportToProto(const runs::RoundsReport& in,
                                          const std::vector<std::string>& campaign_ids) {
  v1::SequentialOutcome out;
  for (const runs::LookRecord& l : in.looks) LookRecordToProto(l, out.add_looks());
  out.set_rounds(static_cast<uint32_t>(in.rounds));
  out.set_max_rounds(static_cast<uint32_t>(in.max_rounds));
  out.set_decided(in.decided);
  out.set_decided_at_look(static_cast<uint32_t>(in.decided_at_look));
  out.set_additional_rounds_needed(static_cast<uint32_t>(in.additional_rounds_needed));
  out.set_stop_reason(in.stop_reason);
  for (const std::string& id : campaign_ids) out.add_campaign_ids(id);
  return out;
}

std::string FormatSequentialOutcome(const v1::SequentialOutcome& s) {
  std::string out;
  for (int i = 0; i < s.looks_size(); ++i) {
    const v1::SequentialLook& l = s.looks(i);
    absl::StrAppendFormat(&out,
                          "until decided: look %d at %u of %u rounds per side (level %.3g, %.0f "
                          "s): %s: %s\n",
                          i + 1, l.rounds(), l.max_rounds(), l.level(), l.elapsed_seconds(),
                          l.decision(), l.reason());
  }
  std::string campaigns;
  for (const std::string& id : s.campaign_ids()) absl::StrAppend(&campaigns, " ", id);
  absl::StrAppendFormat(&out, "until decided: %u rounds in %d looks (campaigns%s); %s\n",
                        s.rounds(), s.looks_size(), campaigns, s.stop_reason());
  return out;
}

}  // namespace faultline::controller::service
