#include "ops/storage_probe.h"

namespace busbar::host {

StorageProbe::StorageProbe(std::shared_ptr<Connection> storage, std::chrono::milliseconds interval,
                           std::chrono::milliseconds overdue, Poco::Logger& logger)
    : storage_(std::move(storage)), interval_(interval), overdue_(overdue), logger_(logger) {}

StorageProbe::~StorageProbe() { stop(); }

void StorageProbe::start() {
  if (!storage_ || worker_.running()) return;
  {
    std::unique_lock<std::mutex> lock(worker_.mutex());
    probe(lock);
  }
  worker_.start("bb-db-probe", [this] { run(); });
}

void StorageProbe::stop() noexcept { worker_.stop(); }

std::string StorageProbe::problem() const {
  if (!storage_) return "";
  std::lock_guard<std::mutex> lock(worker_.mutex());
  if (running_since_ != Clock::time_point{}) {
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - running_since_);
    if (waited > overdue_) {
      return "the " + storage_->driver() + " database has not answered SELECT 1 for " +
             std::to_string(waited.count()) + " ms";
    }
  }
  if (!probed_) return "the " + storage_->driver() + " database has not been probed yet";
  return problem_;
}

void StorageProbe::run() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  for (;;) {
    worker_.waitFor(lock, interval_);
    if (worker_.stopping()) return;
    probe(lock);
  }
}

void StorageProbe::probe(std::unique_lock<std::mutex>& lock) {
  running_since_ = Clock::now();
  lock.unlock();
  std::string problem;
  try {
    storage_->execute("SELECT 1");
  } catch (const std::exception& error) {
    problem = "the " + storage_->driver() + " database does not answer: " + error.what();
  }
  lock.lock();
  running_since_ = Clock::time_point{};
  const bool changed = probed_ ? problem.empty() != problem_.empty() : !problem.empty();
  if (changed && problem.empty()) {
    logger_.information("the " + storage_->driver() + " database answers again");
  } else if (changed) {
    logger_.warning(problem + "; this server is not ready (GET /readyz) until it does");
  }
  probed_ = true;
  problem_ = problem;
}

}  // namespace busbar::host
