// Test support: start the real busbar binary, talk HTTP to it, wait for conditions.
//
// Integration tests drive the binary the way an operator and a client would; nothing here
// reaches into the host's code. Not thread-safe per object; separate objects are independent.
//
// No busbar process outlives the test process that started it, even when that process crashes
// or is killed (child_launcher.h). A reload hands a server over to a new process that the old one
// started (busbar's handover); the new process becomes the test process's child when the old one
// exits, and followHandover() makes the ServerProcess follow it. That new process has no death
// signal: it outlives a test process killed before it stops it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "child_launcher.h"
#include "free_port.h"

namespace busbar::testing {

// The build tree's root (holds bin/busbar and lib/busbar/plugins).
std::string buildDir();

// The source tree's root.
std::string sourceDir();

// Environment variable `name`, or throws std::runtime_error telling how the test suite sets it
// (scripts/test starts the services and exports them).
std::string requireEnv(const std::string& name);

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// One request to 127.0.0.1:port. Throws on a connection error.
HttpResult httpRequest(int port, const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::string& content_type = "application/json",
                       const std::map<std::string, std::string>& headers = {});

// A folder removed with its contents when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

// Runs `command` with /bin/sh; returns its exit code (-1 when it did not exit) and puts what it
// printed on both streams in `output`.
int runShell(const std::string& command, std::string& output);

// Polls `condition` every 10 ms until it holds or `deadline` passes. Returns the last result.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = std::chrono::seconds(10));

// A busbar process: build/bin/busbar --config FILE --bind 127.0.0.1:PORT
// --admin-bind 127.0.0.1:ADMIN_PORT ARGS... (no --admin-bind of its own when ARGS has one).
class ServerProcess {
 public:
  ServerProcess(std::string config_file, std::vector<std::string> extra_args = {},
                std::map<std::string, std::string> env = {});
  ~ServerProcess();  // kills the process if it still runs

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // How start() sees that the server serves: by default GET /health answered 200 over plain HTTP
  // on port(); a test of an HTTPS listener gives its own. Before start().
  using ReadinessProbe = std::function<bool(const ServerProcess&)>;
  void setReadinessProbe(ReadinessProbe probe) { readiness_probe_ = std::move(probe); }

  // Starts it and waits until its readiness probe passes. On failure (exit, timeout) throws with
  // the process output. Throws std::logic_error while an earlier start's process still runs.
  // When another process took its port first, starts it again on fresh ports (port() and
  // adminPort() are those it listens on once start() returns).
  void start(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // Sends SIGTERM (and SIGCONT, should it be frozen) and waits; returns the exit code (256 + the
  // signal when a signal ended it), or -1 when it was never started.
  int stop();

  // Sends SIGKILL and waits.
  void kill();

  // After a reload (SIGHUP): waits until the process the object follows ends, as the old one
  // of a handover does once the new one serves, then follows the process that serves on its
  // admin port (its pid from GET /health) and returns the old one's exit code. Throws when none
  // serves by `deadline`.
  int followHandover(std::chrono::milliseconds deadline = std::chrono::seconds(60));

  // Sends `signal` (SIGHUP: reload) and returns at once; SIGSTOP returns once every thread of
  // the process has stopped (stopProcess), and throws std::runtime_error when they did not.
  void signal(int signal) const;

  int port() const { return port_; }
  int adminPort() const { return admin_port_; }
  pid_t pid() const { return pid_; }  // the process of the last start(); 0 before
  bool running() const;
  std::string output() const;  // everything the process wrote to stdout and stderr so far
  // What a failed assertion prints: the Error, Critical and Fatal lines of output() first (a
  // long output is cut in the middle by the tools that show it), then all of it.
  std::string failureReport() const;

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "") const {
    return httpRequest(port_, method, path, body);
  }
  // The same on the admin listener.
  HttpResult adminRequest(const std::string& method, const std::string& path,
                          const std::string& body = "") const {
    return httpRequest(admin_port_, method, path, body);
  }

 private:
  std::string config_file_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> env_;
  int port_;
  int admin_port_;
  std::string log_file_;
  pid_t pid_ = 0;
  mutable bool exited_ = false;  // pid_ has been waited for; exit_code_ holds its end
  mutable int exit_code_ = -1;
  ReadinessProbe readiness_probe_;

  // Waits for pid_ (blocking or not) and records how it ended; false while it still runs.
  bool reap(bool block) const;
};

// Another program a test runs beside busbar (a Prometheus server): started as busbar is, by the
// launcher thread, so that it never outlives the test process, in `work_dir`, with its output in
// a file of its own.
class ChildProcess {
 public:
  ChildProcess(std::string program, std::vector<std::string> args, std::string work_dir);
  ~ChildProcess();  // kills the process if it still runs

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts it; throws when it cannot be run.
  void start();
  // Sends SIGTERM and waits; returns the exit code as ServerProcess::stop() does.
  int stop();
  // Sends `signal` (SIGKILL) and returns at once; SIGSTOP returns once every thread of the
  // process has stopped (stopProcess), and throws std::runtime_error when they did not.
  void signal(int signal) const;
  pid_t pid() const { return pid_; }  // the process of the last start(); 0 before
  bool running() const;
  std::string output() const;

 private:
  bool reap(bool block) const;

  std::string program_;
  std::vector<std::string> args_;
  std::string work_dir_;
  std::string log_file_;
  pid_t pid_ = 0;
  mutable bool exited_ = false;
  mutable int exit_code_ = -1;
};

// Runs build/bin/busbar ARGS to completion; returns the exit code (256 + the signal when a
// signal ended it) and fills `output`.
int runBusbar(const std::vector<std::string>& args, std::string& output,
              const std::map<std::string, std::string>& env = {});

// Runs `busbar --check-config` on `config_file`, which must pass (the file is well formed), then
// starts a server on it, which must stop with exit 2 without serving: a start refused for what
// only connecting finds (a certificate, a login). Records a test failure otherwise; returns what
// the server printed.
std::string refusedStart(const std::string& config_file);

}  // namespace busbar::testing
