#include "odbc_errors.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/ODBC/ODBCException.h>

#include <busbar/errors.h>

namespace odbc_storage {
namespace {

template <typename Diagnostics>
std::string firstState(const Diagnostics& diagnostics) {
  return diagnostics.count() > 0 ? diagnostics.sqlState(0) : "";
}

bool connected(Poco::Data::Session& session) {
  try {
    return session.isConnected();
  } catch (...) {
    return false;
  }
}

}  // namespace

std::string sqlState(const Poco::Exception& error) {
  using namespace Poco::Data::ODBC;
  if (const auto* statement = dynamic_cast<const StatementException*>(&error)) {
    return firstState(statement->diagnostics());
  }
  if (const auto* connection = dynamic_cast<const ConnectionException*>(&error)) {
    return firstState(connection->diagnostics());
  }
  if (error.nested() != nullptr) return sqlState(*error.nested());
  // Poco's session constructor rethrows a failed connect as ConnectionFailedException, whose
  // message alone still carries the driver's diagnostics ("SQLSTATE = 08001 ...").
  const std::string text = error.message();
  const std::string marker = "SQLSTATE = ";
  const auto at = text.find(marker);
  if (at == std::string::npos || at + marker.size() + 5 > text.size()) return "";
  return text.substr(at + marker.size(), 5);
}

Failure classify(const Poco::Exception& error, Poco::Data::Session& session) {
  const std::string state = sqlState(error);
  if (state == "23505") return Failure::kDuplicateKey;  // unique_violation
  // Class 08: connection exception; 57P01-57P03: the server shuts down or restarts; 53300: too
  // many connections. A driver that says nothing useful still leaves a dead session behind.
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300" || !connected(session)) {
    return Failure::kUnavailable;
  }
  // serialization_failure, deadlock_detected, lock_not_available (lock_timeout ran out)
  if (state == "40001" || state == "40P01" || state == "55P03") return Failure::kConflict;
  return Failure::kOther;
}

void throwFailure(Failure failure, const std::string& message) {
  switch (failure) {
    case Failure::kDuplicateKey:
      throw busbar::DuplicateKey(message);
    case Failure::kUnavailable:
      throw busbar::StorageUnavailable(message);
    case Failure::kConflict:
      throw busbar::TransactionConflict(message);
    case Failure::kOther:
      break;
  }
  throw busbar::StorageError(message);
}

std::string describe(const Poco::Exception& error) {
  std::string text = error.displayText();
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace odbc_storage
