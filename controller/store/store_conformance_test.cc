#include "controller/store/store_conformance_test.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controller/store/store_encoding.h"

namespace faultline::controller::store {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1800000000);

v1::CampaignSpec MakeSpec(const std::string& name, v1::Priority priority = v1::PRIORITY_NIGHTLY) {
  v1::CampaignSpec spec;
  spec.set_name(name);
  spec.set_priority(priority);
  spec.add_suite()->set_benchmark("fault_anon");
  spec.add_targets()->set_kernel_label("stock");
  spec.add_targets()->set_kernel_label("patched/*");
  return spec;
}

std::vector<v1::Job> MakeJobs(int n) {
  std::vector<v1::Job> jobs;
  for (int i = 0; i < n; ++i) {
    v1::Job job;
    job.mutable_invocation()->set_benchmark("fault_anon");
    job.set_target_index(i % 2);
    job.mutable_target()->set_kernel_label(i % 2 == 0 ? "stock" : "patched/*");
    job.set_sequence(i);
    jobs.push_back(job);
  }
  return jobs;
}

// A result with `reps` repetitions of metrics "ns_per_fault" (10 + rep) and "faults_per_sec".
v1::RunResult MakeResult(v1::RunState state = v1::RUN_STATE_OK, int reps = 3,
                         const std::string& kernel_label = "stock",
                         v1::Arch arch = v1::ARCH_X86_64, absl::Time started = kT0) {
  v1::RunResult result;
  result.set_benchmark("fault_anon");
  result.set_state(state);
  result.mutable_host()->set_arch(arch);
  result.mutable_host()->set_kernel_label(kernel_label);
  result.mutable_host()->set_kernel_release("6.1.0-27-amd64");
  result.mutable_host()->set_host_class("x86_64-2cpu-4g-kvm");
  *result.mutable_started() = ToProtoTime(started);
  *result.mutable_finished() = ToProtoTime(started + absl::Seconds(30));
  for (int r = 0; r < reps; ++r) {
    v1::Repetition* rep = result.add_repetitions();
    rep->set_index(r);
    v1::MetricValue* ns = rep->add_metrics();
    ns->set_name("ns_per_fault");
    ns->set_unit("ns");
    ns->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    ns->set_value(10 + r);
    v1::MetricValue* rate = rep->add_metrics();
    rate->set_name("faults_per_sec");
    rate->set_unit("1/s");
    rate->set_direction(v1::DIRECTION_HIGHER_IS_BETTER);
    rate->set_value(1e8 / (10 + r));
  }
  return result;
}

// Creates a campaign, returning its id.
std::string Create(Store& store, int jobs, const std::string& name = "nightly",
                   v1::Priority priority = v1::PRIORITY_NIGHTLY, absl::Time now = kT0) {
  absl::StatusOr<v1::Campaign> campaign =
      store.CreateCampaign(MakeSpec(name, priority), MakeJobs(jobs), now);
  EXPECT_TRUE(campaign.ok()) << campaign.status();
  return campaign.ok() ? campaign->id() : "";
}

std::string JobId(const std::string& campaign_id, int n) {
  return absl::StrCat(campaign_id, "/j-000", n);
}

// Leases and records an OK result for one job.
void Complete(Store& store, const std::string& job_id, const v1::RunResult& result,
              const std::string& agent = "agent-a") {
  const std::string lease = "lease-" + job_id;
  ASSERT_EQ(store.LeaseJob(job_id, agent, lease, kT0 + absl::Minutes(5), kT0).value_or(false),
            true);
  absl::StatusOr<ReportOutcome> outcome = store.RecordResult(job_id, 1, lease, agent, result, kT0);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(*outcome, ReportOutcome::kStored);
}

v1::Job FindJob(Store& store, const std::string& job_id) {
  std::string campaign_id = job_id.substr(0, job_id.find('/'));
  absl::StatusOr<std::vector<v1::Job>> jobs = store.ListJobs(campaign_id);
  if (!jobs.ok()) {
    ADD_FAILURE() << jobs.status();
    return v1::Job();
  }
  for (const v1::Job& job : *jobs) {
    if (job.id() == job_id) return job;
  }
  ADD_FAILURE() << "no job " << job_id;
  return v1::Job();
}

}  // namespace

void StoreConformanceTest::SetUp() {
  backend_ = GetParam()();
  ASSERT_NE(backend_, nullptr);
  absl::StatusOr<std::unique_ptr<Store>> store = backend_->Open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
}

TEST_P(StoreConformanceTest, CreateCampaignAssignsIdsAndCountsProgress) {
  absl::StatusOr<v1::Campaign> first = store_->CreateCampaign(MakeSpec("one"), MakeJobs(3), kT0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id(), "c-000001");
  EXPECT_EQ(first->spec().name(), "one");
  EXPECT_EQ(first->state(), v1::CAMPAIGN_STATE_PENDING);
  EXPECT_EQ(first->progress().jobs_total(), 3u);
  EXPECT_EQ(first->progress().jobs_queued(), 3u);
  EXPECT_EQ(FromProtoTime(first->created()), kT0);
  EXPECT_FALSE(first->has_finished());

  absl::StatusOr<v1::Campaign> second = store_->CreateCampaign(MakeSpec("two"), MakeJobs(1), kT0);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->id(), "c-000002");

  absl::StatusOr<std::vector<v1::Job>> jobs = store_->ListJobs("c-000001");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*jobs)[i].id(), absl::StrCat("c-000001/j-000", i + 1));
    EXPECT_EQ((*jobs)[i].campaign_id(), "c-000001");
    EXPECT_EQ((*jobs)[i].state(), v1::JOB_STATE_QUEUED);
    EXPECT_EQ((*jobs)[i].attempt(), 0u);
    EXPECT_EQ((*jobs)[i].invocation().benchmark(), "fault_anon");
    EXPECT_EQ((*jobs)[i].target_index(), static_cast<uint32_t>(i % 2));
  }

  absl::StatusOr<v1::Campaign> got = store_->GetCampaign("c-000001");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->spec().targets_size(), 2);
  EXPECT_EQ(got->progress().jobs_total(), 3u);
}

