#include "session_pool.h"

#include <algorithm>

#include <Poco/Data/Statement.h>

#include "busbar/errors.h"

namespace busbar::sql {

SessionPool::Lease::~Lease() {
  if (pool_ != nullptr && session_) pool_->giveBack(std::move(session_), broken_);
}

SessionPool::Lease& SessionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr && session_) pool_->giveBack(std::move(session_), broken_);
    pool_ = other.pool_;
    session_ = std::move(other.session_);
    reused_ = other.reused_;
    broken_ = other.broken_;
  }
  return *this;
}

void SessionPool::Lease::giveBackBroken() {
  broken_ = true;
  if (pool_ != nullptr && session_) pool_->giveBack(std::move(session_), true);
}

StatementCache& SessionPool::Lease::statements() {
  const uint64_t now = pool_->schema_generation_.load();
  if (session_->schema_generation != now) {
    session_->statements->clear();
    session_->schema_generation = now;
  }
  return *session_->statements;
}

SessionPool::SessionPool(PoolSettings settings, const Dialect& dialect)
    : settings_(std::move(settings)), dialect_(dialect) {}

SessionPool::~SessionPool() {
  std::deque<Idle> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle.swap(idle_);
  }
  closeAll(idle);
}

std::unique_ptr<PooledSession> SessionPool::open(int timeout_seconds) {
  try {
    dialect_.beforeOpen(settings_.connection_string);
    auto session =
        std::make_unique<Poco::Data::Session>(settings_.connector, settings_.connection_string,
                                              static_cast<std::size_t>(timeout_seconds));
    for (const auto& setup : dialect_.sessionSetup()) {
      Poco::Data::Statement statement(*session);
      statement << setup;
      statement.execute();
    }
    return std::make_unique<PooledSession>(std::move(session),
                                           dialect_.makeStatementCache(settings_.statement_cache),
                                           schema_generation_.load());
  } catch (const Poco::Exception& error) {
    throw StorageUnavailable("cannot open a " + settings_.connector +
                             " session: " + error.displayText());
  }
}

SessionPool::Lease SessionPool::acquire(bool autocommit) {
  std::deque<Idle> expired;
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + std::chrono::seconds(settings_.connect_timeout_seconds);
  bool waited = false;
  for (;;) {
    takeExpired(expired);
    if (!idle_.empty()) {
      auto same = std::find_if(idle_.rbegin(), idle_.rend(), [autocommit](const Idle& idle) {
        return idle.session->autocommit == autocommit;
      });
      auto chosen = same == idle_.rend() ? std::prev(idle_.end()) : std::prev(same.base());
      auto session = std::move(chosen->session);
      idle_.erase(chosen);
      ++lent_;
      lock.unlock();
      closeAll(expired);
      return Lease(this, std::move(session), true);
    }
    if (open_ < settings_.max_sessions) {
      ++open_;
      ++lent_;
      const uint64_t epoch = broken_;
      lock.unlock();
      closeAll(expired);
      // What is left of connect_timeout after any wait, in whole seconds rounded up, at least 1.
      auto left = std::chrono::ceil<std::chrono::seconds>(deadline - Clock::now());
      int timeout = std::max(1, static_cast<int>(left.count()));
      try {
        auto session = open(timeout);
        session->break_epoch = epoch;
        return Lease(this, std::move(session), false);
      } catch (...) {
        lock.lock();
        --open_;
        --lent_;
        ++open_failures_;
        returned_.notify_one();
        throw;
      }
    }
    if (!waited) {
      waited = true;
      ++waits_;
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= settings_.max_sessions) {
      ++wait_timeouts_;
      lock.unlock();
      closeAll(expired);
      throw StorageUnavailable("all " + std::to_string(settings_.max_sessions) + " " +
                               settings_.connector + " sessions stayed busy for " +
                               std::to_string(settings_.connect_timeout_seconds) + " s");
    }
  }
}

void SessionPool::warmUp() {
  std::vector<Lease> leases;
  for (int i = 0; i < settings_.min_sessions; ++i) leases.push_back(acquire());
}

int SessionPool::openSessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_;
}

SessionPool::Stats SessionPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats stats;
  stats.open = open_;
  stats.in_use = lent_;
  stats.max = settings_.max_sessions;
  stats.waits = waits_;
  stats.wait_timeouts = wait_timeouts_;
  stats.open_failures = open_failures_;
  stats.broken = broken_;
  stats.retired = retired_;
  return stats;
}

void SessionPool::giveBack(std::unique_ptr<PooledSession> session, bool broken) {
  std::deque<Idle> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --lent_;
    if (broken) {
      ++broken_;
      closing.swap(idle_);
      closing.push_back({std::move(session), Clock::now()});
      open_ -= static_cast<int>(closing.size());
    } else if (session->break_epoch < broken_) {
      ++retired_;
      --open_;
      closing.push_back({std::move(session), Clock::now()});
    } else {
      idle_.push_back({std::move(session), Clock::now()});
    }
  }
  returned_.notify_all();
  closeAll(closing);
}

void SessionPool::takeExpired(std::deque<Idle>& expired) {
  const auto limit = Clock::now() - std::chrono::seconds(settings_.idle_seconds);
  // The oldest are at the front.
  while (!idle_.empty() && idle_.front().since < limit) {
    expired.push_back(std::move(idle_.front()));
    idle_.pop_front();
    --open_;
  }
}

void SessionPool::closeAll(std::deque<Idle>& sessions) const {
  for (auto& idle : sessions) {
    if (!idle.session) continue;
    idle.session->statements->clear();  // they deallocate through the session
    dialect_.close(std::move(idle.session->session));
  }
  sessions.clear();
}

}  // namespace busbar::sql
