#include "handover/successor_report.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace busbar::host {

SuccessorReport::SuccessorReport(int fd) : fd_(fd) {
  if (fd_ >= 0) ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
}

SuccessorReport::~SuccessorReport() {
  if (fd_ >= 0) ::close(fd_);
}

bool SuccessorReport::ready() { return send("ready\n"); }

bool SuccessorReport::failed(const std::string& reason) {
  std::string line = "failed ";
  for (char c : reason) line += (c == '\n' || c == '\r') ? ' ' : c;
  if (line.size() > kMaxLine - 1) line.resize(kMaxLine - 1);
  return send(line + "\n");
}

bool SuccessorReport::send(const std::string& line) {
  if (fd_ < 0) return false;
  // A line of at most kMaxLine fits the socket's buffer, and the old process reads until the
  // newline: the send does not block. MSG_NOSIGNAL: an old process gone is an answer, not a
  // SIGPIPE.
  ssize_t written = 0;
  do {
    written = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL);
  } while (written < 0 && errno == EINTR);
  ::close(fd_);
  fd_ = -1;
  return written == static_cast<ssize_t>(line.size());
}

std::optional<SuccessorReport::Kind> SuccessorReport::parse(const std::string& line,
                                                            std::string* reason) {
  if (line == "ready") return Kind::kReady;
  static const std::string kFailed = "failed ";
  if (line.rfind(kFailed, 0) == 0) {
    if (reason != nullptr) *reason = line.substr(kFailed.size());
    return Kind::kFailed;
  }
  return std::nullopt;
}

}  // namespace busbar::host