TEST_P(StoreConformanceTest, CreateCampaignRejectsBadInputAndStoresNothing) {
  absl::StatusOr<v1::Campaign> empty = store_->CreateCampaign(MakeSpec("x"), {}, kT0);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<v1::Job> jobs = MakeJobs(3);
  jobs[2].set_target_index(7);
  absl::StatusOr<v1::Campaign> bad = store_->CreateCampaign(MakeSpec("x"), jobs, kT0);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "jobs[2].target_index"))
      << bad.status();
  EXPECT_TRUE(store_->ListCampaigns(10).value().empty());
  EXPECT_TRUE(store_->ListQueuedJobs(10).value().empty());
}

TEST_P(StoreConformanceTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(store_->GetCampaign("c-000099").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListJobs("c-000099").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->CancelCampaign("c-000099", kT0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LeaseJob("c-000099/j-0001", "a", "l", kT0, kT0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->RenewLease("c-000099/j-0001", "l", kT0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetLease("c-000099/j-0001").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordResult("c-000099/j-0001", 1, "l", "a", MakeResult(), kT0)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetAgent("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->TouchAgent("nobody", 1, "", kT0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetRunSummaries(12345).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, ListCampaignsNewestFirst) {
  Create(*store_, 1, "a");
  Create(*store_, 1, "b");
  Create(*store_, 1, "c");
  absl::StatusOr<std::vector<v1::Campaign>> campaigns = store_->ListCampaigns(2);
  ASSERT_TRUE(campaigns.ok()) << campaigns.status();
  ASSERT_EQ(campaigns->size(), 2u);
  EXPECT_EQ((*campaigns)[0].spec().name(), "c");
  EXPECT_EQ((*campaigns)[1].spec().name(), "b");
  EXPECT_EQ(store_->ListCampaigns(0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, QueuedJobsByPriorityThenAgeThenSequence) {
  std::string nightly = Create(*store_, 2, "nightly", v1::PRIORITY_NIGHTLY, kT0);
  std::string gate = Create(*store_, 2, "gate", v1::PRIORITY_GATE, kT0 + absl::Minutes(2));
  std::string older_gate = Create(*store_, 1, "gate0", v1::PRIORITY_GATE, kT0 + absl::Minutes(1));
  absl::StatusOr<std::vector<QueuedJob>> queued = store_->ListQueuedJobs(10);
  ASSERT_TRUE(queued.ok()) << queued.status();
  std::vector<std::string> ids;
  for (const QueuedJob& q : *queued) ids.push_back(q.job.id());
  EXPECT_EQ(ids, (std::vector<std::string>{JobId(older_gate, 1), JobId(gate, 1), JobId(gate, 2),
                                           JobId(nightly, 1), JobId(nightly, 2)}));
  EXPECT_EQ((*queued)[0].priority, v1::PRIORITY_GATE);
  EXPECT_EQ((*queued)[0].campaign_created, kT0 + absl::Minutes(1));
  EXPECT_EQ((*queued)[4].priority, v1::PRIORITY_NIGHTLY);

  EXPECT_EQ(store_->CountQueuedJobsByPriority().value(),
            (std::map<int, int64_t>{{v1::PRIORITY_NIGHTLY, 2}, {v1::PRIORITY_GATE, 3}}));

  ASSERT_TRUE(store_->LeaseJob(JobId(gate, 1), "a", "l1", kT0 + absl::Minutes(5), kT0).value());
  EXPECT_EQ(store_->ListQueuedJobs(10)->size(), 4u);
  EXPECT_EQ(store_->ListQueuedJobs(2)->size(), 2u);
  EXPECT_EQ(store_->CountQueuedJobsByPriority().value(),
            (std::map<int, int64_t>{{v1::PRIORITY_NIGHTLY, 2}, {v1::PRIORITY_GATE, 2}}));
  ASSERT_TRUE(store_->CancelCampaign(nightly, kT0 + absl::Minutes(3)).ok());
  EXPECT_EQ(store_->CountQueuedJobsByPriority().value(),
            (std::map<int, int64_t>{{v1::PRIORITY_GATE, 2}}));
}

TEST_P(StoreConformanceTest, LeaseIsCompareAndSet) {
  std::string c = Create(*store_, 2);
  const std::string job = JobId(c, 1);
  absl::StatusOr<bool> first = store_->LeaseJob(job, "agent-a", "lease-a", kT0 + absl::Minutes(5), kT0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  absl::StatusOr<bool> second = store_->LeaseJob(job, "agent-b", "lease-b", kT0 + absl::Minutes(5), kT0);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);

  absl::StatusOr<Lease> lease = store_->GetLease(job);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->agent_id, "agent-a");
  EXPECT_EQ(lease->lease_id, "lease-a");
  EXPECT_EQ(lease->attempt, 1u);
  EXPECT_EQ(lease->deadline, kT0 + absl::Minutes(5));
  v1::Job stored = FindJob(*store_, job);
  EXPECT_EQ(stored.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(stored.agent_id(), "agent-a");

  absl::StatusOr<v1::Campaign> campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_RUNNING);
  EXPECT_EQ(campaign->progress().jobs_running(), 1u);
  EXPECT_EQ(campaign->progress().jobs_queued(), 1u);
  EXPECT_EQ(store_->GetLease(JobId(c, 2)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LeaseJob(job, "", "x", kT0, kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Many threads race for the same jobs through one store: every job is won exactly once.
TEST_P(StoreConformanceTest, LeaseRaceAcrossThreads) {
  constexpr int kJobs = 40;
  constexpr int kThreads = 8;
  std::string c = Create(*store_, kJobs);
  std::vector<std::atomic<int>> wins(kJobs);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) {
        std::string job = absl::StrCat(c, "/j-", j < 9 ? "000" : "00", j + 1);
        absl::StatusOr<bool> won = store_->LeaseJob(job, absl::StrCat("agent-", t),
                                                    absl::StrCat("lease-", t, "-", j),
                                                    kT0 + absl::Minutes(5), kT0);
        if (!won.ok()) {
          ++errors;
        } else if (*won) {
          ++wins[j];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  for (int j = 0; j < kJobs; ++j) EXPECT_EQ(wins[j].load(), 1) << "job " << j;
  EXPECT_EQ(store_->GetCampaign(c)->progress().jobs_running(), static_cast<uint32_t>(kJobs));
}

// Several connections (as several controller replicas would hold) race for the same jobs.
TEST_P(StoreConformanceTest, LeaseRaceAcrossConnections) {
  constexpr int kJobs = 30;
  constexpr int kConnections = 4;
  std::string c = Create(*store_, kJobs);
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<std::unique_ptr<Store>> replica = backend_->Open();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replicas.push_back(*std::move(replica));
  }
  std::vector<std::atomic<int>> wins(kJobs);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kConnections; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kJobs; ++j) {
        std::string job = absl::StrCat(c, "/j-", j < 9 ? "000" : "00", j + 1);
        absl::StatusOr<bool> won = replicas[t]->LeaseJob(
            job, absl::StrCat("agent-", t), absl::StrCat("lease-", t, "-", j),
            kT0 + absl::Minutes(5), kT0);
        if (!won.ok()) {
          ADD_FAILURE() << won.status();
          ++errors;
        } else if (*won) {
          ++wins[j];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  for (int j = 0; j < kJobs; ++j) EXPECT_EQ(wins[j].load(), 1) << "job " << j;
}

// Replicas lease and report concurrently: every job runs once, every result is stored once,
// and whichever replica closes the last job finishes the campaign.
TEST_P(StoreConformanceTest, ReplicasCompleteACampaignTogether) {
  constexpr int kJobs = 24;
  constexpr int kReplicas = 4;
  std::string c = Create(*store_, kJobs);
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    absl::StatusOr<std::unique_ptr<Store>> replica = backend_->Open();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replicas.push_back(*std::move(replica));
  }
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kReplicas; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *replicas[t];
      const std::string agent = absl::StrCat("agent-", t);
      for (int round = 0; round < 100; ++round) {
        absl::StatusOr<std::vector<QueuedJob>> queued = store.ListQueuedJobs(3);
        if (!queued.ok()) {
          ADD_FAILURE() << queued.status();
          return;
        }
        if (queued->empty()) return;
        for (const QueuedJob& q : *queued) {
          const std::string lease = absl::StrCat("lease-", t, "-", q.job.id());
          absl::StatusOr<bool> won =
              store.LeaseJob(q.job.id(), agent, lease, kT0 + absl::Minutes(5), kT0);
          if (!won.ok()) ADD_FAILURE() << won.status();
          if (!won.ok() || !*won) continue;
          absl::StatusOr<ReportOutcome> outcome =
              store.RecordResult(q.job.id(), 1, lease, agent, MakeResult(), kT0);
          if (!outcome.ok()) {
            ADD_FAILURE() << outcome.status();
          } else if (*outcome == ReportOutcome::kStored) {
            ++stored;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stored.load(), kJobs);
  RunQuery all;
  EXPECT_EQ(store_->QueryRuns(all)->size(), static_cast<size_t>(kJobs));
  absl::StatusOr<v1::Campaign> campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
  EXPECT_EQ(campaign->progress().jobs_succeeded(), static_cast<uint32_t>(kJobs));
}

TEST_P(StoreConformanceTest, RenewOnlyTheCurrentLease) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(1), kT0).value());
  EXPECT_TRUE(store_->RenewLease(job, "lease-1", kT0 + absl::Minutes(3)).ok());
  EXPECT_EQ(store_->GetLease(job)->deadline, kT0 + absl::Minutes(3));
  absl::Status wrong = store_->RenewLease(job, "lease-other", kT0 + absl::Minutes(9));
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition) << wrong;

  // The lease expires, the job is requeued and leased again: the old lease is stale.
  EXPECT_EQ(store_->ExpireLeases(kT0 + absl::Minutes(4), 3).value(), 1);
  ASSERT_TRUE(store_->LeaseJob(job, "b", "lease-2", kT0 + absl::Minutes(10), kT0).value());
  EXPECT_EQ(store_->RenewLease(job, "lease-1", kT0 + absl::Minutes(20)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetLease(job)->deadline, kT0 + absl::Minutes(10));
}

TEST_P(StoreConformanceTest, ExpireRequeuesThenFailsAfterMaxAttempts) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(1), kT0).value());
  // Not yet expired.
  EXPECT_EQ(store_->ExpireLeases(kT0 + absl::Seconds(30), 2).value(), 0);
  EXPECT_EQ(FindJob(*store_, job).state(), v1::JOB_STATE_RUNNING);

  EXPECT_EQ(store_->ExpireLeases(kT0 + absl::Minutes(2), 2).value(), 1);
  v1::Job requeued = FindJob(*store_, job);
  EXPECT_EQ(requeued.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(requeued.attempt(), 1u);
  EXPECT_TRUE(absl::StrContains(requeued.diagnostic(), "lease expired")) << requeued.diagnostic();
  EXPECT_EQ(store_->GetCampaign(c)->state(), v1::CAMPAIGN_STATE_RUNNING);

  ASSERT_TRUE(store_->LeaseJob(job, "b", "lease-2", kT0 + absl::Minutes(3), kT0).value());
  EXPECT_EQ(store_->GetLease(job)->attempt, 2u);
  EXPECT_EQ(store_->ExpireLeases(kT0 + absl::Minutes(4), 2).value(), 1);
  v1::Job failed = FindJob(*store_, job);
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_TRUE(absl::StrContains(failed.diagnostic(), "attempt 1 on a")) << failed.diagnostic();
  EXPECT_TRUE(absl::StrContains(failed.diagnostic(), "attempt 2 on b")) << failed.diagnostic();
  absl::StatusOr<v1::Campaign> campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_FAILED);
  EXPECT_EQ(FromProtoTime(campaign->finished()), kT0 + absl::Minutes(4));
  EXPECT_EQ(store_->ExpireLeases(kT0 + absl::Minutes(5), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Replicas reaping leases at the same time requeue each expired job exactly once.
TEST_P(StoreConformanceTest, ExpireLeasesRaceAcrossConnections) {
  constexpr int kJobs = 12;
  constexpr int kReplicas = 4;
  std::string c = Create(*store_, kJobs);
  for (int j = 1; j <= kJobs; ++j) {
    std::string job = absl::StrCat(c, "/j-", j < 10 ? "000" : "00", j);
    ASSERT_TRUE(store_->LeaseJob(job, "a", absl::StrCat("l", j), kT0 + absl::Minutes(1), kT0)
                    .value_or(false));
  }
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    absl::StatusOr<std::unique_ptr<Store>> replica = backend_->Open();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replicas.push_back(*std::move(replica));
  }
  std::atomic<int> touched{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kReplicas; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<int> n = replicas[t]->ExpireLeases(kT0 + absl::Minutes(2), 3);
      if (!n.ok()) {
        ADD_FAILURE() << n.status();
        return;
      }
      touched += *n;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(touched.load(), kJobs);
  for (const v1::Job& job : store_->ListJobs(c).value_or(std::vector<v1::Job>{})) {
    EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED) << job.id();
    EXPECT_EQ(job.attempt(), 1u) << job.id();
    EXPECT_EQ(job.diagnostic(), "attempt 1 on a: lease expired") << job.id();
  }
}

TEST_P(StoreConformanceTest, RecordResultStoresRunSamplesAndSummaries) {
  std::string c = Create(*store_, 2);
  Complete(*store_, JobId(c, 1), MakeResult(v1::RUN_STATE_OK, 4));
  EXPECT_EQ(FindJob(*store_, JobId(c, 1)).state(), v1::JOB_STATE_SUCCEEDED);
  absl::StatusOr<v1::Campaign> campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_RUNNING);
  EXPECT_EQ(campaign->progress().jobs_succeeded(), 1u);

  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  const StoredRunRecord& run = (*runs)[0];
  EXPECT_EQ(run.campaign_id, c);
  EXPECT_EQ(run.job_id, JobId(c, 1));
  EXPECT_EQ(run.attempt, 1u);
  EXPECT_EQ(run.agent_id, "agent-a");
  EXPECT_EQ(run.target_name, "stock");
  EXPECT_EQ(run.stored, kT0);
  EXPECT_EQ(run.result.SerializeAsString(), MakeResult(v1::RUN_STATE_OK, 4).SerializeAsString());

  SampleQuery query;
  query.run_id = run.run_id;
  query.metric = "ns_per_fault";
  absl::StatusOr<std::vector<SampleRecord>> samples = store_->QuerySamples(query);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 4u);
  EXPECT_EQ((*samples)[3].repetition, 3u);
  EXPECT_EQ((*samples)[3].value, 13);
  EXPECT_EQ((*samples)[3].unit, "ns");
  EXPECT_EQ((*samples)[3].direction, v1::DIRECTION_LOWER_IS_BETTER);
  EXPECT_EQ((*samples)[3].arch, v1::ARCH_X86_64);
  EXPECT_EQ((*samples)[3].kernel_label, "stock");
  EXPECT_EQ((*samples)[3].host_class, "x86_64-2cpu-4g-kvm");
  EXPECT_EQ((*samples)[3].time, kT0);
  query.metric = "";
  EXPECT_EQ(store_->QuerySamples(query)->size(), 8u);

  absl::StatusOr<std::vector<MetricSummary>> summaries = store_->GetRunSummaries(run.run_id);
  ASSERT_TRUE(summaries.ok()) << summaries.status();
  ASSERT_EQ(summaries->size(), 2u);
  const MetricSummary& ns = (*summaries)[1];  // Sorted by metric name.
  EXPECT_EQ(ns.metric, "ns_per_fault");
  EXPECT_EQ(ns.count, 4);
  EXPECT_DOUBLE_EQ(ns.mean, 11.5);
  EXPECT_DOUBLE_EQ(ns.median, 11.5);
  EXPECT_DOUBLE_EQ(ns.min, 10);
  EXPECT_DOUBLE_EQ(ns.max, 13);
  EXPECT_NEAR(ns.stddev, 1.2909944, 1e-6);

  Complete(*store_, JobId(c, 2), MakeResult(v1::RUN_STATE_SKIPPED, 0));
  EXPECT_EQ(FindJob(*store_, JobId(c, 2)).state(), v1::JOB_STATE_SKIPPED);
  campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
  EXPECT_EQ(campaign->progress().jobs_skipped(), 1u);
  EXPECT_TRUE(campaign->has_finished());
}

TEST_P(StoreConformanceTest, TracingRepetitionsAreStoredAsSamplesAfterTheMeasuredOnes) {
  std::string c = Create(*store_, 1);
  v1::RunResult result = MakeResult(v1::RUN_STATE_OK, 2);
  for (int r = 0; r < 2; ++r) {
    v1::Repetition* traced = result.add_tracing_repetitions();
    traced->set_index(2 + r);
    v1::MetricValue* m = traced->add_metrics();
    m->set_name("mmap_lock.contended.faulter.acquisitions_per_fault");
    m->set_unit("ratio");
    m->set_direction(v1::DIRECTION_LOWER_IS_BETTER);
    m->set_value(1.0 + r);
    (*traced->mutable_counters())["mmap_lock.contended.faulter.read_acquisitions"] = 4096;
  }
  Complete(*store_, JobId(c, 1), result);
  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].result.tracing_repetitions_size(), 2);
  SampleQuery query;
  query.run_id = (*runs)[0].run_id;
  query.metric = "mmap_lock.contended.faulter.acquisitions_per_fault";
  absl::StatusOr<std::vector<SampleRecord>> samples = store_->QuerySamples(query);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].repetition, 2u);
  EXPECT_EQ((*samples)[1].value, 2.0);
  EXPECT_EQ((*samples)[1].unit, "ratio");
  absl::StatusOr<std::vector<MetricSummary>> summaries =
      store_->GetRunSummaries((*runs)[0].run_id);
  ASSERT_TRUE(summaries.ok()) << summaries.status();
  ASSERT_EQ(summaries->size(), 3u);
  EXPECT_EQ((*summaries)[1].metric, "mmap_lock.contended.faulter.acquisitions_per_fault");
  EXPECT_DOUBLE_EQ((*summaries)[1].mean, 1.5);
}

v1::KernelProfile MakeProfile() {
  v1::KernelProfile p;
  p.set_method("perf cpu-clock 4000 Hz, kernel call chains");
  p.set_repetitions(1);
  p.set_wall_ns(400'000'000);
  p.set_samples(1000);
  p.set_kernel_samples(900);
  for (const auto& [name, self, total] :
       {std::tuple<const char*, int, int>{"asm_exc_page_fault", 0, 800},
        {"do_anonymous_page", 20, 600},
        {"clear_page_erms", 300, 300},
        {"kvm_mmu_page_fault [kvm]", 5, 5}}) {
    v1::ProfileSymbol* s = p.add_symbols();
    s->set_name(name);
    s->set_self_samples(self);
    s->set_total_samples(total);
  }
  return p;
}

TEST_P(StoreConformanceTest, TheKernelProfileIsStoredWithTheRunAndOneRowPerFunction) {
  std::string c = Create(*store_, 3);
  v1::RunResult profiled = MakeResult();
  *profiled.mutable_profile() = MakeProfile();
  Complete(*store_, JobId(c, 1), profiled);
  v1::RunResult unavailable = MakeResult();
  unavailable.mutable_profile()->set_unavailable_reason(
      "perf_event_open(cpu-clock sampling with kernel call chains): Permission denied");
  Complete(*store_, JobId(c, 2), unavailable);
  Complete(*store_, JobId(c, 3), MakeResult());

  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 3u);
  // Newest first: the run without a profile, the unavailable one, the profiled one.
  const StoredRunRecord& first = (*runs)[2];
  EXPECT_EQ(first.result.profile().SerializeAsString(), MakeProfile().SerializeAsString());
  EXPECT_EQ((*runs)[1].result.profile().unavailable_reason(),
            unavailable.profile().unavailable_reason());
  EXPECT_FALSE((*runs)[0].result.has_profile());

  absl::StatusOr<std::vector<ProfileRow>> rows = store_->GetRunProfile(first.run_id);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].function, "asm_exc_page_fault");
  EXPECT_EQ((*rows)[1].function, "do_anonymous_page");
  EXPECT_EQ((*rows)[1].self_samples, 20u);
  EXPECT_EQ((*rows)[1].total_samples, 600u);
  EXPECT_EQ((*rows)[1].samples, 1000u);
  EXPECT_EQ((*rows)[3].function, "kvm_mmu_page_fault [kvm]");
  EXPECT_TRUE(store_->GetRunProfile((*runs)[1].run_id)->empty());
  EXPECT_EQ(store_->GetRunProfile(12345).status().code(), absl::StatusCode::kNotFound);
  // Retention prunes samples, never profiles (they are a run's summary, like run_summaries).
  ASSERT_TRUE(store_->PruneSamples(kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(store_->GetRunProfile(first.run_id)->size(), 4u);
  EXPECT_EQ(store_->QueryRuns(RunQuery{})->back().result.profile().symbols_size(), 4);
}

TEST_P(StoreConformanceTest, AVersionOneDatabaseGainsTheProfileTableAndKeepsItsRuns) {
  std::string c = Create(*store_, 2);
  Complete(*store_, JobId(c, 1), MakeResult());
  store_.reset();
  // What a controller of schema version 1 left: no run_profiles table.
  ASSERT_TRUE(backend_->ExecScript("DROP TABLE run_profiles").ok());
  ASSERT_TRUE(backend_->SetSchemaVersion(1).ok());
  absl::StatusOr<std::unique_ptr<Store>> store = backend_->Open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_TRUE(store_->GetRunProfile((*runs)[0].run_id)->empty());
  v1::RunResult profiled = MakeResult();
  *profiled.mutable_profile() = MakeProfile();
  Complete(*store_, JobId(c, 2), profiled);
  runs = store_->QueryRuns(RunQuery{});
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(store_->GetRunProfile((*runs)[0].run_id)->size(), 4u);
}

TEST_P(StoreConformanceTest, AProfileThatDoesNotAddUpIsRejectedAndNothingIsStored) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(5), kT0).value());
  v1::RunResult bad = MakeResult();
  *bad.mutable_profile() = MakeProfile();
  bad.mutable_profile()->mutable_symbols(2)->set_self_samples(301);  // more than its total
  absl::StatusOr<ReportOutcome> outcome = store_->RecordResult(job, 1, "lease-1", "a", bad, kT0);
  ASSERT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(outcome.status().message(), "result.profile.symbols[2]"))
      << outcome.status();
  *bad.mutable_profile() = MakeProfile();
  *bad.mutable_profile()->add_symbols() = bad.profile().symbols(0);  // a function twice
  outcome = store_->RecordResult(job, 1, "lease-1", "a", bad, kT0);
  ASSERT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(outcome.status().message(), "appears more than once"))
      << outcome.status();
  EXPECT_TRUE(store_->QueryRuns(RunQuery{})->empty());
  EXPECT_EQ(FindJob(*store_, job).state(), v1::JOB_STATE_RUNNING);
}

