#include "http/worker_pool.h"

namespace busbar::host {

WorkerPool::WorkerPool(int threads, size_t max_queued) : max_queued_(max_queued) {
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

std::shared_ptr<WorkerPool::Ticket> WorkerPool::submit(Job job) {
  auto ticket = std::make_shared<Ticket>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      if (jobs_.size() >= max_queued_) return nullptr;
      ticket->position = jobs_.insert(
          jobs_.end(), Queued{std::move(job), std::chrono::steady_clock::now(), ticket});
      ticket->queued = true;
      wake_.notify_one();
      return ticket;
    }
  }
  job(/*dropped=*/true);
  return ticket;
}

bool WorkerPool::takeBack(const std::shared_ptr<Ticket>& ticket) {
  std::list<Queued> taken;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  if (!ticket || !ticket->queued) return false;
  ticket->queued = false;
  taken.splice(taken.end(), jobs_, ticket->position);
  return true;
}

void WorkerPool::stop() {
  std::list<Queued> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(jobs_);
    for (auto& queued : dropped) queued.ticket->queued = false;
  }
  wake_.notify_all();
  for (auto& queued : dropped) queued.job(/*dropped=*/true);
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

size_t WorkerPool::running() const { return running_.load(); }

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

std::chrono::nanoseconds WorkerPool::oldestWait() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (jobs_.empty()) return std::chrono::nanoseconds(0);
  return std::chrono::steady_clock::now() - jobs_.front().since;
}

uint64_t WorkerPool::started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_;
}

std::chrono::nanoseconds WorkerPool::waited() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waited_;
}

void WorkerPool::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      Queued& front = jobs_.front();
      job = std::move(front.job);
      front.ticket->queued = false;
      ++started_;
      ++running_;
      waited_ += std::chrono::steady_clock::now() - front.since;
      jobs_.pop_front();
    }
    job(/*dropped=*/false);  // a job catches what its work throws (http_exchange.cpp)
    --running_;
  }
}

}  // namespace busbar::host
