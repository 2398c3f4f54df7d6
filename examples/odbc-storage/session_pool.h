// SessionPool: a few Poco::Data ODBC sessions, lent one at a time to a caller.
//
// A session is opened when none is idle and fewer than the maximum are open; beyond that a
// caller waits for one to come back. A lease marked broken closes its session instead of
// returning it, and the idle ones with it (after an outage they are broken too), so the next
// call connects afresh: service resumes by itself once the database is back. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include <busbar/errors.h>

namespace odbc_storage {

// A session that could not be opened: the driver's SQLSTATE and message, for start() to tell
// the operator's causes apart.
class OpenFailed : public busbar::StorageUnavailable {
 public:
  OpenFailed(const std::string& state, const std::string& detail)
      : busbar::StorageUnavailable("cannot open an ODBC session (SQLSTATE " + state +
                                   "): " + detail),
        state_(state),
        detail_(detail) {}
  const std::string& state() const { return state_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string state_;
  std::string detail_;
};

class SessionPool {
 public:
  // One session lent out; gives it back (or closes it, when broken) when destroyed.
  class Lease {
   public:
    Lease(SessionPool& pool, std::unique_ptr<Poco::Data::Session> session, bool reused)
        : pool_(&pool), session_(std::move(session)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { giveBack(); }

    Poco::Data::Session& session() { return *session_; }
    // True when the session served before: it may have broken while it waited idle.
    bool reused() const { return reused_; }
    void markBroken() { broken_ = true; }
    bool broken() const { return broken_; }

   private:
    void giveBack() noexcept;

    SessionPool* pool_;
    std::unique_ptr<Poco::Data::Session> session_;
    bool reused_;
    bool broken_ = false;
  };

  // `setup`: statements run once on every new session. Opens nothing yet.
  SessionPool(std::string connection_string, int max_sessions, int connect_timeout_seconds,
              std::vector<std::string> setup);
  ~SessionPool();

  // A session, idle or new. Throws OpenFailed when none can be opened, StorageUnavailable when
  // all are lent for longer than the connect timeout.
  Lease acquire();

  // Opens one session now, to tell at start whether the database answers. Throws as acquire().
  void warmUp() { acquire(); }

 private:
  std::unique_ptr<Poco::Data::Session> open();
  void put(std::unique_ptr<Poco::Data::Session> session, bool broken) noexcept;

  const std::string connection_string_;
  const int max_sessions_;
  const int connect_timeout_seconds_;
  const std::vector<std::string> setup_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
  int open_ = 0;  // lent and idle
};

}  // namespace odbc_storage
