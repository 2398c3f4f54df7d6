// SessionPool: a bounded pool of Poco::Data sessions that throws broken ones away.
//
// Poco's own SessionPool opens sessions with a fixed 60 s login timeout and keeps a session as
// long as the session says it is connected, which a PostgreSQL session whose server went away
// still does. This pool opens sessions with the configured connect timeout, waits at most that
// long for a free session, never lends a session that was idle longer than the idle limit, and
// when a lease reports its session broken closes it together with every other session opened
// before it: the idle ones at once, the lent ones when they come back. They talked to the same
// server, over links that have most likely gone with it (a restart, a cut link), and each would
// otherwise fail once more, one caller at a time. Each session keeps its prepared
// statements (StatementCache) while it lives; schemaChanged() makes every session drop them
// before its next statement. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <Poco/Data/Session.h>

#include "dialect.h"
#include "statement_cache.h"

namespace busbar::sql {

struct PoolSettings {
  std::string connector;            // Poco::Data connector: "sqlite", "mysql", "postgresql"
  std::string connection_string;    // in the connector's format; may hold a password: never log it
  int min_sessions = 1;             // sessions warmUp() opens
  int max_sessions = 32;            // sessions open at most, lent or idle
  int connect_timeout_seconds = 5;  // bound of opening a session and of waiting for a free one
  int idle_seconds = 60;            // an idle session older than this is closed, not lent
  std::size_t statement_cache = 0;  // prepared statements each session keeps (0: none)
};

// A session and the statements prepared on it, which go before it.
struct PooledSession {
  PooledSession(std::unique_ptr<Poco::Data::Session> opened, std::unique_ptr<StatementCache> cache,
                uint64_t generation)
      : session(std::move(opened)), statements(std::move(cache)), schema_generation(generation) {}
  ~PooledSession() {
    if (statements) statements->clear();
  }

  std::unique_ptr<Poco::Data::Session> session;
  std::unique_ptr<StatementCache> statements;
  uint64_t schema_generation;  // the pool's when the statements were last valid
  uint64_t break_epoch = 0;    // the pool's broken reports when the session was opened
  // Off while the session serves transactions that begin without a statement
  // (Dialect::autocommitStatement()); new sessions have it on.
  bool autocommit = true;
};

class SessionPool {
 public:
  // A session lent by the pool; gives it back when destroyed. Movable, not copyable.
  class Lease {
   public:
    Lease(SessionPool* pool, std::unique_ptr<PooledSession> session, bool reused)
        : pool_(pool), session_(std::move(session)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    // Gives back the session held so far, then holds `other`'s.
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    ~Lease();

    // The lent session; valid for the lease's life.
    Poco::Data::Session& session() { return *session_->session; }

    // Whether the lent session has autocommit on (PooledSession::autocommit); the caller that
    // switches it says so with setAutocommit().
    bool autocommit() const { return session_->autocommit; }
    void setAutocommit(bool on) { session_->autocommit = on; }

    // The statements kept for the lent session, emptied first when the schema changed since
    // they were prepared.
    StatementCache& statements();

    // On return the session is closed instead of going back to the pool.
    void markBroken() { broken_ = true; }

    // Gives a broken session back now, so that a pool of one can lend a fresh one; nothing may
    // run on the lease afterwards (it stays broken()).
    void giveBackBroken();
    bool broken() const { return broken_; }

    // True when the session served before and waited in the pool: its server may have gone
    // away meanwhile without the session noticing.
    bool reused() const { return reused_; }

   private:
    SessionPool* pool_;
    std::unique_ptr<PooledSession> session_;
    bool reused_;
    bool broken_ = false;
  };

  // Opens nothing yet: sessions are opened on first use.
  SessionPool(PoolSettings settings, const Dialect& dialect);
  // Closes the idle sessions. Every lease must have been returned.
  ~SessionPool();

  // An idle session, or a new one: the most recently returned idle session whose autocommit is
  // `autocommit`, else the most recently returned one. Throws StorageUnavailable when a new
  // session cannot be opened or when all max_sessions stay lent for connect_timeout_seconds.
  Lease acquire(bool autocommit = true);

  // Opens sessions until min_sessions are idle. Throws StorageUnavailable when one cannot open.
  void warmUp();

  // The sessions open now, lent or idle.
  int openSessions() const;

  // A statement changed tables (CREATE, ALTER, DROP): every session drops its prepared
  // statements before it runs its next one, so that none runs on an old plan.
  void schemaChanged() { schema_generation_.fetch_add(1); }

  // What the pool did since it was made, for the metrics.
  struct Stats {
    int open = 0;                // sessions open now, lent, idle or being opened
    int in_use = 0;              // lent now
    int max = 0;                 // max_sessions
    uint64_t waits = 0;          // acquire() calls that waited for a busy pool
    uint64_t wait_timeouts = 0;  // of those, that gave up after connect_timeout
    uint64_t open_failures = 0;  // sessions that could not be opened
    uint64_t broken = 0;         // sessions closed because a lease reported them broken
    uint64_t retired = 0;        // closed when given back, opened before a broken report
  };
  Stats stats() const;

  const PoolSettings& settings() const { return settings_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::unique_ptr<PooledSession> session;
    Clock::time_point since;
  };

  // Opens a session within `timeout_seconds` and runs the dialect's setup on it;
  // StorageUnavailable on failure.
  std::unique_ptr<PooledSession> open(int timeout_seconds);
  void giveBack(std::unique_ptr<PooledSession> session, bool broken);
  // Moves the idle sessions older than idle_seconds into `expired`. Needs mutex_.
  void takeExpired(std::deque<Idle>& expired);
  // Closes sessions through the dialect, outside the lock; never throws.
  void closeAll(std::deque<Idle>& sessions) const;

  const PoolSettings settings_;
  const Dialect& dialect_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::deque<Idle> idle_;  // most recently returned at the back
  int open_ = 0;           // lent + idle + being opened
  int lent_ = 0;
  uint64_t waits_ = 0;
  uint64_t wait_timeouts_ = 0;
  uint64_t open_failures_ = 0;
  uint64_t broken_ = 0;
  uint64_t retired_ = 0;
  std::atomic<uint64_t> schema_generation_{0};
};

}  // namespace busbar::sql
