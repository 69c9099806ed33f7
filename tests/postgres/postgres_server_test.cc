#include "tests/postgres/postgres_server.h"

#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"

namespace faultline::testing {
namespace {

std::string QueryOne(const std::string& conninfo, const char* sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql);
  std::string value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                          ? PQgetvalue(result, 0, 0)
                          : PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  return value;
}

TEST(PostgresServerTest, StartsCreatesDatabasesAndStops) {
  absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = (*server)->dir();
  const pid_t pid = (*server)->pid();
  EXPECT_EQ(QueryOne((*server)->ConnectionString(), "SELECT current_setting('server_version_num')")
                .substr(0, 2),
            "15");
  absl::StatusOr<std::string> db = (*server)->CreateDatabase("scratch");
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(QueryOne(*db, "SELECT current_database()"), "scratch");
  EXPECT_NE(QueryOne(*db, "SELECT current_user"), "root");
  server->reset();
  struct stat st;
  EXPECT_NE(stat(dir.c_str(), &st), 0) << dir << " was not removed";
  EXPECT_NE(kill(pid, 0), 0) << "postgres is still running";
}

}  // namespace
}  // namespace faultline::testing
