// Renders stored runs for people (an aligned table of per-run metric summaries) and for tools
// (CSV of raw samples, JSON of the runs).
#ifndef FAULTLINE_CONTROLLER_CLI_RESULTS_TABLE_H_
#define FAULTLINE_CONTROLLER_CLI_RESULTS_TABLE_H_

#include <string>
#include <vector>

#include "proto/faultline/v1/campaign_service.pb.h"

namespace faultline::controller::cli {

// One line per (run, metric): where it ran, the kernel, the parameters, and the median, min,
// max and coefficient of variation over the run's repetitions. Runs that did not succeed get
// one line with their state and diagnostic.
std::string FormatResultsTable(const std::vector<v1::StoredRun>& runs);

// One CSV row per (run, repetition, metric), with a header; fields quoted per RFC 4180.
// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or newline.
std::string CsvField(const std::string& s);

std::string FormatResultsCsv(const std::vector<v1::StoredRun>& runs);

// The runs as JSON (protobuf's canonical JSON mapping), one object with a "runs" array.
std::string FormatResultsJson(const std::vector<v1::StoredRun>& runs);

// "[##########----------]  5/10 jobs  running 1  failed 0" for a campaign's progress.
std::string FormatProgressBar(const v1::Campaign& campaign, int width = 30);

// "k=v,k=v" with keys sorted.
std::string FormatParams(const google::protobuf::Map<std::string, v1::ParamValue>& params);

}  // namespace faultline::controller::cli

#endif  // FAULTLINE_CONTROLLER_CLI_RESULTS_TABLE_H_
