// checkDeployment: whether the plugin files and config a watched server saw change (busbar
// watch) may be handed over to. Each changed plugin file that is there must be a complete ELF
// shared object (elf_check.h; a copy still being written is not), and `busbar --check-config`
// with the server's own options must accept the whole set. The check runs as a process of its
// own: a plugin that crashes when loaded ends that process, not the server.
//
// Thread-safety: a free function; the calls are independent.
#pragma once

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace busbar::host {

struct DeploymentCheck {
  enum class Verdict {
    kReady,       // the set passes: hand over
    kIncomplete,  // a plugin file is not whole yet: wait for it to change again
    kRefused,     // --check-config refused the set (or could not run): serve on
  };
  Verdict verdict = Verdict::kRefused;
  std::string detail;  // for kIncomplete and kRefused: what is wrong
};

// Checks the set `changed` (paths) of a server run as `program` `server_args` (without the
// command word "watch"). A check that does not end within `deadline`, or that runs when
// `*cancelled` turns true (the server stops), is ended and refuses.
DeploymentCheck checkDeployment(const std::string& program,
                                const std::vector<std::string>& server_args,
                                const std::set<std::string>& changed,
                                std::chrono::milliseconds deadline,
                                const std::atomic<bool>* cancelled = nullptr);

}  // namespace busbar::host
