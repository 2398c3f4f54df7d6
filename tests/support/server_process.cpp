#include "server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>

#include "child_launcher.h"
#include "process_stop.h"

namespace busbar::testing {

std::string buildDir() { return BUSBAR_TEST_BUILD_DIR; }
std::string sourceDir() { return BUSBAR_TEST_SOURCE_DIR; }

std::string requireEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(name +
                             " is not set: run the suite with scripts/test, which starts the "
                             "services and exports it");
  }
  return value;
}

namespace {

HttpResult httpRequestWithin(Poco::Timespan timeout, int port, const std::string& method,
                             const std::string& path, const std::string& body,
                             const std::string& content_type,
                             const std::map<std::string, std::string>& headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(timeout);
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "PUT" || method == "POST") {
    request.setContentType(content_type);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResult result;
  result.status = response.getStatus();
  Poco::StreamCopier::copyToString(in, result.body);
  for (const auto& [name, value] : response) result.headers[name] = value;
  return result;
}

}  // namespace

HttpResult httpRequest(int port, const std::string& method, const std::string& path,
                       const std::string& body, const std::string& content_type,
                       const std::map<std::string, std::string>& headers) {
  return httpRequestWithin(Poco::Timespan(30, 0), port, method, path, body, content_type, headers);
}

TempDir::TempDir() : path_(Poco::TemporaryFile::tempName()) {
  Poco::File(path_).createDirectories();
}

TempDir::~TempDir() {
  try {
    Poco::File(path_).remove(true);
  } catch (...) {
  }
}

std::string TempDir::write(const std::string& name, const std::string& contents) const {
  std::string file = Poco::Path(path_).append(name).toString();
  Poco::File(Poco::Path(file).parent()).createDirectories();
  std::ofstream(file) << contents;
  return file;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// build/bin/busbar ARGS, in the build folder.
pid_t launch(const std::vector<std::string>& args, const std::string& log_file,
             const std::map<std::string, std::string>& env) {
  return launchProgram(buildDir() + "/bin/busbar", args, log_file, env, buildDir());
}

// SIGTERM, and SIGCONT: a process a failed test left frozen would hold SIGTERM for ever.
void askToEnd(pid_t pid) {
  ::kill(pid, SIGTERM);
  ::kill(pid, SIGCONT);
}

// Sends `signal`; SIGSTOP returns once every thread stopped, and throws when they did not.
void sendSignal(pid_t pid, int signal) {
  if (signal != SIGSTOP) {
    ::kill(pid, signal);
  } else if (!stopProcess(pid)) {
    throw std::runtime_error("pid " + std::to_string(pid) +
                             ": not every thread stopped within 5 s of SIGSTOP");
  }
}

}  // namespace

ServerProcess::ServerProcess(std::string config_file, std::vector<std::string> extra_args,
                             std::map<std::string, std::string> env)
    : config_file_(std::move(config_file)),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)),
      port_(freePort()),
      admin_port_(freePort()),
      log_file_(Poco::TemporaryFile::tempName() + ".log") {}

ServerProcess::~ServerProcess() {
  try {
    if (running()) kill();
    Poco::File log(log_file_);
    if (log.exists()) log.remove();
  } catch (...) {
    // A destructor must not throw; the kernel still kills the process when the test ends.
  }
}

void ServerProcess::start(std::chrono::milliseconds deadline) {
  if (running()) {
    throw std::logic_error("ServerProcess::start: busbar (pid " + std::to_string(pid_) +
                           ") still runs on port " + std::to_string(port_));
  }
  const bool own_admin_bind =
      std::find(extra_args_.begin(), extra_args_.end(), "--admin-bind") == extra_args_.end();
  bool ready = false;
  // A port free when freePort() chose it may be bound by another process of the suite before
  // busbar binds it; busbar then exits, saying so, and gets fresh ports.
  for (int attempt = 1;; ++attempt) {
    std::vector<std::string> args{"--config", config_file_, "--bind",
                                  "127.0.0.1:" + std::to_string(port_)};
    if (own_admin_bind) {
      args.push_back("--admin-bind");
      args.push_back("127.0.0.1:" + std::to_string(admin_port_));
    }
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    const size_t output_before = output().size();
    pid_ = launch(args, log_file_, env_);
    exited_ = false;
    exit_code_ = -1;
    ready = eventually(
        [this] {
          if (!running()) return true;
          if (readiness_probe_) return readiness_probe_(*this);
          try {
            // Briefly: whatever took the port may accept and never answer.
            return httpRequestWithin(Poco::Timespan(1, 0), port_, "GET", "/health", "",
                                     "application/json", {})
                       .status == 200;
          } catch (...) {
            return false;
          }
        },
        deadline);
    const bool port_taken =
        !running() && output().find("Address already in use", output_before) != std::string::npos;
    if (!port_taken || attempt == 3) break;
    port_ = freePort();
    if (own_admin_bind) admin_port_ = freePort();
  }
  if (!ready || !running()) {
    if (running()) kill();
    throw std::runtime_error("busbar did not become ready on port " + std::to_string(port_) +
                             (exited_ ? " (exit code " + std::to_string(exit_code_) + ")" : "") +
                             "; its output:\n" + output());
  }
}

