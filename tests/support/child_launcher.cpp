#include "child_launcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace busbar::testing {
namespace {

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

// The thread that forks every child process of this test process (see child_launcher.h).
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

}  // namespace

void track(pid_t pid) {
  std::lock_guard<std::mutex> lock(tracked_mutex);
  tracked_children.insert(pid);
}

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

int exitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 256 + WTERMSIG(status);
  return -1;
}

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

}  // namespace busbar::testing