TEST_P(StoreConformanceTest, ATracingRepetitionReusingAMeasuredIndexIsRejected) {
  std::string c = Create(*store_, 1);
  v1::RunResult result = MakeResult(v1::RUN_STATE_OK, 2);
  result.add_tracing_repetitions()->set_index(1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "agent-a", "lease-1", kT0 + absl::Minutes(5), kT0).value());
  absl::StatusOr<ReportOutcome> outcome =
      store_->RecordResult(job, 1, "lease-1", "agent-a", result, kT0);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status().message().find("tracing_repetitions[0].index"), std::string::npos)
      << outcome.status();
  EXPECT_TRUE(store_->QueryRuns(RunQuery{})->empty());
}

TEST_P(StoreConformanceTest, RecordResultIsIdempotentPerAttempt) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  Complete(*store_, job, MakeResult());
  absl::StatusOr<ReportOutcome> again =
      store_->RecordResult(job, 1, "lease-" + job, "agent-a", MakeResult(), kT0);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, ReportOutcome::kDuplicate);
  EXPECT_EQ(store_->QueryRuns(RunQuery{})->size(), 1u);
  SampleQuery all;
  EXPECT_EQ(store_->QuerySamples(all)->size(), 6u);
}

TEST_P(StoreConformanceTest, ResultOfAnExpiredAttemptIsStale) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(1), kT0).value());
  ASSERT_EQ(store_->ExpireLeases(kT0 + absl::Minutes(2), 3).value(), 1);
  // The old attempt reports after its lease expired and before anyone took the job.
  EXPECT_EQ(store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStale);
  ASSERT_TRUE(store_->LeaseJob(job, "b", "lease-2", kT0 + absl::Minutes(5), kT0).value());
  EXPECT_EQ(store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStale);
  // A wrong lease id for the current attempt is stale too.
  EXPECT_EQ(store_->RecordResult(job, 2, "lease-1", "b", MakeResult(), kT0).value(),
            ReportOutcome::kStale);
  EXPECT_EQ(store_->RecordResult(job, 2, "lease-2", "b", MakeResult(), kT0).value(),
            ReportOutcome::kStored);
  EXPECT_EQ(store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStale);
  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].attempt, 2u);
  EXPECT_EQ((*runs)[0].agent_id, "b");
  EXPECT_EQ(store_->GetCampaign(c)->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
}

