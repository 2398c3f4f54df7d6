// WorkerPool: a fixed number of threads running jobs that may block (storage writes, persistent
// reads, any handler not declared never-blocking), so that the event loops never wait on them.
//
// Jobs run in the order submitted. The queue holds at most `max_queued` jobs: past it submit()
// refuses at once, so that a stuck backend turns new blocking requests away (the caller answers
// 503) instead of piling up their bodies while they wait. A job not started yet can be taken
// back (its request's deadline passed): it leaves the queue at once, freeing its place, and is
// never called. The pool counts how long jobs waited.
//
// Thread-safety: submit(), takeBack() and the counters from any thread; stop() from one thread,
// once jobs may no longer come.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace busbar::host {

class WorkerPool {
 public:
  // Called with false on a worker thread to run the job, or with true (on the thread calling
  // stop()) for a job dropped unrun because the pool stopped.
  using Job = std::function<void(bool dropped)>;
  // One submitted job, to take it back with.
  class Ticket;

  explicit WorkerPool(int threads, size_t max_queued = std::numeric_limits<size_t>::max());
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` for the next free worker and returns its ticket. When max_queued jobs wait
  // already, returns null and the job is neither kept nor called. After stop(), the job is
  // dropped at once (called with true) and a ticket is returned.
  std::shared_ptr<Ticket> submit(Job job);

  // True when the job had not started: it left the queue and will never be called. False when a
  // worker took it or stop() dropped it: it is, or was, called.
  bool takeBack(const std::shared_ptr<Ticket>& ticket);

  // Drops the jobs still queued, waits for the running ones to end and joins the threads.
  void stop();

  // Jobs queued and not yet running.
  size_t queued() const;
  // Jobs running on a worker now.
  size_t running() const;
  // How long the oldest queued job has waited (0 when none waits).
  std::chrono::nanoseconds oldestWait() const;
  // Jobs that left the queue for a worker, and the time they waited there, in total.
  uint64_t started() const;
  std::chrono::nanoseconds waited() const;

 private:
  struct Queued {
    Job job;
    std::chrono::steady_clock::time_point since;
    std::shared_ptr<Ticket> ticket;
  };

  void work();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Queued> jobs_;
  bool stopping_ = false;
  uint64_t started_ = 0;
  std::atomic<size_t> running_{0};
  std::chrono::nanoseconds waited_{0};
  std::vector<std::thread> threads_;
};

class WorkerPool::Ticket {
 private:
  friend class WorkerPool;
  bool queued = false;                   // under the pool's mutex
  std::list<Queued>::iterator position;  // in jobs_ while queued
};

}  // namespace busbar::host
