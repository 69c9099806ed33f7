// A backend-independent test suite every Store implementation passes. A backend's test
// instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
//                            ::testing::Values(StoreBackendFactory(&MakeSqliteBackend)));
#ifndef FAULTLINE_CONTROLLER_STORE_STORE_CONFORMANCE_TEST_H_
#define FAULTLINE_CONTROLLER_STORE_STORE_CONFORMANCE_TEST_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "gtest/gtest.h"

namespace faultline::controller::store {

// One fresh, empty database of a backend, for one test.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens a store on this database; every call opens the same database (a new connection).
  virtual absl::StatusOr<std::unique_ptr<Store>> Open() = 0;
  // The schema version this build's store migrates to.
  virtual int KnownSchemaVersion() = 0;
  // Overwrites the database's recorded schema version, as a newer controller would have left it.
  virtual absl::Status SetSchemaVersion(int version) = 0;
  // Runs `sql` on the database directly (to set up what an older controller would have left).
  virtual absl::Status ExecScript(const std::string& sql) = 0;
  // Makes every insert into `table` fail inside the database (a trigger), or stops doing so:
  // a fault in the middle of a transaction.
  virtual absl::Status FailInsertsInto(const std::string& table, bool fail) = 0;
};

using StoreBackendFactory = std::function<std::unique_ptr<StoreBackend>()>;

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackendFactory> {
 protected:
  void SetUp() override;

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_STORE_CONFORMANCE_TEST_H_
