// QueueListener over PostgreSQL's LISTEN/NOTIFY, on a connection of its own.
//
// The writers' NOTIFY runs inside the transaction that queues the jobs, and PostgreSQL delivers
// it only when that transaction commits ("NOTIFY", PostgreSQL 15 documentation, SQL Commands),
// so a woken listener always finds the jobs.
#ifndef FAULTLINE_CONTROLLER_STORE_POSTGRES_QUEUE_LISTENER_H_
#define FAULTLINE_CONTROLLER_STORE_POSTGRES_QUEUE_LISTENER_H_

#include <postgresql/libpq-fe.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/queue_listener.h"

namespace faultline::controller::store {

class PostgresQueueListener : public QueueListener {
 public:
  // Connects with `conninfo` and LISTENs on `channel`. UNAVAILABLE when the server cannot be
  // reached.
  static absl::StatusOr<std::unique_ptr<PostgresQueueListener>> Open(const std::string& conninfo,
                                                                     const std::string& channel);
  ~PostgresQueueListener() override;

  PostgresQueueListener(const PostgresQueueListener&) = delete;
  PostgresQueueListener& operator=(const PostgresQueueListener&) = delete;

  absl::StatusOr<bool> Await(absl::Duration timeout) override;
  void Interrupt() override;

 private:
  PostgresQueueListener(PGconn* conn, int wake_fd) : conn_(conn), wake_fd_(wake_fd) {}

  // Takes every notification libpq has already read; true when there was one.
  bool TakeNotifications();

  PGconn* const conn_;
  // An eventfd that Interrupt() makes readable, so a wait on the socket ends at once.
  const int wake_fd_;
};

}  // namespace faultline::controller::store

#endif  // FAULTLINE_CONTROLLER_STORE_POSTGRES_QUEUE_LISTENER_H_
