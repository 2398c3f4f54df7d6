#include "handover/folder_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace busbar::host {
namespace {

using Clock = std::chrono::steady_clock;

// Every way a file of a folder changes, including each write of a copy in progress (IN_MODIFY),
// so that the quiet period starts after the last one.
constexpr uint32_t kChanges =
    IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB;

}  // namespace

FolderWatcher::FolderWatcher(const std::vector<std::string>& folders, Matters matters,
                             std::chrono::milliseconds settle, Settled settled)
    : matters_(std::move(matters)), settle_(settle), settled_(std::move(settled)) {
  inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_ < 0 || stop_ < 0) {
    const int error = errno;
    if (inotify_ >= 0) ::close(inotify_);
    if (stop_ >= 0) ::close(stop_);
    throw std::runtime_error(std::string("cannot watch files: ") + std::strerror(error));
  }
  for (std::string folder : folders) {
    while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    const int watch = ::inotify_add_watch(inotify_, folder.c_str(), kChanges | IN_ONLYDIR);
    if (watch < 0) {
      const int error = errno;
      ::close(inotify_);
      ::close(stop_);
      throw std::runtime_error("cannot watch the folder " + folder + ": " + std::strerror(error) +
                               (error == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
    }
    watches_.emplace_back(watch, folder);
  }
  thread_ = std::thread([this] { run(); });
}

FolderWatcher::~FolderWatcher() {
  const uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(stop_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(inotify_);
  ::close(stop_);
}

void FolderWatcher::run() {
  std::set<std::string> changed;
  Clock::time_point last_change;
  alignas(inotify_event) char buffer[16 * 1024];
  for (;;) {
    int wait = -1;
    if (!changed.empty()) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(last_change + settle_ - Clock::now());
      wait = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    pollfd fds[2] = {{inotify_, POLLIN, 0}, {stop_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, wait);
    if (ready < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) {
      for (;;) {
        const ssize_t got = ::read(inotify_, buffer, sizeof buffer);
        if (got <= 0) break;
        for (ssize_t at = 0; at < got;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
          at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
          if (event->len == 0) continue;
          const auto folder =
              std::find_if(watches_.begin(), watches_.end(),
                           [&](const auto& watch) { return watch.first == event->wd; });
          if (folder == watches_.end()) continue;
          const std::string path = folder->second + "/" + event->name;
          if (!matters_(path)) continue;
          changed.insert(path);
          last_change = Clock::now();
        }
      }
      continue;
    }
    if (!changed.empty() && Clock::now() >= last_change + settle_) {
      std::set<std::string> settled;
      settled.swap(changed);
      settled_(settled);
    }
  }
}

}  // namespace busbar::host
