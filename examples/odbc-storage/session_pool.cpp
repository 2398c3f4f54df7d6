#include "session_pool.h"

#include <chrono>

#include <Poco/Any.h>
#include <Poco/Data/ODBC/Connector.h>

#include <busbar/errors.h>

#include "odbc_errors.h"
#include "odbc_settings.h"

namespace odbc_storage {
namespace {

// The longest text a column read may return, as OdbcSettings asks psqlODBC to declare TEXT
// (MaxLongVarcharSize), and its NUL. Poco's ODBC default is 1 KiB, shorter than many event
// payloads.
constexpr std::size_t kMaxFieldBytes = (1u << 20) + 1;

void closeQuietly(std::unique_ptr<Poco::Data::Session>& session) noexcept {
  try {
    session->close();
  } catch (...) {
    // A session of a server that is gone may fail to close; it is dropped all the same.
  }
  session.reset();
}

}  // namespace

SessionPool::Lease& SessionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    giveBack();
    pool_ = other.pool_;
    session_ = std::move(other.session_);
    reused_ = other.reused_;
    broken_ = other.broken_;
  }
  return *this;
}

void SessionPool::Lease::giveBack() noexcept {
  if (session_) pool_->put(std::move(session_), broken_);
}

SessionPool::SessionPool(std::string connection_string, int max_sessions,
                         int connect_timeout_seconds, std::vector<std::string> setup)
    : connection_string_(std::move(connection_string)),
      max_sessions_(max_sessions),
      connect_timeout_seconds_(connect_timeout_seconds),
      setup_(std::move(setup)) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::ODBC::Connector::registerConnector(); });
}

SessionPool::~SessionPool() {
  for (auto& session : idle_) closeQuietly(session);
}

SessionPool::Lease SessionPool::acquire() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool any = returned_.wait_for(lock, std::chrono::seconds(connect_timeout_seconds_),
                                        [&] { return !idle_.empty() || open_ < max_sessions_; });
    if (!any) {
      throw busbar::StorageUnavailable(
          "all " + std::to_string(max_sessions_) + " ODBC sessions stayed busy for " +
          std::to_string(connect_timeout_seconds_) + " s; raise [storage] pool.max");
    }
    if (!idle_.empty()) {
      auto session = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(session), true);
    }
    ++open_;  // reserved while it connects, outside the lock
  }
  try {
    return Lease(*this, open(), false);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
    returned_.notify_one();
    throw;
  }
}

std::unique_ptr<Poco::Data::Session> SessionPool::open() {
  std::unique_ptr<Poco::Data::Session> session;
  try {
    session =
        std::make_unique<Poco::Data::Session>(Poco::Data::ODBC::Connector::KEY, connection_string_,
                                              static_cast<std::size_t>(connect_timeout_seconds_));
    session->setProperty("maxFieldSize", Poco::Any(kMaxFieldBytes));
    for (const auto& statement : setup_) {
      Poco::Data::Statement run(*session);
      run << statement;
      run.execute();
    }
  } catch (const Poco::Exception& error) {
    if (session) closeQuietly(session);
    // Whatever stops a connect is the database's unavailability to the caller; the plugin's
    // start() tells the operator's causes (a wrong password, no such database) apart.
    // Poco's message quotes the connection string, password and all.
    std::string detail = describe(error);
    for (auto at = detail.find(connection_string_); at != std::string::npos;
         at = detail.find(connection_string_, at)) {
      const std::string hidden = withoutPassword(connection_string_);
      detail.replace(at, connection_string_.size(), hidden);
      at += hidden.size();
    }
    throw OpenFailed(sqlState(error), detail);
  }
  return session;
}

void SessionPool::put(std::unique_ptr<Poco::Data::Session> session, bool broken) noexcept {
  std::vector<std::unique_ptr<Poco::Data::Session>> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken) {
      closing.swap(idle_);
      closing.push_back(std::move(session));
      open_ -= static_cast<int>(closing.size());
    } else {
      try {
        idle_.push_back(std::move(session));
      } catch (...) {
        closing.push_back(std::move(session));
        --open_;
      }
    }
  }
  returned_.notify_all();
  // Closed outside the lock: a close may wait on a dead server's socket.
  for (auto& dead : closing) closeQuietly(dead);
}

}  // namespace odbc_storage