TEST_P(StoreConformanceTest, FailedRunFailsJobAndCampaign) {
  std::string c = Create(*store_, 2);
  Complete(*store_, JobId(c, 1), MakeResult());
  v1::RunResult crashed = MakeResult(v1::RUN_STATE_CRASHED, 0);
  crashed.set_diagnostic("killed by SIGSEGV");
  Complete(*store_, JobId(c, 2), crashed, "agent-b");
  v1::Job job = FindJob(*store_, JobId(c, 2));
  EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED);
  EXPECT_TRUE(absl::StrContains(job.diagnostic(), "RUN_STATE_CRASHED")) << job.diagnostic();
  EXPECT_TRUE(absl::StrContains(job.diagnostic(), "killed by SIGSEGV")) << job.diagnostic();
  EXPECT_TRUE(absl::StrContains(job.diagnostic(), "agent-b")) << job.diagnostic();
  absl::StatusOr<v1::Campaign> campaign = store_->GetCampaign(c);
  EXPECT_EQ(campaign->state(), v1::CAMPAIGN_STATE_FAILED);
  EXPECT_EQ(campaign->progress().jobs_failed(), 1u);
  EXPECT_EQ(campaign->progress().jobs_succeeded(), 1u);
}

TEST_P(StoreConformanceTest, SampleTextAndValuesRoundTripExactly) {
  std::string c = Create(*store_, 1);
  v1::RunResult result = MakeResult(v1::RUN_STATE_OK, 1);
  v1::MetricValue* odd = result.mutable_repetitions(0)->add_metrics();
  odd->set_name("weird \"name\", {with} \\ 'quotes'");
  odd->set_unit("µs");
  odd->set_value(0.1 + 0.2);
  v1::MetricValue* tiny = result.mutable_repetitions(0)->add_metrics();
  tiny->set_name("tiny");
  tiny->set_value(-1.2345678901234567e-300);
  Complete(*store_, JobId(c, 1), result);
  SampleQuery q;
  absl::StatusOr<std::vector<SampleRecord>> samples = store_->QuerySamples(q);
  ASSERT_TRUE(samples.ok()) << samples.status();
  std::map<std::string, SampleRecord> by_name;
  for (const SampleRecord& s : *samples) by_name[s.metric] = s;
  ASSERT_EQ(by_name.size(), 4u);
  ASSERT_EQ(by_name.count(odd->name()), 1u);
  EXPECT_EQ(by_name[odd->name()].unit, "µs");
  EXPECT_EQ(by_name[odd->name()].value, 0.1 + 0.2);
  EXPECT_EQ(by_name["tiny"].value, -1.2345678901234567e-300);
}

