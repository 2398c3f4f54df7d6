// Test support: how a test process starts, tracks and reaps the processes it runs (busbar
// servers, database servers, tools), so that none outlives it.
//
// Every child is forked by one launcher thread that lives as long as the test process, and asks
// the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG). The kernel means the forking
// *thread* by "parent", so forking from the calling thread would kill a server started from a
// short-lived std::thread as soon as that thread ends. A process made by fork() without exec gets
// a launcher of its own on first use.
//
// The test process is a child subreaper (PR_SET_CHILD_SUBREAPER): the new process of a busbar
// handover becomes its child when the old one exits (track() it to wait for it yourself), and the
// launcher thread reaps the untracked zombies of other sessions (a killed private database
// server), which kill -0 would otherwise still find.
//
// Thread-safety: every function from any thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace busbar::testing {

// An environment value a started process receives as its own pid (WATCHDOG_PID, as systemd
// sets it).
inline constexpr char kOwnPid[] = "<own pid>";

// Starts `program` ARGS with `env` added to this process's environment, stdin from /dev/null and
// stdout and stderr appended to `log_file`, in `work_dir`. On success returns the pid once the
// child has exec'd; on failure throws std::runtime_error with the reason.
pid_t launchProgram(const std::string& program, const std::vector<std::string>& args,
                    const std::string& log_file, const std::map<std::string, std::string>& env,
                    const std::string& work_dir);

// Marks `pid`, a child this process did not launch (a handover's new process), as one a caller
// waits for: the launcher thread leaves it to reapChild() or waitFor().
void track(pid_t pid);

// Reaps `pid` (blocking or not); false while it runs. Records its end in `exited` and `code`
// (exitCode(), or -1 when someone else reaped it).
bool reapChild(pid_t pid, bool block, bool& exited, int& code);

// How a waitpid() status ended: the exit code, or 256 + the signal.
int exitCode(int status);

// Waits for `pid` to end; returns its exitCode(). Throws when waitpid() fails.
int waitFor(pid_t pid);

}  // namespace busbar::testing