bool ServerProcess::reap(bool block) const { return reapChild(pid_, block, exited_, exit_code_); }

bool ServerProcess::running() const { return !reap(false); }

int ServerProcess::stop() {
  if (pid_ == 0) return -1;
  if (!exited_) askToEnd(pid_);
  reap(true);
  return exit_code_;
}

void ServerProcess::kill() {
  if (pid_ == 0) return;
  if (!exited_) ::kill(pid_, SIGKILL);
  reap(true);
}

int ServerProcess::followHandover(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= until) {
      throw std::runtime_error("busbar (pid " + std::to_string(pid_) + ") still runs " +
                               std::to_string(deadline.count()) +
                               " ms after the reload; its output:\n" + output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int old_exit = exit_code_;
  for (;;) {
    try {
      auto health = httpRequestWithin(Poco::Timespan(5, 0), admin_port_, "GET", "/health", "",
                                      "application/json", {});
      Poco::JSON::Parser parser;
      auto body = parser.parse(health.body).extract<Poco::JSON::Object::Ptr>();
      pid_ = body->getObject("process")->getValue<int>("pid");
      track(pid_);
      exited_ = false;
      exit_code_ = -1;
      return old_exit;
    } catch (const std::exception& error) {
      if (std::chrono::steady_clock::now() >= until) {
        throw std::runtime_error("no busbar serves on admin port " + std::to_string(admin_port_) +
                                 " after the reload (" + error.what() + "); the output:\n" +
                                 output());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void ServerProcess::signal(int signal) const {
  if (pid_ != 0 && !exited_) sendSignal(pid_, signal);
}

std::string ServerProcess::output() const { return readFile(log_file_); }

std::string ServerProcess::failureReport() const {
  const std::string all = output();
  std::istringstream lines(all);
  std::string errors;
  for (std::string line; std::getline(lines, line);) {
    for (const char* level : {" Error ", " Critical ", " Fatal "}) {
      if (line.find(level) != std::string::npos) {
        errors += line + "\n";
        break;
      }
    }
  }
  return "its errors:\n" + (errors.empty() ? std::string("(none)\n") : errors) +
         "its whole output:\n" + all;
}

ChildProcess::ChildProcess(std::string program, std::vector<std::string> args, std::string work_dir)
    : program_(std::move(program)),
      args_(std::move(args)),
      work_dir_(std::move(work_dir)),
      log_file_(Poco::TemporaryFile::tempName() + ".log") {}

ChildProcess::~ChildProcess() {
  try {
    if (running()) {
      ::kill(pid_, SIGKILL);
      reap(true);
    }
    Poco::File log(log_file_);
    if (log.exists()) log.remove();
  } catch (...) {
    // A destructor must not throw; the kernel still kills the process when the test ends.
  }
}

void ChildProcess::start() {
  if (running()) throw std::logic_error("ChildProcess::start: " + program_ + " still runs");
  pid_ = launchProgram(program_, args_, log_file_, {}, work_dir_);
  exited_ = false;
  exit_code_ = -1;
}

int ChildProcess::stop() {
  if (pid_ == 0) return -1;
  if (!exited_) askToEnd(pid_);
  reap(true);
  return exit_code_;
}

void ChildProcess::signal(int signal) const {
  if (pid_ != 0 && !exited_) sendSignal(pid_, signal);
}

bool ChildProcess::running() const { return !reap(false); }

bool ChildProcess::reap(bool block) const { return reapChild(pid_, block, exited_, exit_code_); }

std::string ChildProcess::output() const { return readFile(log_file_); }

int runBusbar(const std::vector<std::string>& args, std::string& output,
              const std::map<std::string, std::string>& env) {
  std::string log_file = Poco::TemporaryFile::tempName() + ".log";
  int code = waitFor(launch(args, log_file, env));
  output = readFile(log_file);
  Poco::File(log_file).remove();
  return code;
}

int runShell(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string refusedStart(const std::string& config_file) {
  std::string checked;
  EXPECT_EQ(runBusbar({"--config", config_file, "--check-config"}, checked), 0) << checked;
  ServerProcess server(config_file);
  EXPECT_THROW(server.start(), std::exception) << "it served";
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.stop(), 2) << server.output();
  return server.output();
}

}  // namespace busbar::testing