TEST_P(StoreConformanceTest, BadResultIsRejectedAndNothingIsStored) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(1), kT0).value());
  v1::RunResult bad = MakeResult();
  *bad.mutable_repetitions(1)->add_metrics() = bad.repetitions(1).metrics(0);
  absl::StatusOr<ReportOutcome> outcome = store_->RecordResult(job, 1, "lease-1", "a", bad, kT0);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(outcome.status().message(), "repetitions[1].metrics[2]"))
      << outcome.status();
  EXPECT_EQ(store_->RecordResult(job, 0, "lease-1", "a", MakeResult(), kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->QueryRuns(RunQuery{})->empty());
  EXPECT_EQ(FindJob(*store_, job).state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStored);
}

// A fault after the run and its samples were written rolls all of it back.
TEST_P(StoreConformanceTest, FailureMidTransactionLeavesNothingPartial) {
  std::string c = Create(*store_, 1);
  const std::string job = JobId(c, 1);
  ASSERT_TRUE(store_->LeaseJob(job, "a", "lease-1", kT0 + absl::Minutes(5), kT0).value());
  ASSERT_TRUE(backend_->FailInsertsInto("run_summaries", true).ok());
  absl::StatusOr<ReportOutcome> failed = store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0);
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(store_->QueryRuns(RunQuery{})->empty());
  EXPECT_TRUE(store_->QuerySamples(SampleQuery{})->empty());
  EXPECT_EQ(FindJob(*store_, job).state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(store_->GetCampaign(c)->state(), v1::CAMPAIGN_STATE_RUNNING);

  ASSERT_TRUE(backend_->FailInsertsInto("run_summaries", false).ok());
  EXPECT_EQ(store_->RecordResult(job, 1, "lease-1", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStored);
  EXPECT_EQ(store_->QuerySamples(SampleQuery{})->size(), 6u);
  EXPECT_EQ(store_->GetCampaign(c)->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
}

TEST_P(StoreConformanceTest, CancelCancelsQueuedAndRunningJobs) {
  std::string c = Create(*store_, 3);
  Complete(*store_, JobId(c, 1), MakeResult());
  ASSERT_TRUE(store_->LeaseJob(JobId(c, 2), "a", "lease-2", kT0 + absl::Minutes(5), kT0).value());
  absl::StatusOr<v1::Campaign> cancelled = store_->CancelCampaign(c, kT0 + absl::Minutes(1));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::CAMPAIGN_STATE_CANCELLED);
  EXPECT_EQ(cancelled->progress().jobs_cancelled(), 2u);
  EXPECT_EQ(cancelled->progress().jobs_succeeded(), 1u);
  EXPECT_EQ(FromProtoTime(cancelled->finished()), kT0 + absl::Minutes(1));
  EXPECT_FALSE(store_->LeaseJob(JobId(c, 3), "a", "lease-3", kT0, kT0).value());
  EXPECT_EQ(store_->RecordResult(JobId(c, 2), 1, "lease-2", "a", MakeResult(), kT0).value(),
            ReportOutcome::kStale);
  EXPECT_TRUE(store_->ListQueuedJobs(10)->empty());
  // Cancelling again changes nothing.
  absl::StatusOr<v1::Campaign> again = store_->CancelCampaign(c, kT0 + absl::Minutes(9));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(FromProtoTime(again->finished()), kT0 + absl::Minutes(1));
  EXPECT_EQ(store_->QueryRuns(RunQuery{})->size(), 1u);
}

TEST_P(StoreConformanceTest, QueryRunsFilters) {
  std::string c1 = Create(*store_, 3);
  std::string c2 = Create(*store_, 1);
  Complete(*store_, JobId(c1, 1), MakeResult(v1::RUN_STATE_OK, 1, "stock"), "agent-a");
  Complete(*store_, JobId(c1, 2), MakeResult(v1::RUN_STATE_OK, 1, "patched/mglru"), "agent-b");
  Complete(*store_, JobId(c1, 3),
           MakeResult(v1::RUN_STATE_OK, 1, "patched/vma-lock", v1::ARCH_ARM64), "agent-c");
  v1::RunResult other = MakeResult(v1::RUN_STATE_OK, 1, "stock");
  other.set_benchmark("fork_cost");
  Complete(*store_, JobId(c2, 1), other, "agent-a");

  auto count = [&](RunQuery query) {
    absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(query);
    EXPECT_TRUE(runs.ok()) << runs.status();
    return runs.ok() ? runs->size() : 0;
  };
  EXPECT_EQ(count(RunQuery{}), 4u);
  RunQuery q;
  q.kernel_label_glob = "patched/*";
  EXPECT_EQ(count(q), 2u);
  q.kernel_label_glob = "patched/m?lru";
  EXPECT_EQ(count(q), 1u);
  q.kernel_label_glob = "Patched/*";  // Globs are case-sensitive.
  EXPECT_EQ(count(q), 0u);
  q = RunQuery{};
  q.arch = v1::ARCH_ARM64;
  EXPECT_EQ(count(q), 1u);
  q = RunQuery{};
  q.benchmark = "fork_cost";
  EXPECT_EQ(count(q), 1u);
  q = RunQuery{};
  q.campaign_id = c1;
  EXPECT_EQ(count(q), 3u);
  q.agent_id = "agent-a";
  EXPECT_EQ(count(q), 1u);
  q = RunQuery{};
  q.limit = 2;
  absl::StatusOr<std::vector<StoredRunRecord>> newest = store_->QueryRuns(q);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].job_id, JobId(c2, 1));
  EXPECT_GT((*newest)[0].run_id, (*newest)[1].run_id);
  q.limit = 0;
  EXPECT_EQ(store_->QueryRuns(q).status().code(), absl::StatusCode::kInvalidArgument);

  SampleQuery s;
  s.kernel_label_glob = "patched/*";
  s.metric = "ns_per_fault";
  EXPECT_EQ(store_->QuerySamples(s)->size(), 2u);
  s.arch = v1::ARCH_X86_64;
  EXPECT_EQ(store_->QuerySamples(s)->size(), 1u);
}

