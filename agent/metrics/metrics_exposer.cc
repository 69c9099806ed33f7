#include "agent/metrics/metrics_exposer.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/security/host_port.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "prometheus/text_serializer.h"

namespace faultline::agent::metrics {
namespace {

// A request head larger than this is not a scrape.
constexpr size_t kMaxRequestHead = 8192;
// Connections waiting for a worker; more are closed at once.
constexpr size_t kMaxWaiting = 16;
// Scrapes come from a handful of Prometheus servers: two workers, so that one slow or hostile
// client does not stall the others, and a connection that dawdles is cut off.
constexpr int kWorkers = 2;
constexpr int kIoTimeoutSeconds = 10;

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

std::string Response(int status, absl::string_view reason, absl::string_view headers,
                     absl::string_view content_type, absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\n", headers,
                      "Content-Type: ", content_type, "\r\nContent-Length: ", body.size(),
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n", body);
}

std::string PlainResponse(int status, absl::string_view reason, absl::string_view headers,
                          absl::string_view body) {
  return Response(status, reason, headers, "text/plain; charset=utf-8", body);
}

// A bound, listening TCP socket for host:port, or UNAVAILABLE saying why not.
absl::StatusOr<int> Listen(const std::string& listen) {
  const std::string host(controller::security::HostOf(listen));
  const std::string port = listen.substr(listen.rfind(':') + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints,
                                 &found);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, ": ", gai_strerror(rc)));
  }
  std::string why;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR lets a restart bind past connections in TIME_WAIT; unlike SO_REUSEPORT it
    // never lets a second listener share the port.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      freeaddrinfo(found);
      return fd;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  const std::string reason = controller::security::ListenFailureReason(listen);
  return absl::UnavailableError(
      absl::StrCat("cannot serve metrics on ", listen, ": ", reason.empty() ? why : reason));
}

absl::StatusOr<SSL_CTX*> TlsContext(const MetricsEndpointOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("TLS: ", OpenSslError()));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  absl::Status status;
  if (SSL_CTX_use_certificate_chain_file(ctx, o.tls_cert_file.c_str()) != 1) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "--metrics_tls_cert: ", o.tls_cert_file, ": not a PEM certificate chain: ", OpenSslError()));
  } else if (SSL_CTX_use_PrivateKey_file(ctx, o.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--metrics_tls_key: ", o.tls_key_file, ": not the PEM private key of ",
                     o.tls_cert_file, ": ", OpenSslError()));
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat("--metrics_tls_key: ", o.tls_key_file, ": not the PEM private key of ",
                     o.tls_cert_file, ": ", OpenSslError()));
  }
  if (!status.ok()) {
    SSL_CTX_free(ctx);
    return status;
  }
  return ctx;
}

// Reads and writes one connection, over TLS when `ssl` is set.
class Connection {
 public:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  // Up to `n` bytes; 0 at the end or on an error.
  size_t Read(char* data, size_t n) {
    if (ssl_ != nullptr) {
      const int got = SSL_read(ssl_, data, static_cast<int>(n));
      return got > 0 ? static_cast<size_t>(got) : 0;
    }
    const ssize_t got = recv(fd_, data, n, 0);
    return got > 0 ? static_cast<size_t>(got) : 0;
  }

  bool WriteAll(absl::string_view data) {
    while (!data.empty()) {
      ssize_t wrote;
      if (ssl_ != nullptr) {
        wrote = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      } else {
        wrote = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      }
      if (wrote <= 0) return false;
      data.remove_prefix(static_cast<size_t>(wrote));
    }
    return true;
  }

