// FolderWatcher: tells when files in some folders changed and then stayed as they are for a while
// (inotify), so that a copy written in pieces, an editor's save or a package's install ends in one
// call with every file that changed, rather than one per write.
//
// When the kernel's queue of events overflowed (a burst while a callback ran), every folder is
// reported as changed ("<folder>/"), as is a folder that was deleted or moved away; the watch of
// such a folder is set again once a folder of that path exists.
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

  struct Folder {
    std::string path;
    // Each write counts as a change, so that a file written in pieces settles after its last
    // piece. Off for a folder where other files are written all the time (host.conf's, which
    // may hold the database): a file there counts when it is closed or renamed in.
    bool every_write = true;
  };

  // Watches `folders` for files whose path `matters` accepts (written, created, renamed in or
  // out, deleted) and calls `settled` with their paths `settle` after the last such change. On
  // failure (a folder cannot be watched) throws std::runtime_error naming it.
  FolderWatcher(const std::vector<Folder>& folders, Matters matters,
                std::chrono::milliseconds settle, Settled settled);
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

 private:
  void run();
  // Adds the watch of `folder`; -1 when it cannot.
  int watch(const Folder& folder);
  // Sets again the watches of folders that went away, where a folder of that path exists now.
  void watchAgain();

  Matters matters_;
  const std::chrono::milliseconds settle_;
  Settled settled_;
  int inotify_ = -1;
  int stop_ = -1;  // eventfd
  struct Watch {
    Folder folder;
    int descriptor = -1;  // -1: the folder went away
  };
  std::vector<Watch> watches_;
  std::thread thread_;
};

}  // namespace busbar::host