TEST_P(StoreConformanceTest, AgentsUpsertTouchAndList) {
  AgentRecord agent;
  agent.agent_id = "agent-a";
  agent.host.set_hostname("box1");
  agent.host.set_kernel_label("stock");
  agent.catalog.emplace_back().set_name("fault_anon");
  agent.tags = {"rack1", "ssd"};
  agent.agent_version = "1.0";
  agent.provisionable_kernels = {"patched/mglru"};
  agent.registered = kT0;
  agent.last_seen = kT0;
  agent.state = 1;
  ASSERT_TRUE(store_->UpsertAgent(agent).ok());

  ASSERT_TRUE(store_->TouchAgent("agent-a", 2, "c-000001/j-0001", kT0 + absl::Minutes(1)).ok());
  absl::StatusOr<AgentRecord> got = store_->GetAgent("agent-a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->host.hostname(), "box1");
  ASSERT_EQ(got->catalog.size(), 1u);
  EXPECT_EQ(got->catalog[0].name(), "fault_anon");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"rack1", "ssd"}));
  EXPECT_EQ(got->agent_version, "1.0");
  EXPECT_EQ(got->provisionable_kernels, (std::vector<std::string>{"patched/mglru"}));
  EXPECT_EQ(got->state, 2);
  EXPECT_EQ(got->current_job_id, "c-000001/j-0001");
  EXPECT_EQ(got->last_seen, kT0 + absl::Minutes(1));

  // Re-registration replaces the registration but keeps the first registration time.
  agent.host.set_kernel_label("patched/mglru");
  agent.registered = kT0 + absl::Hours(1);
  agent.last_seen = kT0 + absl::Hours(1);
  ASSERT_TRUE(store_->UpsertAgent(agent).ok());
  got = store_->GetAgent("agent-a");
  EXPECT_EQ(got->host.kernel_label(), "patched/mglru");
  EXPECT_EQ(got->registered, kT0);
  EXPECT_EQ(got->last_seen, kT0 + absl::Hours(1));

  agent.agent_id = "agent-0";
  ASSERT_TRUE(store_->UpsertAgent(agent).ok());
  absl::StatusOr<std::vector<AgentRecord>> all = store_->ListAgents();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].agent_id, "agent-0");
  agent.agent_id = "";
  EXPECT_EQ(store_->UpsertAgent(agent).code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, PruneSamplesKeepsSummaries) {
  std::string c = Create(*store_, 2);
  Complete(*store_, JobId(c, 1), MakeResult(v1::RUN_STATE_OK, 3, "stock", v1::ARCH_X86_64, kT0));
  Complete(*store_, JobId(c, 2),
           MakeResult(v1::RUN_STATE_OK, 3, "stock", v1::ARCH_X86_64, kT0 + absl::Hours(240)));
  SampleQuery window;
  window.since = kT0 + absl::Hours(1);
  EXPECT_EQ(store_->QuerySamples(window)->size(), 6u);
  window.until = kT0 + absl::Hours(240);
  EXPECT_TRUE(store_->QuerySamples(window)->empty());
  window = SampleQuery{};
  window.until = kT0 + absl::Hours(240);
  window.host_class = "x86_64-2cpu-4g-kvm";
  EXPECT_EQ(store_->QuerySamples(window)->size(), 6u);
  window.host_class = "other";
  EXPECT_TRUE(store_->QuerySamples(window)->empty());

  absl::StatusOr<int64_t> deleted = store_->PruneSamples(kT0 + absl::Hours(120));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 6);
  EXPECT_EQ(store_->PruneSamples(kT0 + absl::Hours(120)).value(), 0);

  absl::StatusOr<std::vector<StoredRunRecord>> runs = store_->QueryRuns(RunQuery{});
  ASSERT_EQ(runs->size(), 2u);
  const StoredRunRecord& recent = (*runs)[0];
  const StoredRunRecord& old = (*runs)[1];
  EXPECT_EQ(old.result.repetitions_size(), 0);
  EXPECT_EQ(old.result.host().kernel_label(), "stock");
  EXPECT_EQ(recent.result.repetitions_size(), 3);
  SampleQuery q;
  q.run_id = old.run_id;
  EXPECT_TRUE(store_->QuerySamples(q)->empty());
  q.run_id = recent.run_id;
  EXPECT_EQ(store_->QuerySamples(q)->size(), 6u);
  absl::StatusOr<std::vector<MetricSummary>> summaries = store_->GetRunSummaries(old.run_id);
  ASSERT_EQ(summaries->size(), 2u);
  EXPECT_EQ((*summaries)[1].count, 3);
  EXPECT_DOUBLE_EQ((*summaries)[1].median, 11);
}

