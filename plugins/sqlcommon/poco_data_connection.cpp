#include "poco_data_connection.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "busbar/errors.h"

namespace busbar::sql {
namespace {

using Poco::Data::Keywords::bind;

Value toValue(const Poco::Dynamic::Var& var) {
  if (var.isEmpty()) return std::monostate{};
  if (var.isInteger() || var.isBoolean()) return static_cast<int64_t>(var.convert<Poco::Int64>());
  if (var.isNumeric()) return var.convert<double>();
  return var.convert<std::string>();
}

void bindValue(Poco::Data::Statement& statement, const Value& value) {
  if (const auto* integer = std::get_if<int64_t>(&value)) {
    statement, bind(static_cast<Poco::Int64>(*integer));
  } else if (const auto* real = std::get_if<double>(&value)) {
    statement, bind(*real);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    statement, bind(*text);
  } else {
    statement, bind(Poco::Nullable<std::string>());
  }
}

// Keeps a broken session out of the pool. Closing a pooled session only puts it back, and the
// pool keeps it while the session says it is connected, which a PostgreSQL session whose server
// went away still does; reconnecting either repairs it or leaves it disconnected, and then the
// pool drops it.
void discard(Poco::Data::Session& session) {
  try {
    session.reconnect();
  } catch (...) {
    // Still broken: the pool sees it disconnected and drops it on close().
  }
  try {
    session.close();
  } catch (...) {
  }
}

[[noreturn]] void rethrowMapped(const Dialect& dialect, const Poco::Exception& error) {
  if (dialect.isDuplicateKey(error)) throw DuplicateKey(error.displayText());
  if (dialect.isUnavailable(error)) throw StorageUnavailable(error.displayText());
  throw StorageError(error.displayText());
}

void rollbackOrDiscard(Poco::Data::Session& session) {
  try {
    session.rollback();
  } catch (...) {
    discard(session);
  }
}

// The Connection of one transaction: every statement on the transaction's session.
class SessionConnection : public StatementConnection {
 public:
  SessionConnection(std::string driver, const Dialect& dialect, Poco::Data::Session& session)
      : StatementConnection(dialect), driver_(std::move(driver)), session_(session) {}

  std::string driver() const override { return driver_; }

  // Joins the outer transaction.
  void transaction(const std::function<void(Connection&)>& work) override { work(*this); }

 protected:
  ExecuteResult run(const std::string& sql, const std::vector<Value>& params) override {
    return runOnSession(session_, dialect(), sql, params);
  }

 private:
  std::string driver_;
  Poco::Data::Session& session_;
};

}  // namespace

ExecuteResult runOnSession(Poco::Data::Session& session, const Dialect& dialect,
                           const std::string& sql, const std::vector<Value>& params) {
  try {
    Poco::Data::Statement statement(session);
    statement << dialect.rewritePlaceholders(sql);
    for (const auto& value : params) bindValue(statement, value);
    ExecuteResult result;
    result.affected = statement.execute();
    if (statement.columnsExtracted() > 0) {
      result.affected = 0;
      Poco::Data::RecordSet records(statement);
      const std::size_t columns = records.columnCount();
      std::vector<std::string> names;
      for (std::size_t column = 0; column < columns; ++column) {
        names.push_back(records.columnName(column));
      }
      result.rows.reserve(records.rowCount());
      for (std::size_t row = 0; row < records.rowCount(); ++row) {
        Row out;
        for (std::size_t column = 0; column < columns; ++column) {
          out.emplace(names[column], toValue(records.value(column, row)));
        }
        result.rows.push_back(std::move(out));
      }
    }
    return result;
  } catch (const Poco::Exception& error) {
    rethrowMapped(dialect, error);
  }
}

PocoDataConnection::PocoDataConnection(std::string driver, std::unique_ptr<Dialect> dialect,
                                       PoolSettings pool)
    : StatementConnection(*dialect),
      driver_(std::move(driver)),
      dialect_owned_(std::move(dialect)),
      settings_(std::move(pool)),
      pool_(std::make_unique<Poco::Data::SessionPool>(
          settings_.connector, settings_.connection_string, settings_.min_sessions,
          settings_.max_sessions, settings_.idle_seconds)) {}

PocoDataConnection::~PocoDataConnection() {
  try {
    pool_->shutdown();
  } catch (...) {
    // Closing sessions of a database that is gone must not throw from a destructor.
  }
}

Poco::Data::Session PocoDataConnection::borrow() {
  try {
    Poco::Data::Session session = pool_->get();
    for (const auto& setup : dialect().sessionSetup()) session << setup, Poco::Data::Keywords::now;
    return session;
  } catch (const Poco::Data::SessionPoolExhaustedException& error) {
    throw StorageUnavailable("all " + std::to_string(settings_.max_sessions) +
                             " database sessions are busy: " + error.displayText());
  } catch (const Poco::Exception& error) {
    throw StorageUnavailable("cannot open a " + driver_ + " session: " + error.displayText());
  }
}

ExecuteResult PocoDataConnection::run(const std::string& sql, const std::vector<Value>& params) {
  Poco::Data::Session session = borrow();
  try {
    return runOnSession(session, dialect(), sql, params);
  } catch (const StorageUnavailable&) {
    discard(session);
    throw;
  }
}

void PocoDataConnection::transaction(const std::function<void(Connection&)>& work) {
  Poco::Data::Session session = borrow();
  try {
    session.begin();
  } catch (const Poco::Exception& error) {
    discard(session);
    rethrowMapped(dialect(), error);
  }
  SessionConnection bound(driver_, dialect(), session);
  try {
    work(bound);
    session.commit();
  } catch (const Poco::Exception& error) {
    rollbackOrDiscard(session);
    rethrowMapped(dialect(), error);
  } catch (const StorageUnavailable&) {
    discard(session);
    throw;
  } catch (...) {
    rollbackOrDiscard(session);
    throw;
  }
}

}  // namespace busbar::sql
