#include "controller/store/postgres_queue_listener.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace faultline::controller::store {
namespace {

std::string ConnectionError(PGconn* conn) {
  std::string message = conn ? PQerrorMessage(conn) : "libpq could not allocate a connection";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresQueueListener>> PostgresQueueListener::Open(
    const std::string& conninfo, const std::string& channel) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = ConnectionError(conn);
    PQfinish(conn);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL to listen for queued jobs: ", message));
  }
  char* quoted = PQescapeIdentifier(conn, channel.data(), channel.size());
  PGresult* result = PQexec(conn, absl::StrCat("LISTEN ", quoted ? quoted : "\"\"").c_str());
  PQfreemem(quoted);
  const bool listening = result != nullptr && PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = listening ? "" : ConnectionError(conn);
  PQclear(result);
  if (!listening) {
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("PostgreSQL: LISTEN ", channel, ": ", message));
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int error = errno;
    PQfinish(conn);
    return absl::ResourceExhaustedError(absl::StrCat("eventfd: ", std::strerror(error)));
  }
  return std::unique_ptr<PostgresQueueListener>(new PostgresQueueListener(conn, wake_fd));
}

PostgresQueueListener::~PostgresQueueListener() {
  PQfinish(conn_);
  close(wake_fd_);
}

bool PostgresQueueListener::TakeNotifications() {
  bool any = false;
  while (PGnotify* notify = PQnotifies(conn_)) {
    any = true;
    PQfreemem(notify);
  }
  return any;
}

absl::StatusOr<bool> PostgresQueueListener::Await(absl::Duration timeout) {
  if (TakeNotifications()) return true;
  if (PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat("PostgreSQL: ", ConnectionError(conn_)));
  }
  pollfd fds[2] = {{PQsocket(conn_), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  const int timeout_ms =
      timeout == absl::InfiniteDuration()
          ? -1
          : static_cast<int>(std::ceil(absl::ToDoubleMilliseconds(
                std::max(absl::ZeroDuration(), std::min(timeout, absl::Hours(1))))));
  const int ready = poll(fds, 2, timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return false;
    return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
  }
  if (fds[1].revents != 0) {
    uint64_t count;
    // Draining the eventfd: a short read only means nothing was pending.
    const ssize_t drained = read(wake_fd_, &count, sizeof(count));
    (void)drained;
    return false;
  }
  if (fds[0].revents == 0) return false;
  // Also how a dropped connection shows: the socket reads end-of-file.
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL: lost the connection listening for queued jobs: ",
                     ConnectionError(conn_)));
  }
  return TakeNotifications();
}

void PostgresQueueListener::Interrupt() {
  const uint64_t one = 1;
  // An eventfd write fails only when its counter would overflow: the waiter is woken anyway.
  const ssize_t written = write(wake_fd_, &one, sizeof(one));
  (void)written;
}

}  // namespace faultline::controller::store