TEST_P(StoreConformanceTest, RefusesANewerSchema) {
  store_.reset();
  const int known = backend_->KnownSchemaVersion();
  ASSERT_TRUE(backend_->SetSchemaVersion(known + 7).ok());
  absl::StatusOr<std::unique_ptr<Store>> store = backend_->Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(store.status().message(), absl::StrCat(known + 7)))
      << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), absl::StrCat("version ", known)))
      << store.status();
  ASSERT_TRUE(backend_->SetSchemaVersion(known).ok());
  EXPECT_TRUE(backend_->Open().ok());
}

TEST_P(StoreConformanceTest, ReopeningKeepsAllState) {
  std::string c = Create(*store_, 2);
  Complete(*store_, JobId(c, 1), MakeResult());
  ASSERT_TRUE(store_->LeaseJob(JobId(c, 2), "b", "lease-b", kT0 + absl::Minutes(5), kT0).value());
  AgentRecord agent;
  agent.agent_id = "agent-a";
  agent.registered = kT0;
  ASSERT_TRUE(store_->UpsertAgent(agent).ok());
  store_.reset();

  absl::StatusOr<std::unique_ptr<Store>> reopened = backend_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  Store& store = **reopened;
  absl::StatusOr<v1::Campaign> campaign = store.GetCampaign(c);
  ASSERT_TRUE(campaign.ok()) << campaign.status();
  EXPECT_EQ(campaign->progress().jobs_succeeded(), 1u);
  EXPECT_EQ(campaign->progress().jobs_running(), 1u);
  EXPECT_EQ(store.GetLease(JobId(c, 2))->lease_id, "lease-b");
  EXPECT_EQ(store.QueryRuns(RunQuery{})->size(), 1u);
  EXPECT_TRUE(store.GetAgent("agent-a").ok());
  EXPECT_EQ(store.RecordResult(JobId(c, 2), 1, "lease-b", "b", MakeResult(), kT0).value(),
            ReportOutcome::kStored);
  EXPECT_EQ(store.GetCampaign(c)->state(), v1::CAMPAIGN_STATE_SUCCEEDED);
  EXPECT_EQ(Create(store, 1), "c-000002");
}

}  // namespace faultline::controller::store
