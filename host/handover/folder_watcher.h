// FolderWatcher: tells when files in some folders changed and then stayed as they are for a while
// (inotify), so that a copy written in pieces, an editor's save or a package's install ends in one
// call with every file that changed, rather than one per write.
//
// Thread-safety: the callback runs on the watcher's own thread, one call at a time; changes made
// while it runs are reported by the next call. The destructor stops the thread (after a callback
// that runs).
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace busbar::host {

class FolderWatcher {
 public:
  using Matters = std::function<bool(const std::string& path)>;
  using Settled = std::function<void(const std::set<std::string>& changed)>;

  // Watches `folders` for files whose path `matters` accepts (written, created, renamed in or
  // out, deleted) and calls `settled` with their paths `settle` after the last such change. On
  // failure (a folder cannot be watched) throws std::runtime_error naming it.
  FolderWatcher(const std::vector<std::string>& folders, Matters matters,
                std::chrono::milliseconds settle, Settled settled);
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

 private:
  void run();

  Matters matters_;
  const std::chrono::milliseconds settle_;
  Settled settled_;
  int inotify_ = -1;
  int stop_ = -1;                                     // eventfd
  std::vector<std::pair<int, std::string>> watches_;  // watch descriptor, folder
  std::thread thread_;
};

}  // namespace busbar::host
