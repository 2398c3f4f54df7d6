#include "ops/signal_waiter.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

namespace busbar::host {
namespace {

sigset_t serverSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) sigaddset(&signals, signal);
  return signals;
}

// Ends the process as `signal` does by default, from the calling thread.
[[noreturn]] void dieOf(int signal) {
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  ::sigaction(signal, &fallback, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal);
  ::pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
  ::raise(signal);
  ::_exit(128 + signal);  // not reached: the default action of every signal here ends the process
}

}  // namespace

void blockServerSignals() {
  const sigset_t signals = serverSignals();
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

SignalWaiter::SignalWaiter(Poco::Logger& logger) : logger_(logger) {
  blockServerSignals();
  thread_ = std::thread([this] { run(); });
}

SignalWaiter::~SignalWaiter() {
  // The waiting thread sleeps in sigwait for the life of the process: it is detached rather
  // than joined (nothing it holds outlives main()).
  if (thread_.joinable()) thread_.detach();
}

void SignalWaiter::run() {
  const sigset_t signals = serverSignals();
  for (;;) {
    int signal = 0;
    if (::sigwait(&signals, &signal) != 0) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    if (signal == SIGHUP || signal == SIGUSR1) {
      (signal == SIGHUP ? reload_ : reopen_logs_) = true;
      woken_.notify_all();
      continue;
    }
    if (!serving_) {
      lock.unlock();
      logger_.information(std::string(::strsignal(signal)) +
                          " before the server was serving: it ends now");
      dieOf(signal);
    }
    if (stop_) {
      lock.unlock();
      logger_.warning("a second stop signal (" + std::string(::strsignal(signal)) +
                      ") while stopping: the process ends now, without finishing the requests "
                      "in flight");
      dieOf(signal);
    }
    stop_ = true;
    woken_.notify_all();
  }
}

void SignalWaiter::markServing() {
  std::lock_guard<std::mutex> lock(mutex_);
  serving_ = true;
}

SignalWaiter::Request SignalWaiter::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  serving_ = true;
  woken_.wait(lock, [this] { return stop_ || reload_ || reopen_logs_; });
  if (stop_) return Request::kStop;
  if (std::exchange(reload_, false)) return Request::kReload;
  reopen_logs_ = false;
  return Request::kReopenLogs;
}

bool SignalWaiter::stopRequested() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

bool SignalWaiter::takeReloadRequest() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(reload_, false);
}

void SignalWaiter::armStopDeadline(std::chrono::seconds deadline,
                                   std::shared_ptr<const StopProgress> progress) {
  Poco::Logger& logger = logger_;
  // Detached: a stop that ends in time ends the process, and this thread with it.
  std::thread([&logger, deadline, progress = std::move(progress)] {
    std::this_thread::sleep_for(deadline);
    logger.error("the stop did not end within " + std::to_string(deadline.count()) +
                 " s ([http] shutdown_delay_seconds and shutdown_grace_seconds, and 10 s more): "
                 "it still waits for " +
                 progress->current() + "; the process ends now");
    ::_exit(1);
  }).detach();
}

}  // namespace busbar::host
