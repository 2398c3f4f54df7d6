// WorkerPool: a fixed number of threads running jobs that may block (storage writes, persistent
// reads, any handler not declared never-blocking), so that the event loops never wait on them.
//
// Jobs run in the order submitted. The queue needs no bound of its own: a connection has at most
// one job at a time, so it never holds more jobs than [http] max_connections.
//
// Thread-safety: submit() from any thread; stop() from one thread, once jobs may no longer come.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace busbar::host {

class WorkerPool {
 public:
  // Called with false on a worker thread to run the job, or with true (on the thread calling
  // stop()) for a job dropped unrun because the pool stopped.
  using Job = std::function<void(bool dropped)>;

  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` for the next free worker. After stop(), the job is dropped at once.
  void submit(Job job);

  // Drops the jobs still queued, waits for the running ones to end and joins the threads.
  void stop();

  // Jobs queued and not yet running.
  size_t queued() const;

 private:
  void work();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace busbar::host
