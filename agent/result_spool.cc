#include "agent/result_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/file_util.h"

namespace faultline::agent {
namespace {

constexpr char kSuffix[] = ".report";
constexpr char kTmpPrefix[] = ".tmp-";
constexpr char kRejectedDir[] = "rejected";

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

// mkdir -p: the default spool directory's parents may not exist on a fresh host.
absl::Status MakeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (absl::Status status = MakeDir(path.substr(0, slash)); !status.ok()) return status;
  }
  return MakeDir(path);
}

absl::Status FsyncPath(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  if (rc != 0) return absl::ErrnoToStatus(saved, absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("opendir ", dir));
  std::vector<std::string> names;
  while (dirent* entry = readdir(d)) names.emplace_back(entry->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Sequence number at the front of a spool file name.
bool ParseSequence(const std::string& name, uint64_t* sequence) {
  size_t dash = name.find('-');
  return dash != std::string::npos && absl::SimpleAtoi(name.substr(0, dash), sequence);
}

}  // namespace

std::string SpoolKey(const std::string& job_id, uint32_t attempt) {
  std::string key;
  for (char c : job_id) {
    key.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_');
  }
  return absl::StrCat(key, "-a", attempt);
}

absl::StatusOr<std::unique_ptr<ResultSpool>> ResultSpool::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("spool_dir: empty");
  if (absl::Status status = MakeDirs(dir); !status.ok()) return status;
  if (absl::Status status = MakeDir(dir + "/" + kRejectedDir); !status.ok()) return status;
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return names.status();
  uint64_t max_sequence = 0;
  for (const std::string& name : *names) {
    if (absl::StartsWith(name, kTmpPrefix)) {
      unlink((dir + "/" + name).c_str());
      continue;
    }
    uint64_t sequence = 0;
    if (absl::EndsWith(name, kSuffix) && ParseSequence(name, &sequence)) {
      max_sequence = std::max(max_sequence, sequence);
    }
  }
  return std::unique_ptr<ResultSpool>(new ResultSpool(dir, max_sequence + 1));
}

absl::StatusOr<std::vector<std::string>> ResultSpool::ReportFiles() {
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir_);
  if (!names.ok()) return names.status();
  std::vector<std::string> reports;
  for (const std::string& name : *names) {
    uint64_t sequence = 0;
    if (absl::EndsWith(name, kSuffix) && ParseSequence(name, &sequence)) reports.push_back(name);
  }
  // Zero-padded sequence numbers make name order the order of Add.
  return reports;
}

absl::StatusOr<std::string> ResultSpool::Add(const v1::ReportResultRequest& report) {
  absl::MutexLock lock(&mu_);
  const std::string key = SpoolKey(report.job_id(), report.attempt());
  std::string name;
  absl::StatusOr<std::vector<std::string>> existing = ReportFiles();
  if (!existing.ok()) return existing.status();
  for (const std::string& candidate : *existing) {
    if (absl::EndsWith(candidate, absl::StrCat("-", key, kSuffix))) name = candidate;
  }
  if (name.empty()) name = absl::StrFormat("%020d-%s%s", next_sequence_++, key, kSuffix);

  std::string data;
  if (!report.SerializeToString(&data)) return absl::InternalError("serializing report failed");
  const std::string tmp = absl::StrCat(dir_, "/", kTmpPrefix, name);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", tmp));
  absl::Status status = WriteAll(fd, data);
  if (status.ok() && fsync(fd) != 0) status = absl::ErrnoToStatus(errno, "fsync " + tmp);
  close(fd);
  if (status.ok() && rename(tmp.c_str(), (dir_ + "/" + name).c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("rename ", tmp));
  }
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  if (status = FsyncPath(dir_, O_RDONLY | O_DIRECTORY); !status.ok()) return status;
  return name;
}

absl::StatusOr<std::vector<ResultSpool::Entry>> ResultSpool::List() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<std::string>> names = ReportFiles();
  if (!names.ok()) return names.status();
  std::vector<Entry> entries;
  for (const std::string& name : *names) {
    absl::StatusOr<std::string> data = ReadFileToString(dir_ + "/" + name);
    if (!data.ok()) return data.status();
    Entry entry;
    entry.name = name;
    if (!entry.report.ParseFromString(*data) || entry.report.job_id().empty()) {
      if (absl::Status status = RejectLocked(name); !status.ok()) return status;
      continue;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::Status ResultSpool::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  const std::string path = dir_ + "/" + name;
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("unlink ", path));
  }
  return FsyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

absl::Status ResultSpool::Reject(const std::string& name) {
  absl::MutexLock lock(&mu_);
  return RejectLocked(name);
}

absl::Status ResultSpool::RejectLocked(const std::string& name) {
  const std::string from = dir_ + "/" + name;
  const std::string to = absl::StrCat(dir_, "/", kRejectedDir, "/", name);
  if (rename(from.c_str(), to.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("rename ", from));
  }
  return FsyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

size_t ResultSpool::Count() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<std::string>> names = ReportFiles();
  return names.ok() ? names->size() : 0;
}

}  // namespace faultline::agent
