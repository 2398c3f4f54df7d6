// SuccessorReport: what the new process of a reload tells the old one on the unix socket named by
// BUSBAR_HANDOVER_REPORT_FD (handover_environment.h), one line, then it closes its end:
//
//   ready\n             it serves on the inherited sockets: the old process may stop
//   failed REASON\n     it cannot serve (a bad config, a refused plugin, a failed migration) and
//                       exits; REASON is its message, on one line
//
// A socket closed without a line means the process ended before it could say (a crash). The old
// process reads it with SuccessorReport::parse().
//
// Thread-safety: none needed; one object, used by the main thread.
#pragma once

#include <optional>
#include <string>

namespace busbar::host {

class SuccessorReport {
 public:
  enum class Kind { kReady, kFailed };

  // Writes to `fd` (owned from now on, made close-on-exec: a program a plugin starts must not hold
  // it, or the old process would not see this one end; -1: reports go nowhere).
  explicit SuccessorReport(int fd);
  ~SuccessorReport();
  SuccessorReport(const SuccessorReport&) = delete;
  SuccessorReport& operator=(const SuccessorReport&) = delete;

  bool active() const { return fd_ >= 0; }

  // Sends the line and closes the socket; later calls do nothing. Returns whether the old process
  // could still read it (false: it is gone, or no report was asked for).
  bool ready();
  bool failed(const std::string& reason);

  // The report in `line` (without its newline); nullopt when it is neither. For kFailed,
  // `reason` receives the reason.
  static std::optional<Kind> parse(const std::string& line, std::string* reason);

  // The longest line sent; a longer reason is cut.
  static constexpr size_t kMaxLine = 4096;

 private:
  bool send(const std::string& line);

  int fd_;
};

}  // namespace busbar::host
