#include "server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>

namespace busbar::testing {

std::string buildDir() { return BUSBAR_TEST_BUILD_DIR; }
std::string sourceDir() { return BUSBAR_TEST_SOURCE_DIR; }

int freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

std::string requireEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(name +
                             " is not set: run the suite with scripts/test, which starts the "
                             "services and exports it");
  }
  return value;
}

HttpResult httpRequest(int port, const std::string& method, const std::string& path,
                       const std::string& body, const std::string& content_type,
                       const std::map<std::string, std::string>& headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(30, 0));
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

// Starts build/bin/busbar with stdout and stderr appended to `log_file`.
Poco::ProcessHandle launch(const std::vector<std::string>& args, const std::string& log_file,
                           const std::map<std::string, std::string>& env) {
  // Poco::Process cannot send both streams to a file, so a shell does the redirection.
  std::string command = "exec '" + buildDir() + "/bin/busbar'";
  for (const auto& arg : args) command += " '" + arg + "'";
  command += " >>'" + log_file + "' 2>&1";
  Poco::Process::Env environment(env.begin(), env.end());
  return Poco::Process::launch("/bin/sh", {"-c", command}, buildDir(), nullptr, nullptr, nullptr,
                               environment);
}

}  // namespace

ServerProcess::ServerProcess(std::string config_file, std::vector<std::string> extra_args,
                             std::map<std::string, std::string> env)
    : config_file_(std::move(config_file)),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)),
      port_(freePort()),
      log_file_(Poco::TemporaryFile::tempName() + ".log") {}

ServerProcess::~ServerProcess() {
  if (running()) kill();
  delete handle_;
  Poco::File log(log_file_);
  if (log.exists()) log.remove();
}

void ServerProcess::start(std::chrono::milliseconds deadline) {
  std::vector<std::string> args{"--config", config_file_, "--bind",
                                "127.0.0.1:" + std::to_string(port_)};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  delete handle_;
  handle_ = new Poco::ProcessHandle(launch(args, log_file_, env_));
  bool ready = eventually(
      [this] {
        if (!running()) return true;
        try {
          return httpRequest(port_, "GET", "/health").status == 200;
        } catch (...) {
          return false;
        }
      },
      deadline);
  if (!ready || !running()) {
    if (running()) kill();
    throw std::runtime_error("busbar did not become ready on port " + std::to_string(port_) +
                             "; its output:\n" + output());
  }
}

bool ServerProcess::running() const {
  return handle_ != nullptr && Poco::Process::isRunning(*handle_);
}

int ServerProcess::stop() {
  if (handle_ == nullptr) return -1;
  ::kill(handle_->id(), SIGTERM);
  return handle_->wait();
}

void ServerProcess::kill() {
  if (handle_ == nullptr) return;
  ::kill(handle_->id(), SIGKILL);
  handle_->wait();
}

std::string ServerProcess::output() const { return readFile(log_file_); }

int runBusbar(const std::vector<std::string>& args, std::string& output,
              const std::map<std::string, std::string>& env) {
  std::string log_file = Poco::TemporaryFile::tempName() + ".log";
  Poco::ProcessHandle handle = launch(args, log_file, env);
  int code = handle.wait();
  output = readFile(log_file);
  Poco::File(log_file).remove();
  return code;
}

}  // namespace busbar::testing
