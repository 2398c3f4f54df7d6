#include "server_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
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

extern char** environ;

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

// What one launch needs, prepared before fork(): the child may only make async-signal-safe
// calls, so every string and array is built here.
struct LaunchSpec {
  std::string program;
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // "NAME=value"
  std::string log_file;
  std::string work_dir;
};

// The children this test process waits for itself: those it started, and the new processes of
// reloads it follows. As a subreaper it also becomes the parent of other orphans: a database
// server a test started in a session of its own (setsid), once killed, would linger as a zombie
// that kill -0 still finds. The launcher thread reaps those: zombie children in another session
// that nobody tracks (a shell command's child, in this session, is left to its pclose).
// Never destroyed, as the launcher: its detached thread may still read them while the process
// exits and runs the static destructors.
std::mutex& tracked_mutex = *new std::mutex;
std::set<pid_t>& tracked_children = *new std::set<pid_t>;

void track(pid_t pid) {
  std::lock_guard<std::mutex> lock(tracked_mutex);
  tracked_children.insert(pid);
}

void untrack(pid_t pid) {
  std::lock_guard<std::mutex> lock(tracked_mutex);
  tracked_children.erase(pid);
}

// Reaps the zombie children of this process that nobody tracks.
void reapOrphans() {
  const pid_t self = ::getpid();
  const long own_session = ::getsid(0);
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos) continue;
    std::istringstream fields(line.substr(comm_end + 1));
    char state = 0;
    long parent = 0;
    long group = 0;
    long session = 0;
    if (!(fields >> state >> parent >> group >> session) || state != 'Z' || parent != self ||
        session == own_session) {
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(tracked_mutex);
      if (tracked_children.count(static_cast<pid_t>(pid)) != 0) continue;
    }
    ::waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG);
  }
  ::closedir(proc);
}

// Forks and execs `spec` on the calling thread, which becomes the child's "parent" for
// PR_SET_PDEATHSIG. Returns the child's pid once it has exec'd; throws when it could not.
pid_t forkExec(const LaunchSpec& spec) {
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : spec.envp) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int log = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    throw std::runtime_error("cannot open " + spec.log_file + ": " + std::strerror(errno));
  }
  // The child writes errno here when exec fails; a successful exec closes it (O_CLOEXEC).
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    ::close(log);
    throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died before the line above: then nobody would send the signal.
    if (::getppid() != parent) ::_exit(127);
    // A variable set to kOwnPid gets the pid of this process, as systemd sets WATCHDOG_PID. In
    // the child of a fork, before exec: written by hand, without allocating.
    static char own_pid_entries[4][64];
    size_t own_pid_used = 0;
    for (char*& entry : envp) {
      if (entry == nullptr || own_pid_used == 4) continue;
      const char* equals = std::strchr(entry, '=');
      if (equals == nullptr || std::strcmp(equals + 1, kOwnPid) != 0) continue;
      char* out = own_pid_entries[own_pid_used++];
      const size_t name = static_cast<size_t>(equals - entry) + 1;
      if (name + 12 > sizeof own_pid_entries[0]) continue;
      std::memcpy(out, entry, name);
      char digits[12];
      int count = 0;
      for (long pid = ::getpid(); pid > 0; pid /= 10)
        digits[count++] = static_cast<char>('0' + pid % 10);
      for (int i = 0; i < count; ++i) out[name + static_cast<size_t>(i)] = digits[count - 1 - i];
      out[name + static_cast<size_t>(count)] = '\0';
      entry = out;
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0 ||
        ::chdir(spec.work_dir.c_str()) != 0) {
      int error = errno;
      (void)!::write(status[1], &error, sizeof(error));
      ::_exit(127);
    }
    // Descriptors other threads of the test opened without O_CLOEXEC (sockets, listening ports
    // of other servers) must not stay open in busbar. Best effort: close_range needs Linux 5.11.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    // As an operator's shell would start it: no blocked signals (the launcher thread blocks
    // them all) and default dispositions.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &fallback, nullptr);
    ::execve(spec.program.c_str(), argv.data(), envp.data());
    int error = errno;
    (void)!::write(status[1], &error, sizeof(error));
    ::_exit(127);
  }
  const int fork_error = errno;
  if (pid > 0) track(pid);  // before the launcher thread looks for orphans again
  ::close(log);
  ::close(status[1]);
  if (pid < 0) {
    ::close(status[0]);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(fork_error));
  }
  int error = 0;
  ssize_t got;
  do {
    got = ::read(status[0], &error, sizeof(error));
  } while (got < 0 && errno == EINTR);
  ::close(status[0]);
  if (got > 0) {
    int ignored;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    throw std::runtime_error("cannot run " + spec.program + " in " + spec.work_dir + ": " +
                             std::strerror(error));
  }
  return pid;
}