 private:
  const int fd_;
  SSL* const ssl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& listen, std::weak_ptr<prometheus::Collectable> collectable) {
  MetricsEndpointOptions options;
  options.listen = listen;
  return Start(options, std::move(collectable));
}

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const MetricsEndpointOptions& options, std::weak_ptr<prometheus::Collectable> collectable) {
  const std::string& listen = options.listen;
  if (listen.empty() || listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\" is not host:port"));
  }
  if (absl::Status port = controller::security::ValidatePort(listen, "metrics listen address");
      !port.ok()) {
    return port;
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--metrics_tls_cert and --metrics_tls_key: give both or neither");
  }
  std::optional<BearerToken> token;
  if (!options.bearer_token_file.empty()) {
    if (!options.tls()) {
      return absl::FailedPreconditionError(
          "--metrics_bearer_token_file: needs --metrics_tls_cert and --metrics_tls_key (a "
          "bearer token must not cross the wire in clear)");
    }
    absl::StatusOr<BearerToken> read = BearerToken::FromFile(options.bearer_token_file);
    if (!read.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--metrics_bearer_token_file: ", read.status().message()));
    }
    token = *std::move(read);
  }
  std::unique_ptr<MetricsExposer> exposer(
      new MetricsExposer(std::move(collectable), std::move(token)));
  if (options.tls()) {
    absl::StatusOr<SSL_CTX*> tls = TlsContext(options);
    if (!tls.ok()) return tls.status();
    exposer->tls_ = *tls;
  }
  absl::StatusOr<int> fd = Listen(listen);
  if (!fd.ok()) return fd.status();
  exposer->listen_fd_ = *fd;
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(*fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen, ": ",
                                               std::strerror(errno)));
  }
  exposer->port_ = ntohs(bound.ss_family == AF_INET6
                             ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  exposer->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (exposer->stop_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  MetricsExposer* self = exposer.get();
  exposer->acceptor_ = std::thread([self] { self->AcceptLoop(); });
  for (int i = 0; i < kWorkers; ++i) {
    exposer->workers_.emplace_back([self] { self->WorkLoop(); });
  }
  return exposer;
}

MetricsExposer::~MetricsExposer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) std::perror("metrics: eventfd write");
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& worker : workers_) worker.join();
  for (int fd : accepted_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

void MetricsExposer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{kIoTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    absl::MutexLock lock(&mu_);
    if (accepted_.size() >= kMaxWaiting) {
      close(fd);
      continue;
    }
    accepted_.push_back(fd);
  }
}

void MetricsExposer::WorkLoop() {
  // OpenSSL writes to the socket with write(2): a client that hung up would raise SIGPIPE,
  // which kills the process by default. Blocked here, it stays pending on this thread.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  while (true) {
    int fd;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !accepted_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      fd = accepted_.front();
      accepted_.pop_front();
    }
    Serve(fd);
    // Drops a SIGPIPE this connection raised.
    const timespec now{0, 0};
    while (sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
    }
  }
}

void MetricsExposer::Serve(int fd) {
  SSL* ssl = nullptr;
  if (tls_ != nullptr) {
    ssl = SSL_new(tls_);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
      // A plaintext request, a client that distrusts the certificate, a scanner.
      ERR_clear_error();
      if (ssl != nullptr) SSL_free(ssl);
      close(fd);
      return;
    }
  }
  Connection conn(fd, ssl);
  std::string head;
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxRequestHead) {
    const size_t got = conn.Read(buffer, sizeof(buffer));
    if (got == 0) break;
    head.append(buffer, got);
  }
  if (head.find("\r\n\r\n") != std::string::npos) {
    conn.WriteAll(Respond(head.substr(0, head.find("\r\n\r\n"))));
  } else if (head.size() >= kMaxRequestHead) {
    conn.WriteAll(PlainResponse(431, "Request Header Fields Too Large", "", "request too large\n"));
  }
  if (ssl != nullptr) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
  }
  close(fd);
}

std::string MetricsExposer::Respond(const std::string& head) const {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> request = absl::StrSplit(lines[0], ' ');
  if (request.size() != 3 || !absl::StartsWith(request[2], "HTTP/1.")) {
    return PlainResponse(400, "Bad Request", "", "not an HTTP/1.x request\n");
  }
  const absl::string_view path = request[1].substr(0, request[1].find('?'));
  if (path != "/metrics") return PlainResponse(404, "Not Found", "", "only /metrics is here\n");
  if (request[0] != "GET") {
    return PlainResponse(405, "Method Not Allowed", "Allow: GET\r\n", "only GET\n");
  }
  if (token_.has_value()) {
    absl::string_view authorization;
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon != absl::string_view::npos &&
          absl::EqualsIgnoreCase(lines[i].substr(0, colon), "authorization")) {
        authorization = absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
      }
    }
    if (!token_->Grants(authorization)) {
      // RFC 6750 section 3: the scheme and a realm.
      return PlainResponse(401, "Unauthorized",
                           "WWW-Authenticate: Bearer realm=\"faultline metrics\"\r\n",
                           "a bearer token is required\n");
    }
  }
  std::string body;
  if (std::shared_ptr<prometheus::Collectable> collectable = collectable_.lock()) {
    body = prometheus::TextSerializer().Serialize(collectable->Collect());
  }
  // The text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats).
  return Response(200, "OK", "", "text/plain; version=0.0.4; charset=utf-8", body);
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace faultline::agent::metrics
