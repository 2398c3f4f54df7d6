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
constexpr uint32_t kChanges = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

int FolderWatcher::watch(const Folder& folder) {
  return ::inotify_add_watch(inotify_, folder.path.c_str(),
                             kChanges | (folder.every_write ? IN_MODIFY : 0));
}

void FolderWatcher::watchAgain() {
  for (auto& watched : watches_) {
    if (watched.descriptor < 0) watched.descriptor = watch(watched.folder);
  }
}

FolderWatcher::FolderWatcher(const std::vector<Folder>& folders, Matters matters,
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
  for (Folder folder : folders) {
    while (folder.path.size() > 1 && folder.path.back() == '/') folder.path.pop_back();
    const int descriptor = watch(folder);
    if (descriptor < 0) {
      const int error = errno;
      ::close(inotify_);
      ::close(stop_);
      throw std::runtime_error("cannot watch the folder " + folder.path + ": " +
                               std::strerror(error) +
                               (error == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
    }
    watches_.push_back({folder, descriptor});
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
  auto noteChange = [&](const std::string& path) {
    changed.insert(path);
    last_change = Clock::now();
  };
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
    if (ready < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // then poll again
      continue;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) {
      for (;;) {
        const ssize_t got = ::read(inotify_, buffer, sizeof buffer);
        if (got <= 0) break;
        for (ssize_t at = 0; at < got;) {
          const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
          at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
          if ((event->mask & IN_Q_OVERFLOW) != 0) {
            // Events were lost: any file may have changed.
            for (const auto& watched : watches_) noteChange(watched.folder.path + "/");
            continue;
          }
          const auto found = std::find_if(watches_.begin(), watches_.end(), [&](const Watch& w) {
            return w.descriptor >= 0 && w.descriptor == event->wd;
          });
          if (found == watches_.end()) continue;
          if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
            // The folder itself went away (deleted, renamed, a symlink swapped under it): its
            // path is watched again once it settled; a watch that would follow the moved folder
            // is dropped.
            if ((event->mask & IN_IGNORED) == 0) ::inotify_rm_watch(inotify_, found->descriptor);
            found->descriptor = -1;
            noteChange(found->folder.path + "/");
            continue;
          }
          if (event->len == 0) continue;
          const std::string path = found->folder.path + "/" + event->name;
          if (matters_(path)) noteChange(path);
        }
      }
    }
    if (!changed.empty() && Clock::now() >= last_change + settle_) {
      watchAgain();
      std::set<std::string> settled;
      settled.swap(changed);
      settled_(settled);
    }
  }
}

}  // namespace busbar::host