// The thread that forks every busbar process of this test process (see server_process.h).
class Launcher {
 public:
  // The launcher of the calling process, started on first use.
  static Launcher& get() {
    static std::mutex mutex;
    static Launcher* launcher = nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    // A process made by fork() has no copy of the launcher thread: it gets one of its own.
    // Never deleted: the thread must live until the process ends, past static destructors.
    if (launcher == nullptr || launcher->owner_ != ::getpid()) launcher = new Launcher();
    return *launcher;
  }

  // Has the launcher thread fork and exec `spec`; returns the pid or throws what it threw.
  pid_t launch(const LaunchSpec& spec) {
    std::packaged_task<pid_t()> task([&spec] { return forkExec(spec); });
    std::future<pid_t> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return result.get();
  }

 private:
  Launcher() : owner_(::getpid()) {
    // Orphans of busbar processes (the new process of a handover, once the old one exits) become
    // children of this process, which can then wait for and kill them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // The thread starts with every signal blocked, so that none meant for the test lands on it;
    // children unblock them before exec.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &previous);
    std::thread([this] { run(); }).detach();
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  void run() {
    for (;;) {
      std::packaged_task<pid_t()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!wake_.wait_for(lock, std::chrono::milliseconds(100),
                            [this] { return !tasks_.empty(); })) {
          lock.unlock();
          reapOrphans();
          continue;
        }
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  const pid_t owner_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<pid_t()>> tasks_;
};

// Starts `program` ARGS with `env` added to this process's environment, stdin from /dev/null and
// stdout and stderr appended to `log_file`, in `work_dir`.
pid_t launchProgram(const std::string& program, const std::vector<std::string>& args,
                    const std::string& log_file, const std::map<std::string, std::string>& env,
                    const std::string& work_dir) {
  LaunchSpec spec;
  spec.program = program;
  spec.argv.push_back(spec.program);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    auto equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : env) environment[name] = value;
  for (const auto& [name, value] : environment) spec.envp.push_back(name + "=" + value);
  spec.log_file = log_file;
  spec.work_dir = work_dir;
  return Launcher::get().launch(spec);
}

// build/bin/busbar ARGS, in the build folder.
pid_t launch(const std::vector<std::string>& args, const std::string& log_file,
             const std::map<std::string, std::string>& env) {
  return launchProgram(buildDir() + "/bin/busbar", args, log_file, env, buildDir());
}

int exitCode(int status);

// Reaps `pid` (blocking or not); false while it runs. Records its end in `exited` and `code`.
bool reapChild(pid_t pid, bool block, bool& exited, int& code) {
  if (pid == 0 || exited) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return false;
  untrack(pid);
  exited = true;
  code = got == pid ? exitCode(status) : -1;  // -1: someone else reaped it (ECHILD)
  return true;
}

// How a waitpid() status ended: the exit code, or 256 + the signal.
int exitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 256 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` to end; its exit code as exitCode() gives it.
int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::runtime_error("waitpid(" + std::to_string(pid) +
                               ") failed: " + std::strerror(errno));
    }
  }
  return exitCode(status);
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
  if (!exited_) ::kill(pid_, SIGTERM);
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
  if (pid_ != 0 && !exited_) ::kill(pid_, signal);
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
  if (!exited_) ::kill(pid_, SIGTERM);
  reap(true);
  return exit_code_;
}

void ChildProcess::signal(int signal) const {
  if (pid_ != 0 && !exited_) ::kill(pid_, signal);
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

}  // namespace busbar::testing
